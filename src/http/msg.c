/*
 * msg.c - helpers on the protocol-neutral message (see msg.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/msg.h"

static inline unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* Eight bytes of a and b equal but for the case of letters: the lanes
 * that differ may only differ in bit 0x20, and only where the byte is a
 * letter (0x41..0x5a / 0x61..0x7a, i.e. (c | 0x20) in 'a'..'z'). */
static inline bool ieq8(uint64_t a, uint64_t b)
{
	const uint64_t ones = 0x0101010101010101ull, highs = ones << 7;
	uint64_t x = a ^ b;

	if (!x)
		return true;
	if (x & ~(ones * 0x20))
		return false;
	uint64_t l = a | (ones * 0x20), t = l & ~highs;
	uint64_t letter = (t + ones * (0x80 - 'a')) & ~(t + ones * (0x80 - 'z' - 1)) & ~l & highs;
	return !((x << 2) & ~letter);
}

bool slice_ieq(struct slice a, struct slice b)
{
	uint32_t n = a.len, i = 0;
	uint64_t u, v;

	if (n != b.len)
		return false;
	if (n >= 8) {
		for (; i + 8 <= n; i += 8) {
			memcpy(&u, a.p + i, 8);
			memcpy(&v, b.p + i, 8);
			if (!ieq8(u, v))
				return false;
		}
		if (i == n)
			return true;
		/* the last eight bytes, overlapping the ones compared */
		memcpy(&u, a.p + n - 8, 8);
		memcpy(&v, b.p + n - 8, 8);
		return ieq8(u, v);
	}
	for (; i < n; i++)
		if (lower((unsigned char)a.p[i]) != lower((unsigned char)b.p[i]))
			return false;
	return true;
}

bool slice_ieq_cstr(struct slice a, const char *s)
{
	size_t n = strlen(s);
	return n == a.len && slice_ieq(a, (struct slice){ s, (uint32_t)n });
}

void msg_reset(struct http_msg *m)
{
	/* Only the fixed part is cleared: hdrs[] beyond nhdrs is never read,
	 * and the store (after hdrs[]) keeps its allocation for the next
	 * message. */
	memset(m, 0, offsetof(struct http_msg, hdrs));
	for (int i = 0; i < HDR_ID_COUNT; i++)
		m->hdr_idx[i] = -1;
	m->st.used = 0;
	m->st.charged = 0;
}

void msg_init(struct http_msg *m, uint32_t store_max)
{
	m->hdrs = NULL;
	m->hdrs_cap = 0;
	memset(&m->st, 0, sizeof(m->st));
	m->st.max = store_max;
	msg_reset(m);
}

void msg_free(struct http_msg *m)
{
	uint32_t max = m->st.max;
	free(m->st.area);
	if (m->hdrs != m->hdrs_in)
		free(m->hdrs);
	msg_init(m, max);
}

bool msg_hdr_grow(struct http_msg *m)
{
	const uint16_t most = HTTP_MAX_HDRS + HTTP_HDRS_ADDED;

	if (!m->hdrs) {
		m->hdrs = m->hdrs_in;
		m->hdrs_cap = HTTP_HDRS_INLINE;
	}
	if (m->nhdrs < m->hdrs_cap)
		return true;
	if (m->hdrs_cap >= most)
		return false;
	uint16_t cap = m->hdrs_cap * 2 < most ? (uint16_t)(m->hdrs_cap * 2) : most;
	struct http_hdr *n;
	if (m->hdrs == m->hdrs_in) {
		if (!(n = malloc(cap * sizeof(*n))))
			return false;
		memcpy(n, m->hdrs_in, m->nhdrs * sizeof(*n));
	} else if (!(n = realloc(m->hdrs, cap * sizeof(*n)))) {
		return false;
	}
	m->hdrs = n;
	m->hdrs_cap = cap;
	return true;
}

/* Points every slice that pointed into [old, old + len] at the same offset
 * from `now`.  Addresses are only compared, never dereferenced. */
static void slice_move(struct slice *s, uintptr_t old, uint32_t len, const char *now)
{
	uintptr_t a = (uintptr_t)s->p;
	if (s->p && a >= old && a <= old + len)
		s->p = now + (a - old);
}

static void msg_move(struct http_msg *m, uintptr_t old, uint32_t len, const char *now)
{
	slice_move(&m->method, old, len, now);
	slice_move(&m->target, old, len, now);
	slice_move(&m->path, old, len, now);
	slice_move(&m->query, old, len, now);
	slice_move(&m->authority, old, len, now);
	slice_move(&m->reason, old, len, now);
	for (int i = 0; i < m->nhdrs; i++) {
		slice_move(&m->hdrs[i].name, old, len, now);
		slice_move(&m->hdrs[i].value, old, len, now);
	}
}

