/*
 * cache_api.h - /api/caches on the runtime API (cache_api.c).
 */
#ifndef GATEHOUSE_CACHE_API_H
#define GATEHOUSE_CACHE_API_H

/* Adds /api/caches/... to the API (admin/api.h api_register): from main,
 * before the admin thread starts.  0, or -1. */
int cache_api_register(void);

#endif
