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
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "config/cfg.h"
#include "lb/registry.h"

struct reg_server {
	char *name;
	struct server_shared sh;
};

struct reg_backend {
	char *name;
	struct backend_shared sh;
	struct reg_server **srv;
	int nsrv, cap;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reg_backend **reg_be;
static int reg_nbe, reg_cap;

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
		if (strcmp(rb->srv[i]->name, name) == 0)
			return rb->srv[i];
	return NULL;
}

static void server_entry_free(struct reg_server *rs)
{
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
static struct reg_server *server_entry_new(const struct cfg_server *cs)
{
	struct reg_server *rs = calloc(1, sizeof(*rs));
	if (!rs || !(rs->name = strdup(cs->name))) {
		free(rs);
		return NULL;
	}
	atomic_store(&rs->sh.weight, cs->weight);
	atomic_store(&rs->sh.admin_drain, cs->drain ? 1 : 0);
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

static int server_sync(struct reg_backend *rb, const struct cfg_server *cs)
{
	if (find_server(rb, cs->name))
		return 0;   /* kept as it is: see registry_sync() */
	struct reg_server **v = grow(rb->srv, rb->nsrv, &rb->cap, sizeof(*v));
	if (!v)
		return -1;
	rb->srv = v;
	struct reg_server *rs = server_entry_new(cs);
	if (!rs)
		return -1;
	rb->srv[rb->nsrv++] = rs;
	return 0;
}

static int backend_sync(const struct cfg_backend *cb)
{
	struct reg_backend *rb = backend_get(cb->name);
	if (!rb)
		return -1;
	for (int i = 0; i < cb->nservers; i++)
		if (server_sync(rb, cb->servers[i]) < 0)
			return -1;
	return 0;
}

static bool cfg_backend_has_server(const struct cfg_backend *cb, const char *name)
{
	for (int i = 0; i < cb->nservers; i++)
		if (strcmp(cb->servers[i]->name, name) == 0)
			return true;
	return false;
}

/* Drops the server entries of rb that cb does not name (order is free:
 * the last entry takes the place of a dropped one). */
static void backend_prune(struct reg_backend *rb, const struct cfg_backend *cb)
{
	for (int i = 0; i < rb->nsrv;) {
		if (cfg_backend_has_server(cb, rb->srv[i]->name)) {
			i++;
			continue;
		}
		server_entry_free(rb->srv[i]);
		rb->srv[i] = rb->srv[--rb->nsrv];
	}
}

/* ---- API ---- */

int registry_sync(const struct cfg *c)
{
	int rc = 0;

	pthread_mutex_lock(&reg_lock);
	for (int b = 0; b < c->nbackends && rc == 0; b++)
		rc = backend_sync(c->backends[b]);
	pthread_mutex_unlock(&reg_lock);
	return rc;
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
	pthread_mutex_unlock(&reg_lock);
}