void msg_rebase(struct http_msg *m, const char *old, uint32_t len, const char *now)
{
	msg_move(m, (uintptr_t)old, len, now);
}

/* Makes room for `len` more bytes; false past the bound or out of memory. */
static bool store_reserve(struct http_msg *m, size_t len)
{
	struct msg_store *st = &m->st;
	uint32_t max = st->max ? st->max : MSG_STORE_MAX;

	if (len > max || st->charged > max - len || st->used > max - len - st->charged)
		return false;
	if (st->used + len <= st->size)
		return true;
	uint32_t want = st->size ? st->size : 1024;
	while (want < st->used + len)
		want *= 2;
	if (want > max)
		want = max;
	uintptr_t old = (uintptr_t)st->area;
	char *n = realloc(st->area, want);
	if (!n)
		return false;
	if (old && (uintptr_t)n != old)
		msg_move(m, old, st->used, n);
	st->area = n;
	st->size = want;
	return true;
}

struct slice msg_store(struct http_msg *m, const char *p, size_t len)
{
	if (!store_reserve(m, len))
		return (struct slice){ NULL, 0 };
	char *d = m->st.area + m->st.used;
	if (len)
		memcpy(d, p, len);
	m->st.used += (uint32_t)len;
	return (struct slice){ d, (uint32_t)len };
}

struct slice msg_storef(struct http_msg *m, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return (struct slice){ NULL, 0 };
	return msg_store(m, tmp, (size_t)n);
}

int msg_adopt(struct http_msg *m, const char *base, uint32_t len)
{
	if (!store_reserve(m, len))
		return -1;
	char *d = m->st.area + m->st.used;
	memcpy(d, base, len);
	m->st.used += len;
	msg_move(m, (uintptr_t)base, len, d);
	return 0;
}

/* The name's bit in msg->names, from its length and its first and last
 * bytes.  `| 0x20` folds the case of letters (and leaves equal bytes
 * equal), which is all a filter needs: equal names, any case, same bit. */
static inline uint64_t msg_hdr_bit(struct slice name)
{
	if (!name.len)
		return 1;
	unsigned h = name.len + ((unsigned char)name.p[0] | 0x20u) * 2u +
		     ((unsigned char)name.p[name.len - 1] | 0x20u);
	return 1ull << (h & 63);
}

/* The Bloom filter of m's names, brought up to hdrs[0..nhdrs).  The
 * loops live out of line so the callers' fast path (the name is absent)
 * is a few instructions without register saves. */
static void __attribute__((noinline)) msg_names_update(struct http_msg *m)
{
	if (m->names_n > m->nhdrs) {
		m->names = 0;
		m->names_n = 0;
	}
	for (int i = m->names_n; i < m->nhdrs; i++)
		m->names |= msg_hdr_bit(m->hdrs[i].name);
	m->names_n = m->nhdrs;
}

static inline uint64_t msg_names(struct http_msg *m)
{
	if (m->names_n != m->nhdrs)
		msg_names_update(m);
	return m->names;
}

static struct http_hdr *__attribute__((noinline))
msg_hdr_scan(struct http_msg *m, struct slice name, int *pos)
{
	for (int i = *pos; i < m->nhdrs; i++) {
		struct http_hdr *h = &m->hdrs[i];
		if (h->name.len == name.len && !(h->flags & HDR_F_DELETED) &&
		    slice_ieq(h->name, name)) {
			*pos = i + 1;
			return h;
		}
	}
	*pos = m->nhdrs;
	return NULL;
}

struct http_hdr *msg_hdr_find(struct http_msg *m, struct slice name, int *pos)
{
	if (msg_names(m) & msg_hdr_bit(name))
		return msg_hdr_scan(m, name, pos);
	*pos = m->nhdrs;
	return NULL;
}

int msg_hdr_add_id(struct http_msg *m, struct slice name, struct slice value,
		   enum http_hdr_id id)
{
	if (m->nhdrs >= HTTP_MAX_HDRS + HTTP_HDRS_ADDED || !msg_hdr_reserve(m))
		return -1;
	struct http_hdr *h = &m->hdrs[m->nhdrs];
	h->name = name;
	h->value = value;
	h->id = (uint8_t)id;
	h->flags = 0;
	if (id != HDR_OTHER && m->hdr_idx[id] < 0)
		m->hdr_idx[id] = (int16_t)m->nhdrs;
	if (m->names_n == m->nhdrs) {   /* the filter stays current */
		m->names |= msg_hdr_bit(name);
		m->names_n++;
	}
	m->nhdrs++;
	return 0;
}

int msg_hdr_add(struct http_msg *m, struct slice name, struct slice value)
{
	return msg_hdr_add_id(m, name, value, msg_hdr_id(name));
}

