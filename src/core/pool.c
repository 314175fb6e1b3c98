/*
 * pool.c - per-thread freelists (see pool.h).
 */
#include <stdlib.h>
#include <string.h>
#include "core/pool.h"

void pool_init(struct pool *p, const char *name, size_t size, uint32_t max_free)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->size = size < sizeof(void *) ? sizeof(void *) : size;
	p->max_free = max_free;
}

void *pool_get(struct pool *p)
{
	void *o = p->free;
	if (o) {
		p->free = *(void **)o;
		if (--p->nfree < p->low)
			p->low = p->nfree;
	} else {
		o = malloc(p->size);
		if (!o)
			return NULL;
	}
	p->allocated++;
	return o;
}

void *pool_zget(struct pool *p)
{
	void *o = pool_get(p);
	if (o)
		memset(o, 0, p->size);
	return o;
}

void pool_put(struct pool *p, void *obj)
{
	if (!obj)
		return;
	p->allocated--;
	if (p->nfree >= p->max_free) {
		free(obj);
		return;
	}
	*(void **)obj = p->free;
	p->free = obj;
	p->nfree++;
}

size_t pool_trim(struct pool *p, uint32_t keep)
{
	uint32_t n = p->low;
	size_t freed = 0;

	if (n > p->nfree - (keep < p->nfree ? keep : p->nfree))
		n = p->nfree - (keep < p->nfree ? keep : p->nfree);
	while (n--) {
		void *o = p->free;
		p->free = *(void **)o;
		p->nfree--;
		free(o);
		freed += p->size;
	}
	p->low = p->nfree;
	return freed;
}

void pool_flush(struct pool *p)
{
	while (p->free) {
		void *o = p->free;
		p->free = *(void **)o;
		free(o);
	}
	p->nfree = 0;
	p->low = 0;
}
