/*
 * registry.c - the process-wide runtime state of backends and servers,
 * keyed by name (registry.h says who uses it and when).
 *
 * Two levels: an array of backend entries, each with an array of its
 * server entries, searched linearly under one mutex.  Lookups happen at
 * setup (startup, a worker's or the health thread's start, later a reload),
 * a few per server, so a search costs O(backends + servers of one backend)
 * and a hash table would buy nothing worth its code.  Every entry is its own
 * allocation: the arrays may grow and be reordered, the state the workers
 * point at never moves.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "cache/store.h"
#include "config/cfg.h"
#include "core/log.h"
#include "lb/registry.h"
#include "limit/limit.h"

struct reg_server {
	char *name;
	struct server_shared sh;
	/* Added through the runtime API (registry_server_add): its own
	 * configuration, owned here because it must outlive the request that
	 * made it and live as long as the entry (workers of its generation
	 * point at it).  NULL for the file's servers. */
	struct cfg_server *added;
	/* A later generation (a reload) does not carry it: no worker adopts
	 * it any more (registry_added_servers). */
	bool dropped;
	/* Dropped and not named by that generation either: only the older
	 * generation's workers still point at it, until registry_prune().
	 * Lookups by name skip it, so the name is free for a new entry. */
	bool zombie;
};

struct reg_backend {
	char *name;
	struct backend_shared sh;
	struct reg_server **srv;
	int nsrv, cap;
	/* The backend of the generation synced last: servers are added to it
	 * only (compared, never followed: it may be gone since). */
	const struct cfg_backend *cur;
};

/* A rate-limit table by `limit` name (a reference held): a reload whose
 * limit has the same parameters gets the same table, counters and all. */
struct reg_limit {
	char *name;
	struct limit_table *t;
};

/* A cache section's store by `cache` name (a reference held): a reload
 * whose section has the same size and max_object gets the same store,
 * objects and counters included. */
