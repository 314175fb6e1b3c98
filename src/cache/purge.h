/*
 * purge.h - purges of many objects at once, for the runtime API
 * (POST /api/caches/NAME/purge): every object under a URL prefix, or every
 * object whose response named a tag in its Surrogate-Key field.  Each is a
 * walk of the whole store (cache_purge_match), one shard locked at a time.
 */
#ifndef GATEHOUSE_CACHE_PURGE_H
#define GATEHOUSE_CACHE_PURGE_H

#include <stddef.h>

struct cache_store;

/* The key prefix of a URL ("http://Host[:port][/path-prefix]"): what
 * cache_key() makes of that scheme, host and target, so "http://a/img/"
 * covers every target of host a under /img/ and "http://a" all of a.
 * Returns its length, or -1 for a URL that is not http(s)://HOST... */
int cache_url_key_prefix(const char *url, char *out, size_t cap);

/* Objects whose key starts with kp[0..n) / whose Surrogate-Key lists tag
 * (space-separated, case-sensitive); returns how many were purged. */
int cache_purge_prefix(struct cache_store *st, const char *kp, size_t n);
int cache_purge_tag(struct cache_store *st, const char *tag);

#endif
