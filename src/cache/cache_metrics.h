/*
 * cache_metrics.h - the caches' counters on /metrics (cache_metrics.c).
 */
#ifndef GH_CACHE_METRICS_H
#define GH_CACHE_METRICS_H

/* Registers the writer (admin/metrics.h metrics_register): from main,
 * before the admin thread starts.  0, or -1 when no slot is left. */
int cache_metrics_register(void);

#endif
