/*
 * obj.c - cached objects (store.h): built by one thread (the stream that
 * fetched the response), immutable once inserted, shared by reference.
 */
#include <stdlib.h>
#include <string.h>
#include "cache/store.h"

void cache_store_uncharge(struct cache_obj *o);   /* store.c */

struct cache_obj *cache_obj_new(const char *key, uint32_t klen, const char *vary_names,
				uint32_t vn_len, const char *vary_key, uint32_t vk_len)
{
	size_t sz = sizeof(struct cache_obj) + klen + vn_len + vk_len + 3;
	struct cache_obj *o = calloc(1, sz);
	if (!o)
		return NULL;
	static _Atomic uint64_t next_id = 1;
	o->magic = CACHE_OBJ_MAGIC;
	o->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
	atomic_init(&o->refs, 1);
	char *p = (char *)(o + 1);
	o->key = p;
	memcpy(p, key, klen);
	p[klen] = 0;
	o->key_len = klen;
	p += klen + 1;
	if (vn_len) {
		o->vary_names = p;
		memcpy(p, vary_names, vn_len);
		p[vn_len] = 0;
		o->vary_names_len = vn_len;
		p += vn_len + 1;
		o->vary_key = p;
		memcpy(p, vary_key, vk_len);
		p[vk_len] = 0;
		o->vary_key_len = vk_len;
	}
	o->mem = sz;
	return o;
}

bool cache_obj_add_field(struct cache_obj *o, struct slice name, struct slice value)
{
	struct cache_field *f = realloc(o->fields, (o->nfields + 1u) * sizeof(*f));
	if (!f)
		return false;
	o->fields = f;
	char *h = realloc(o->head, o->head_len + name.len + value.len);
	if (!h)
		return false;
	o->head = h;
	f[o->nfields] = (struct cache_field){ o->head_len, name.len, o->head_len + name.len,
					      value.len, (uint8_t)msg_hdr_id(name) };
	memcpy(h + o->head_len, name.p, name.len);
	memcpy(h + o->head_len + name.len, value.p, value.len);
	o->head_len += name.len + value.len;
	o->nfields++;
	o->mem += sizeof(*f) + name.len + value.len;
	return true;
}

bool cache_obj_append(struct cache_obj *o, const char *p, size_t len)
{
	struct cache_chunk **tail = &o->body, *c = NULL;
	while (*tail) {
		c = *tail;
		tail = &c->next;
	}
	while (len) {
		if (!c || c->len == c->cap) {
			c = malloc(sizeof(*c) + CACHE_CHUNK);
			if (!c)
				return false;
			c->next = NULL;
			c->len = 0;
			c->cap = CACHE_CHUNK;
			*tail = c;
			tail = &c->next;
			o->mem += sizeof(*c) + CACHE_CHUNK;
		}
		size_t n = c->cap - c->len < len ? c->cap - c->len : len;
		memcpy(c->data + c->len, p, n);
		c->len += (uint32_t)n;
		o->body_len += n;
		p += n;
		len -= n;
	}
	return true;
}

size_t cache_obj_mem(const struct cache_obj *o)
{
	return o->mem;
}

size_t cache_obj_read(const struct cache_obj *o, uint64_t off, char *dst, size_t len)
{
	size_t done = 0;
	for (const struct cache_chunk *c = o->body; c && len; c = c->next) {
		if (off >= c->len) {
			off -= c->len;
			continue;
		}
		size_t n = c->len - off < len ? c->len - off : len;
		memcpy(dst + done, c->data + off, n);
		done += n;
		len -= n;
		off = 0;
	}
	return done;
}

struct slice cache_obj_field(const struct cache_obj *o, const char *name)
{
	for (int i = 0; i < o->nfields; i++) {
		struct slice n = { o->head + o->fields[i].name, o->fields[i].name_len };
		if (slice_ieq_cstr(n, name))
			return (struct slice){ o->head + o->fields[i].value, o->fields[i].value_len };
	}
	return (struct slice){ NULL, 0 };
}

void cache_obj_put(struct cache_obj *o)
{
	if (!o || atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (o->shard)
		cache_store_uncharge(o);
	while (o->body) {
		struct cache_chunk *c = o->body;
		o->body = c->next;
		free(c);
	}
	free(o->fields);
	free(o->head);
	o->magic = 0;
	free(o);
}

void cache_obj_trim(struct cache_obj *o)
{
	struct cache_chunk **pp = &o->body;
	while (*pp && (*pp)->next)
		pp = &(*pp)->next;
	struct cache_chunk *c = *pp;
	if (!c || c->len == c->cap)
		return;
	struct cache_chunk *n = realloc(c, sizeof(*c) + c->len);
	if (!n)
		return;
	o->mem -= n->cap - n->len;
	n->cap = n->len;
	*pp = n;
}

size_t cache_obj_span(const struct cache_obj *o, uint64_t off, const char **p)
{
	for (const struct cache_chunk *c = o->body; c; c = c->next) {
		if (off < c->len) {
			*p = c->data + off;
			return c->len - off;
		}
		off -= c->len;
	}
	*p = NULL;
	return 0;
}