struct reg_cache {
	char *name;
	struct cache_store *st;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reg_backend **reg_be;
static int reg_nbe, reg_cap;
static struct reg_limit *reg_lim;
static int reg_nlim, reg_limcap;
static struct reg_cache *reg_cache;
static int reg_ncache, reg_cachecap;

/* ---- entries (callers hold reg_lock) ---- */

/* v (n used of *cap elements of `size` bytes) with room for one more:
 * v itself, or a larger copy (*cap updated), or NULL on OOM (v intact). */
static void *grow(void *v, int n, int *cap, size_t size)
{
	if (n < *cap)
		return v;
	int ncap = *cap ? *cap * 2 : 8;
	void *nv = realloc(v, (size_t)ncap * size);
	if (nv)
		*cap = ncap;
	return nv;
}

static struct reg_backend *find_backend(const char *name)
{
	for (int i = 0; i < reg_nbe; i++)
		if (strcmp(reg_be[i]->name, name) == 0)
			return reg_be[i];
	return NULL;
}

static struct reg_server *find_server(const struct reg_backend *rb, const char *name)
{
	for (int i = 0; i < rb->nsrv; i++)
		if (!rb->srv[i]->zombie && strcmp(rb->srv[i]->name, name) == 0)
			return rb->srv[i];
	return NULL;
}

/* The configuration of a server added at run time, as registry_server_add
 * took it: a name, an address, nothing else allocated. */
static void added_cfg_free(struct cfg_server *cs)
{
	if (!cs)
		return;
	free(cs->addr.text);
	free(cs->name);
	free(cs);
}

static void server_entry_free(struct reg_server *rs)
{
	added_cfg_free(rs->added);
	free(rs->name);
	free(rs);
}

static void backend_entry_free(struct reg_backend *rb)
{
	for (int i = 0; i < rb->nsrv; i++)
		server_entry_free(rb->srv[i]);
	free(rb->srv);
	free(rb->name);
	free(rb);
}

/* A new server's state: UP (health 0), not ejected, no samples, the
 * config's weight and drain. */
static struct reg_server *server_entry_new(const struct cfg_server *cs, uint64_t now_ms)
{
	struct reg_server *rs = calloc(1, sizeof(*rs));
	if (!rs || !(rs->name = strdup(cs->name))) {
		free(rs);
		return NULL;
	}
	atomic_store(&rs->sh.weight, cs->weight);
	atomic_store(&rs->sh.admin_drain, cs->drain ? 1 : 0);
	/* A server a reload added ramps up under its slowstart, as one
	 * coming back UP does (lb_server_weight). */
	if (cs->slowstart_ms && now_ms)
		atomic_store(&rs->sh.up_since_ms, now_ms);
	return rs;
}

/* A new backend's state: no servers yet, a full retry budget. */
static struct reg_backend *backend_entry_new(const char *name)
{
	struct reg_backend *rb = calloc(1, sizeof(*rb));
	if (!rb || !(rb->name = strdup(name))) {
		free(rb);
		return NULL;
	}
	atomic_store(&rb->sh.retry_tokens_milli, RETRY_BUDGET_CAP_MILLI);
	return rb;
}

static struct reg_backend *backend_get(const char *name)
{
	struct reg_backend *rb = find_backend(name);
	if (rb)
		return rb;
	struct reg_backend **v = grow(reg_be, reg_nbe, &reg_cap, sizeof(*v));
	if (!v)
		return NULL;
	reg_be = v;
	if (!(rb = backend_entry_new(name)))
		return NULL;
	reg_be[reg_nbe++] = rb;
	return rb;
}

static int server_sync(struct reg_backend *rb, const struct cfg_server *cs, uint64_t now_ms)
{
	struct reg_server *old = find_server(rb, cs->name);
	if (old) {
		/* Kept as it is (see registry_sync()), but what the API did
		 * to the name ends: a server it removed is back, one it
		 * added is the file's from now on. */
		if (atomic_exchange(&old->sh.removed, 0))
			log_info("backend %s: server %s, removed through the API, is back (the "
				 "configuration names it)", rb->name, cs->name);
		if (old->added && !old->dropped) {
			old->dropped = true;
			log_info("backend %s: server %s, added through the API, now comes from "
				 "the configuration", rb->name, cs->name);
		}
		return 0;
	}
	struct reg_server **v = grow(rb->srv, rb->nsrv, &rb->cap, sizeof(*v));
	if (!v)
		return -1;
	rb->srv = v;
	struct reg_server *rs = server_entry_new(cs, now_ms);
	if (!rs)
		return -1;
	rb->srv[rb->nsrv++] = rs;
	return 0;
}

static bool cfg_backend_has_server(const struct cfg_backend *cb, const char *name)
{
	for (int i = 0; i < cb->nservers; i++)
		if (strcmp(cb->servers[i]->name, name) == 0)
			return true;
	return false;
}

/* Servers the API added to an older generation of rb that cb (the new
 * one) does not name: no worker of cb adopts them; said once. */
static void backend_drop_added(struct reg_backend *rb, const struct cfg_backend *cb)
{
	for (int i = 0; i < rb->nsrv; i++) {
		struct reg_server *rs = rb->srv[i];
		if (rs->added && rs->zombie && rs->added->backend == cb) {
			/* cb's own: a reload that synced its successor was
			 * refused after all (control/reload.c syncs the running
			 * generation again), so they are cb's again. */
			rs->dropped = rs->zombie = false;
			log_info("backend %s: server %s, added through the API, is kept (the "
				 "reload did not happen)", rb->name, rs->name);
			continue;
		}
		if (!rs->added || rs->dropped || rs->added->backend == cb ||
		    (cb && cfg_backend_has_server(cb, rs->name)))
			continue;   /* the file's from now on: server_sync() */
		rs->dropped = true;
		rs->zombie = true;
		log_info("backend %s: server %s (%s), added through the API, is dropped by this "
			 "reload", rb->name, rs->name, rs->added->addr.text);
	}
}

static int backend_sync(const struct cfg_backend *cb, uint64_t now_ms)
{
	struct reg_backend *rb = backend_get(cb->name);
	if (!rb)
		return -1;
	backend_drop_added(rb, cb);
	rb->cur = cb;
	for (int i = 0; i < cb->nservers; i++)
		if (server_sync(rb, cb->servers[i], now_ms) < 0)
			return -1;
	return 0;
}

/* Drops the server entries of rb that cb does not name, but those the API
 * added to cb itself (order is free: the last entry takes the place of a
 * dropped one). */
static void backend_prune(struct reg_backend *rb, const struct cfg_backend *cb)
{
	for (int i = 0; i < rb->nsrv;) {
		const struct reg_server *rs = rb->srv[i];
		if (cfg_backend_has_server(cb, rs->name) || (rs->added && !rs->dropped)) {
			i++;
			continue;
		}
		server_entry_free(rb->srv[i]);
		rb->srv[i] = rb->srv[--rb->nsrv];
	}
}

/* ---- API ---- */

static struct reg_limit *find_limit(const char *name)
{
	for (int i = 0; i < reg_nlim; i++)
		if (strcmp(reg_lim[i].name, name) == 0)
			return &reg_lim[i];
	return NULL;
}

/* l's table becomes the registry's one of its name when the parameters
 * are the same (l's fresh table is dropped), else l's becomes the one
 * kept under the name. */
static int limit_sync(struct cfg_limit *l)
{
	if (!l->table)
		return 0;
	struct limit_params lp = { .rate = l->rate, .per_ns = (uint64_t)l->per_s * 1000000000ull,
				   .burst = l->burst, .delay = l->delay,
				   .concurrent = l->concurrent, .entries = l->entries };
	struct reg_limit *rl = find_limit(l->name);
	if (rl && rl->t == l->table)
		return 0;
	if (rl && limit_table_same(rl->t, &lp)) {
		limit_table_free(l->table);
		l->table = limit_table_ref(rl->t);
		return 0;
	}
	if (rl) {
		limit_table_free(rl->t);
		rl->t = limit_table_ref(l->table);
		return 0;
	}
	struct reg_limit *v = grow(reg_lim, reg_nlim, &reg_limcap, sizeof(*v));
	if (!v)
		return -1;
	reg_lim = v;
	char *name = strdup(l->name);
	if (!name)
		return -1;
	reg_lim[reg_nlim++] = (struct reg_limit){ name, limit_table_ref(l->table) };
	return 0;
}

static struct reg_cache *find_cache(const char *name)
{
	for (int i = 0; i < reg_ncache; i++)
		if (strcmp(reg_cache[i].name, name) == 0)
			return &reg_cache[i];
	return NULL;
}

static const struct cfg_cache *cfg_cache_named(const struct cfg *c, const char *name)
{
	for (int i = 0; c && i < c->ncaches; i++)
		if (strcmp(c->caches[i]->name, name) == 0)
			return c->caches[i];
	return NULL;
}

/* As limit_sync, for a cache section's store: the one kept under its name
 * when size and max_object are the same, else k's becomes the one kept. */
static int cache_sync(struct cfg_cache *k)
{
	if (!k->store)
		return 0;
	struct reg_cache *rc = find_cache(k->name);
	if (rc && rc->st == k->store)
		return 0;
	if (rc && rc->st->size == k->store->size && rc->st->max_object == k->store->max_object) {
		cache_store_free(k->store);
		k->store = cache_store_ref(rc->st);
		return 0;
	}
	if (rc) {
		cache_store_free(rc->st);
		rc->st = cache_store_ref(k->store);
		return 0;
	}
	struct reg_cache *v = grow(reg_cache, reg_ncache, &reg_cachecap, sizeof(*v));
	if (!v)
		return -1;
	reg_cache = v;
	char *name = strdup(k->name);
	if (!name)
		return -1;
	reg_cache[reg_ncache++] = (struct reg_cache){ name, cache_store_ref(k->store) };
	return 0;
}

void registry_cache_each(void (*fn)(const char *name, struct cache_store *st, void *arg),
			 void *arg)
{
	pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < reg_ncache; i++)
		fn(reg_cache[i].name, reg_cache[i].st, arg);
	pthread_mutex_unlock(&reg_lock);
}