void msg_hdr_del_id(struct http_msg *m, enum http_hdr_id id)
{
	if (m->hdr_idx[id] < 0)
		return;
	for (int i = m->hdr_idx[id]; i < m->nhdrs; i++)
		if (m->hdrs[i].id == id)
			m->hdrs[i].flags |= HDR_F_DELETED;
	m->hdr_idx[id] = -1;
}

static void __attribute__((noinline)) msg_hdr_del_scan(struct http_msg *m, struct slice name)
{
	for (int i = 0; i < m->nhdrs; i++)
		if (m->hdrs[i].name.len == name.len && slice_ieq(m->hdrs[i].name, name))
			m->hdrs[i].flags |= HDR_F_DELETED;
}

void msg_hdr_del_named(struct http_msg *m, struct slice name, enum http_hdr_id id)
{
	if (id != HDR_OTHER)
		msg_hdr_del_id(m, id);
	else if (msg_names(m) & msg_hdr_bit(name))
		msg_hdr_del_scan(m, name);
}

void msg_hdr_del(struct http_msg *m, struct slice name)
{
	msg_hdr_del_named(m, name, msg_hdr_id(name));
}

/* name (any case) equals lit (lowercase, same length as name). */
static bool hdr_is(struct slice name, const char *lit)
{
	for (uint32_t i = 0; i < name.len; i++)
		if (lower((unsigned char)name.p[i]) != (unsigned char)lit[i])
			return false;
	return true;
}

#define HDR_IF(lit, id) (hdr_is(name, (lit)) ? (id) : HDR_OTHER)

enum http_hdr_id msg_hdr_id(struct slice name)
{
	/* The parser calls this for every field, and most fields of a real
	 * request are not known ones: dispatching on length, then on the
	 * first letter, makes a miss cost a switch and one compare. */
	unsigned char c0 = name.len ? lower((unsigned char)name.p[0]) : 0;

	switch (name.len) {
	case 2:
		return HDR_IF("te", HDR_TE);
	case 4:
		return HDR_IF("host", HDR_HOST);
	case 6:
		if (c0 == 'c')
			return HDR_IF("cookie", HDR_COOKIE);
		if (c0 == 'e')
			return HDR_IF("expect", HDR_EXPECT);
		break;
	case 7:
		if (c0 == 't')
			return HDR_IF("trailer", HDR_TRAILER);
		if (c0 == 'u')
			return HDR_IF("upgrade", HDR_UPGRADE);
		break;
	case 9:
		return HDR_IF("forwarded", HDR_FORWARDED);
	case 10:
		if (c0 == 'c')
			return HDR_IF("connection", HDR_CONNECTION);
		if (c0 == 'k')
			return HDR_IF("keep-alive", HDR_KEEP_ALIVE);
		if (c0 == 's')
			return HDR_IF("set-cookie", HDR_SET_COOKIE);
		break;
	case 14:
		return HDR_IF("content-length", HDR_CONTENT_LENGTH);
	case 15:
		return HDR_IF("x-forwarded-for", HDR_X_FORWARDED_FOR);
	case 16:
		if (c0 == 'p')
			return HDR_IF("proxy-connection", HDR_PROXY_CONNECTION);
		if (c0 == 'x')
			return HDR_IF("x-forwarded-host", HDR_X_FORWARDED_HOST);
		break;
	case 17:
		if (c0 == 't')
			return HDR_IF("transfer-encoding", HDR_TRANSFER_ENCODING);
		if (c0 == 'x')
			return HDR_IF("x-forwarded-proto", HDR_X_FORWARDED_PROTO);
		break;
	}
	return HDR_OTHER;
}

enum http_meth msg_meth(struct slice m)
{
	static const struct {
		const char *name;
		enum http_meth meth;
	} meths[] = {
		{ "GET", HTTP_METH_GET },	  { "HEAD", HTTP_METH_HEAD },
		{ "POST", HTTP_METH_POST },	  { "PUT", HTTP_METH_PUT },
		{ "DELETE", HTTP_METH_DELETE },	  { "CONNECT", HTTP_METH_CONNECT },
		{ "OPTIONS", HTTP_METH_OPTIONS }, { "TRACE", HTTP_METH_TRACE },
		{ "PATCH", HTTP_METH_PATCH },
	};
	/* Methods are case-sensitive (RFC 9110 9.1). */
	for (size_t i = 0; i < sizeof(meths) / sizeof(meths[0]); i++)
		if (slice_eq(m, (struct slice){ meths[i].name, (uint32_t)strlen(meths[i].name) }))
			return meths[i].meth;
	return HTTP_METH_OTHER;
}

bool msg_meth_idempotent(enum http_meth m)
{
	switch (m) {
	case HTTP_METH_GET:
	case HTTP_METH_HEAD:
	case HTTP_METH_PUT:
	case HTTP_METH_DELETE:
	case HTTP_METH_OPTIONS:
	case HTTP_METH_TRACE:
		return true;
	default:
		return false;
	}
}
