/*
 * flt_realip.c - `trusted_proxies CIDR...` (frontend): the real client
 * behind other proxies, as nginx's realip module (recursive) finds it.
 *
 * First filter of a frontend's request chain, so rules, routing, balancing
 * (hash(src)) and the access log all see the address it finds.  When the
 * connection's client address (the TCP peer, or what a PROXY header said)
 * is trusted, the client is read from X-Forwarded-For, right to left: the
 * first address that is not trusted is the client; if every one is, the
 * leftmost is.  Without X-Forwarded-For, the `for=` parameters of
 * Forwarded (RFC 7239) are read the same way.  An entry that is not a
 * plain address ("unknown", an obfuscated name, garbage) stops the walk:
 * the last address read stands, and if there was none the peer does.
 *
 * The client's headers are then kept, and flt_forward.c appends the peer
 * to them.  From a peer that is not trusted (or with no trusted_proxies at
 * all) flt_forward.c replaces them instead: a client never gets to choose
 * what a server reads as its address.
 *
 * The connection's own address stays available as the fetch `peer`
 * (session_peer()); the address found is per request (txn->real_src).
 */
#include <string.h>
#include "net/cidr.h"
#include "proxy/filter.h"
#include "proxy/stream.h"

#define REALIP_MAX_LINES 32   /* header lines looked at; more are ignored (oldest first) */

static bool trusted(const struct cfg_frontend *fe, const struct sockaddr_in6 *a)
{
	return cidr_match_any(fe->trusted, fe->ntrusted, (const struct sockaddr *)a);
}

static struct slice trim(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return (struct slice){ p, (uint32_t)(e - p) };
}

static bool ieq(struct slice s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((s.p[i] | 0x20) != lit[i])
			return false;
	return true;
}

/* A Forwarded element's for= node: 192.0.2.1, "192.0.2.1:80",
 * "[2001:db8::1]", "[2001:db8::1]:4711".  Anything else is not an address. */
static bool forwarded_node(struct slice el, struct sockaddr_in6 *out)
{
	const char *p = el.p, *e = el.p + el.len;
	struct slice v = { NULL, 0 };

	while (p < e) {
		const char *semi = memchr(p, ';', (size_t)(e - p));
		struct slice pair = trim(p, semi ? semi : e);
		if (pair.len > 4 && ieq(pair, "for=")) {
			v = (struct slice){ pair.p + 4, pair.len - 4 };
			break;
		}
		p = semi ? semi + 1 : e;
	}
	if (!v.len)
		return false;
	if (v.len >= 2 && v.p[0] == '"' && v.p[v.len - 1] == '"')
		v = (struct slice){ v.p + 1, v.len - 2 };
	if (v.len && v.p[0] == '[') {
		const char *close = memchr(v.p, ']', v.len);
		if (!close)
			return false;
		size_t rest = v.len - (size_t)(close + 1 - v.p);
		if (rest && close[1] != ':')
			return false;
		return ip_parse(v.p + 1, (size_t)(close - v.p - 1), out) &&
		       !IN6_IS_ADDR_V4MAPPED(&out->sin6_addr);
	}
	const char *colon = memchr(v.p, ':', v.len);
	size_t alen = colon ? (size_t)(colon - v.p) : v.len;
	return ip_parse(v.p, alen, out) && IN6_IS_ADDR_V4MAPPED(&out->sin6_addr);
}

/*
 * Walks the comma-separated lists of every header line named `name`, right
 * to left.  Returns true with *out set when an address was found.
 */
static bool walk(const struct cfg_frontend *fe, struct http_msg *m, struct slice name,
		 bool forwarded, struct sockaddr_in6 *out)
{
	struct slice lines[REALIP_MAX_LINES];
	int n = 0, pos = 0;
	struct http_hdr *h;
	bool found = false;

	while ((h = msg_hdr_find(m, name, &pos))) {
		if (n == REALIP_MAX_LINES)
			memmove(lines, lines + 1, sizeof(lines) - sizeof(lines[0]));
		lines[n < REALIP_MAX_LINES ? n++ : n - 1] = h->value;
	}
	for (int i = n - 1; i >= 0; i--) {
		const char *v = lines[i].p;
		size_t end = lines[i].len;
		for (;;) {
			size_t b = end;
			while (b > 0 && v[b - 1] != ',')
				b--;
			struct slice el = trim(v + b, v + end);
			/* empty list members are allowed (RFC 9110 5.6.1) */
			if (el.len) {
				struct sockaddr_in6 a;
				if (forwarded ? !forwarded_node(el, &a) : !ip_parse(el.p, el.len, &a))
					return found;
				*out = a;
				found = true;
				if (!trusted(fe, &a))
					return true;
			}
			if (b == 0)
				break;
			end = b - 1;
		}
	}
	return found;
}

static enum flt_verdict realip_req_head(struct stream *s, const void *conf)
{
	const struct cfg_frontend *fe = conf;
	struct txn *t = s->txn;
	struct http_msg *m = &t->req;
	struct sockaddr_in6 a;

	if (!trusted(fe, &s->sess->src))
		return FLT_CONTINUE;   /* flt_forward.c replaces what the client sent */
	t->fwd_trusted = true;
	bool xff = msg_hdr_by_id(m, HDR_X_FORWARDED_FOR) != NULL;
	if (xff ? walk(fe, m, SLICE_LIT("X-Forwarded-For"), false, &a)
		: walk(fe, m, SLICE_LIT("Forwarded"), true, &a)) {
		t->real_src = a;
		t->real_src_set = true;
	}
	return FLT_CONTINUE;
}

const struct filter_ops flt_realip_ops = {
	.name = "realip",
	.req_head = realip_req_head,
};
