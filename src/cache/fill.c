/*
 * fill.c - request coalescing's registry (fill.h): a table of the fills
 * in progress, sharded by key hash, each slot a list under its mutex.
 */
#include <stdlib.h>
#include <string.h>
#include "cache/fill.h"
#include "core/hash.h"
#include "proxy/stream.h"

#define FILL_SLOTS 64

static struct {
	pthread_mutex_t lock;
	struct cache_fill *head;
} slots[FILL_SLOTS] = {
#define S0 { PTHREAD_MUTEX_INITIALIZER, NULL }
#define S4 S0, S0, S0, S0
#define S16 S4, S4, S4, S4
	S16, S16, S16, S16
};

static struct cache_fill *find(const char *key, uint32_t klen, bool create, bool *leader)
{
	uint64_t h = hash64(key, klen, 0x5157);
	unsigned i = (unsigned)(h % FILL_SLOTS);
	struct cache_fill *f;

	pthread_mutex_lock(&slots[i].lock);
	for (f = slots[i].head; f; f = f->next)
		if (f->hash == h && f->klen == klen && memcmp(f->key, key, klen) == 0)
			break;
	if (f) {
		atomic_fetch_add(&f->refs, 1);
		*leader = false;
	} else if (create && (f = calloc(1, sizeof(*f) + klen))) {
		atomic_init(&f->refs, 2);   /* the table's and the leader's */
		pthread_mutex_init(&f->lock, NULL);
		f->hash = h;
		f->klen = klen;
		memcpy(f->key, key, klen);
		f->total = UINT64_MAX;
		f->next = slots[i].head;
		slots[i].head = f;
		*leader = true;
	}
	pthread_mutex_unlock(&slots[i].lock);
	return f;
}

struct cache_fill *fill_begin(const char *key, uint32_t klen, bool *leader)
{
	return find(key, klen, true, leader);
}

struct cache_fill *fill_join(const char *key, uint32_t klen)
{
	bool leader;
	return find(key, klen, false, &leader);
}

static void unregister(struct cache_fill *f)
{
	unsigned i = (unsigned)(f->hash % FILL_SLOTS);
	bool found = false;
	pthread_mutex_lock(&slots[i].lock);
	for (struct cache_fill **pp = &slots[i].head; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			found = true;
			break;
		}
	pthread_mutex_unlock(&slots[i].lock);
	if (found)
		fill_put(f);   /* the table's reference */
}

void fill_wake_locked(struct cache_fill *f)
{
	for (struct fill_watch *w = f->watchers; w; w = w->next)
		stream_waker_post(w->k);
}

void fill_watch(struct cache_fill *f, struct fill_watch *w)
{
	pthread_mutex_lock(&f->lock);
	w->next = f->watchers;
	if (w->next)
		w->next->pprev = &w->next;
	w->pprev = &f->watchers;
	f->watchers = w;
	pthread_mutex_unlock(&f->lock);
}

void fill_unwatch(struct cache_fill *f, struct fill_watch *w)
{
	if (!w->pprev)
		return;
	pthread_mutex_lock(&f->lock);
	*w->pprev = w->next;
	if (w->next)
		w->next->pprev = w->pprev;
	pthread_mutex_unlock(&f->lock);
	w->next = NULL;
	w->pprev = NULL;
	stream_waker_put(w->k);
	w->k = NULL;
}

void fill_body(struct cache_fill *f, struct cache_obj *o, uint64_t total)
{
	cache_obj_get(o);
	pthread_mutex_lock(&f->lock);
	f->obj = o;
	f->total = total;
	f->state = FILL_BODY;
	fill_wake_locked(f);
	pthread_mutex_unlock(&f->lock);
}

void fill_end(struct cache_fill *f, enum fill_state st)
{
	pthread_mutex_lock(&f->lock);
	if (f->state == FILL_HEAD || f->state == FILL_BODY) {
		f->state = (uint8_t)st;
		fill_wake_locked(f);
	}
	pthread_mutex_unlock(&f->lock);
	unregister(f);
}

void fill_put(struct cache_fill *f)
{
	if (!f || atomic_fetch_sub(&f->refs, 1) != 1)
		return;
	cache_obj_put(f->obj);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
