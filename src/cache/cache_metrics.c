/*
 * cache_metrics.c - each cache's counters (cache_stats(), store.h) on
 * /metrics: a writer registered with the admin's metrics (admin/metrics.h,
 * metrics_register) that reads the stores the registry keeps by cache name
 * (lb/registry.h), so a scrape sees the store the running generation uses,
 * and a reload that keeps the store keeps its counters.
 *
 *   gatehouse_cache_hits_total{cache="main"}       counter
 *   gatehouse_cache_misses_total, _stores_total, _evictions_total,
 *   _purges_total, _refused_total (inserts with no room),
 *   _encodes_total (compressed variants made)   counters
 *   gatehouse_cache_bytes, _objects, _size_bytes   gauges
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "admin/metrics.h"
#include "cache/cache_metrics.h"
#include "cache/store.h"
#include "lb/registry.h"

struct snap {
	char label[160];
	struct cache_stats st;
};

struct snaps {
	struct snap *v;
	int n, cap;
};

static void take(const char *name, struct cache_store *st, void *arg)
{
	struct snaps *ss = arg;
	if (ss->n == ss->cap) {
		int cap = ss->cap ? ss->cap * 2 : 8;
		struct snap *v = realloc(ss->v, sizeof(*v) * (size_t)cap);
		if (!v)
			return;
		ss->v = v;
		ss->cap = cap;
	}
	struct snap *s = &ss->v[ss->n++];
	/* a cache name is a config word; escaped anyway (text format 0.0.4) */
	size_t o = (size_t)snprintf(s->label, sizeof(s->label), "cache=\"");
	for (const char *p = name; *p && o + 4 < sizeof(s->label); p++) {
		if (*p == '"' || *p == '\\')
			s->label[o++] = '\\';
		s->label[o++] = *p == '\n' ? 'n' : *p;
	}
	s->label[o++] = '"';
	s->label[o] = '\0';
	cache_stats(st, &s->st);
}

#define FIELD(f) offsetof(struct cache_stats, f)

static const struct {
	const char *name, *type, *help;
	size_t off;
} fams[] = {
	{ "gatehouse_cache_hits_total", "counter", "Requests answered from the cache.",
	  FIELD(hits) },
	{ "gatehouse_cache_misses_total", "counter",
	  "Cacheable requests that went to the origin (absent or stale).", FIELD(misses) },
	{ "gatehouse_cache_stores_total", "counter", "Objects stored.", FIELD(stores) },
	{ "gatehouse_cache_evictions_total", "counter", "Objects evicted to make room.",
	  FIELD(evictions) },
	{ "gatehouse_cache_purges_total", "counter", "Objects removed by purge or invalidation.",
	  FIELD(purges) },
	{ "gatehouse_cache_refused_total", "counter", "Objects not stored for lack of room.",
	  FIELD(refused) },
	{ "gatehouse_cache_encodes_total", "counter",
	  "Encoded (compressed) variants made from stored objects, once per coding.",
	  FIELD(encodes) },
	{ "gatehouse_cache_bytes", "gauge", "Bytes the cache's objects take now (headers included).",
	  FIELD(bytes) },
	{ "gatehouse_cache_objects", "gauge", "Objects in the cache now.", FIELD(objects) },
	{ "gatehouse_cache_size_bytes", "gauge", "The cache's size bound.", FIELD(size) },
};

static void write_caches(struct metrics_out *o, void *arg)
{
	struct snaps ss = { 0 };
	(void)arg;
	registry_cache_each(take, &ss);
	if (!ss.n)
		return;
	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		metrics_family(o, fams[f].name, fams[f].type, fams[f].help);
		for (int i = 0; i < ss.n; i++) {
			uint64_t v;
			memcpy(&v, (const char *)&ss.v[i].st + fams[f].off, sizeof(v));
			metrics_sample(o, fams[f].name, ss.v[i].label, (double)v);
		}
	}
	free(ss.v);
}

int cache_metrics_register(void)
{
	return metrics_register(write_caches, NULL);
}