static int sync_at(const struct cfg *c, uint64_t now_ms)
{
	int rc = 0;

	pthread_mutex_lock(&reg_lock);
	for (int b = 0; b < c->nbackends && rc == 0; b++)
		rc = backend_sync(c->backends[b], now_ms);
	for (int i = 0; i < c->nlimits && rc == 0; i++)
		rc = limit_sync(c->limits[i]);
	for (int i = 0; i < c->ncaches && rc == 0; i++)
		rc = cache_sync(c->caches[i]);
	/* Backends the new generation dropped take their added servers. */
	for (int i = 0; i < reg_nbe; i++)
		if (!cfg_find_backend(c, reg_be[i]->name))
			backend_drop_added(reg_be[i], NULL);
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

int registry_server_add(const struct cfg_backend *be, struct cfg_server *cs, int max)
{
	int rc = 0, n = 0;

	pthread_mutex_lock(&reg_lock);
	struct reg_backend *rb = find_backend(be->name);
	if (!rb) {
		rc = -ENOENT;
		goto out;
	}
	if (rb->cur != be) {
		rc = -ESTALE;   /* a reload synced a newer generation meanwhile */
		goto out;
	}
	if (find_server(rb, cs->name)) {
		rc = -EEXIST;
		goto out;
	}
	for (int i = 0; i < rb->nsrv; i++)
		n += rb->srv[i]->added && !rb->srv[i]->dropped && rb->srv[i]->added->backend == be;
	if (n >= max) {
		rc = -ENOSPC;
		goto out;
	}
	struct reg_server **v = grow(rb->srv, rb->nsrv, &rb->cap, sizeof(*v));
	struct reg_server *rs = v ? server_entry_new(cs, 0) : NULL;
	if (v)
		rb->srv = v;
	if (!rs) {
		rc = -ENOMEM;
		goto out;
	}
	rs->added = cs;
	rb->srv[rb->nsrv++] = rs;
out:
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

int registry_added_servers(const struct cfg_backend *be, struct cfg_server **cs,
			   struct server_shared **sh, int max)
{
	int n = 0;

	pthread_mutex_lock(&reg_lock);
	struct reg_backend *rb = find_backend(be->name);
	for (int i = 0; rb && i < rb->nsrv && n < max; i++) {
		struct reg_server *rs = rb->srv[i];
		if (!rs->added || rs->dropped || rs->added->backend != be)
			continue;
		cs[n] = rs->added;
		sh[n] = &rs->sh;
		n++;
	}
	pthread_mutex_unlock(&reg_lock);
	return n;
}

int registry_sync(const struct cfg *c)
{
	return sync_at(c, 0);
}

int registry_sync_reload(const struct cfg *c, uint64_t now_ms)
{
	return sync_at(c, now_ms ? now_ms : 1);
}

struct server_shared *registry_server(const char *backend, const char *server)
{
	struct server_shared *sh = NULL;

	pthread_mutex_lock(&reg_lock);
	struct reg_backend *rb = find_backend(backend);
	struct reg_server *rs = rb ? find_server(rb, server) : NULL;
	if (rs)
		sh = &rs->sh;
	pthread_mutex_unlock(&reg_lock);
	return sh;
}

struct backend_shared *registry_backend(const char *backend)
{
	struct backend_shared *sh = NULL;

	pthread_mutex_lock(&reg_lock);
	struct reg_backend *rb = find_backend(backend);
	if (rb)
		sh = &rb->sh;
	pthread_mutex_unlock(&reg_lock);
	return sh;
}

void registry_prune(const struct cfg *keep)
{
	pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < reg_nbe;) {
		const struct cfg_backend *cb = cfg_find_backend(keep, reg_be[i]->name);
		if (cb) {
			backend_prune(reg_be[i], cb);
			i++;
			continue;
		}
		backend_entry_free(reg_be[i]);
		reg_be[i] = reg_be[--reg_nbe];
	}
	for (int i = 0; i < reg_nlim;) {
		const struct cfg_limit *l = cfg_find_limit(keep, reg_lim[i].name);
		if (l && l->table == reg_lim[i].t) {
			i++;
			continue;
		}
		limit_table_free(reg_lim[i].t);
		free(reg_lim[i].name);
		reg_lim[i] = reg_lim[--reg_nlim];
	}
	for (int i = 0; i < reg_ncache;) {
		const struct cfg_cache *k = cfg_cache_named(keep, reg_cache[i].name);
		if (k && k->store == reg_cache[i].st) {
			i++;
			continue;
		}
		cache_store_free(reg_cache[i].st);
		free(reg_cache[i].name);
		reg_cache[i] = reg_cache[--reg_ncache];
	}
	pthread_mutex_unlock(&reg_lock);
}

void registry_free(void)
{
	pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < reg_nbe; i++)
		backend_entry_free(reg_be[i]);
	free(reg_be);
	reg_be = NULL;
	reg_nbe = reg_cap = 0;
	for (int i = 0; i < reg_nlim; i++) {
		limit_table_free(reg_lim[i].t);
		free(reg_lim[i].name);
	}
	free(reg_lim);
	reg_lim = NULL;
	reg_nlim = reg_limcap = 0;
	for (int i = 0; i < reg_ncache; i++) {
		cache_store_free(reg_cache[i].st);
		free(reg_cache[i].name);
	}
	free(reg_cache);
	reg_cache = NULL;
	reg_ncache = reg_cachecap = 0;
	pthread_mutex_unlock(&reg_lock);
}
