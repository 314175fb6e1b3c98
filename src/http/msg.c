/*
 * msg.c - helpers on the protocol-neutral message (see msg.h).
 */
#include <string.h>
#include "http/msg.h"

static inline unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

bool slice_ieq(struct slice a, struct slice b)
{
	if (a.len != b.len)
		return false;
	for (uint32_t i = 0; i < a.len; i++)
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
	/* Only the fixed part is cleared: hdrs[] beyond nhdrs is never read. */
	memset(m, 0, offsetof(struct http_msg, hdrs));
	for (int i = 0; i < HDR_ID_COUNT; i++)
		m->hdr_idx[i] = -1;
}

struct http_hdr *msg_hdr_find(struct http_msg *m, struct slice name, int *pos)
{
	for (int i = *pos; i < m->nhdrs; i++) {
		struct http_hdr *h = &m->hdrs[i];
		if (!(h->flags & HDR_F_DELETED) && slice_ieq(h->name, name)) {
			*pos = i + 1;
			return h;
		}
	}
	*pos = m->nhdrs;
	return NULL;
}

int msg_hdr_add(struct http_msg *m, struct slice name, struct slice value)
{
	if (m->nhdrs >= HTTP_MAX_HDRS)
		return -1;
	struct http_hdr *h = &m->hdrs[m->nhdrs];
	h->name = name;
	h->value = value;
	h->id = (uint8_t)msg_hdr_id(name);
	h->flags = 0;
	if (h->id != HDR_OTHER && m->hdr_idx[h->id] < 0)
		m->hdr_idx[h->id] = (int16_t)m->nhdrs;
	m->nhdrs++;
	return 0;
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

void msg_hdr_del(struct http_msg *m, struct slice name)
{
	enum http_hdr_id id = msg_hdr_id(name);
	if (id != HDR_OTHER) {
		msg_hdr_del_id(m, id);
		return;
	}
	for (int i = 0; i < m->nhdrs; i++)
		if (slice_ieq(m->hdrs[i].name, name))
			m->hdrs[i].flags |= HDR_F_DELETED;
}

static const struct {
	const char *name;
	enum http_hdr_id id;
} known_hdrs[] = {
	{ "host", HDR_HOST },
	{ "content-length", HDR_CONTENT_LENGTH },
	{ "transfer-encoding", HDR_TRANSFER_ENCODING },
	{ "connection", HDR_CONNECTION },
	{ "keep-alive", HDR_KEEP_ALIVE },
	{ "te", HDR_TE },
	{ "trailer", HDR_TRAILER },
	{ "proxy-connection", HDR_PROXY_CONNECTION },
	{ "upgrade", HDR_UPGRADE },
	{ "expect", HDR_EXPECT },
	{ "x-forwarded-for", HDR_X_FORWARDED_FOR },
	{ "x-forwarded-proto", HDR_X_FORWARDED_PROTO },
	{ "x-forwarded-host", HDR_X_FORWARDED_HOST },
	{ "forwarded", HDR_FORWARDED },
	{ "cookie", HDR_COOKIE },
	{ "set-cookie", HDR_SET_COOKIE },
};

enum http_hdr_id msg_hdr_id(struct slice name)
{
	/* Cheap pre-filter on length and first letter before the compare:
	 * most fields of a typical request are not in this table. */
	if (name.len < 2 || name.len > 17)
		return HDR_OTHER;
	unsigned char c0 = lower((unsigned char)name.p[0]);
	for (size_t i = 0; i < sizeof(known_hdrs) / sizeof(known_hdrs[0]); i++) {
		const char *k = known_hdrs[i].name;
		if ((unsigned char)k[0] == c0 && slice_ieq_cstr(name, k))
			return known_hdrs[i].id;
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
