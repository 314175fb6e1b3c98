/*
 * fetch.c - fetches: how conditions, hash balancing and rule values
 * (%[fetch]) read one value of a request or response (host, path, method,
 * src, header(NAME), query(NAME), cookie(NAME), ssl_client_dn, url, query,
 * scheme, ssl, req_id, status, res_header(NAME)).
 *
 * A fetch is parsed once from a config token and evaluated per request
 * against the protocol-neutral struct http_msg and struct cond_ctx.
 * Evaluation never allocates: values are slices into the message or the
 * context, static strings, or (src, status) text formatted into the
 * caller's scratch space.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter/cond.h"
#include "net/conn.h"

struct fetch {
	enum fetch_kind kind;
	char *arg;          /* header/query/cookie name; NULL for the others */
	uint32_t arg_len;
	char *text;         /* as written, for messages */
	int line, col;
};

/* A name may appear twice, with and without an argument (query). */
static const struct {
	const char *name;
	enum fetch_kind kind;
	bool needs_arg;
} fetch_table[] = {
	{ "host", FETCH_HOST, false },	   { "path", FETCH_PATH, false },
	{ "method", FETCH_METHOD, false }, { "src", FETCH_SRC, false },
	{ "header", FETCH_HEADER, true },  { "query", FETCH_QUERY, true },
	{ "cookie", FETCH_COOKIE, true },  { "ssl_client_dn", FETCH_SSL_CLIENT_DN, false },
	{ "url", FETCH_URL, false },	   { "query", FETCH_QUERY_STRING, false },
	{ "scheme", FETCH_SCHEME, false }, { "ssl", FETCH_SSL, false },
	{ "req_id", FETCH_REQ_ID, false }, { "status", FETCH_STATUS, false },
	{ "res_header", FETCH_RES_HEADER, true }, { "peer", FETCH_PEER, false },
	{ "proxy_authority", FETCH_PROXY_AUTHORITY, false },
	{ "waf_rules", FETCH_WAF_RULES, false },
};

#define FETCH_TABLE_N (sizeof(fetch_table) / sizeof(fetch_table[0]))

#define FETCH_EXPECTED \
	"host, path, method, src, header(NAME), query(NAME), cookie(NAME), ssl_client_dn, " \
	"url, query, scheme, ssl, req_id, status, res_header(NAME), peer, proxy_authority, waf_rules"

/* Header names are RFC 9110 tokens; checking here turns a typo such as
 * header(X User) into a load-time error instead of a rule that never fires. */
static bool fetch_is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool fetch_arg_ok(enum fetch_kind kind, const char *a, size_t len, char *err,
			 size_t errlen)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)a[i];
		bool hdr = kind == FETCH_HEADER || kind == FETCH_RES_HEADER;
		if (hdr ? !fetch_is_tchar(c) :
					   (c <= ' ' || c >= 0x7f || strchr("()&=;", c))) {
			snprintf(err, errlen, "invalid character '%c' in %s name '%.*s'",
				 c > ' ' && c < 0x7f ? c : '?',
				 hdr		      ? "header" :
				 kind == FETCH_QUERY  ? "query parameter" :
							"cookie",
				 (int)len, a);
			return false;
		}
	}
	return true;
}

static struct fetch *fetch_new(const struct cfg_tok *tok, enum fetch_kind kind, const char *arg,
			       size_t arg_len)
{
	struct fetch *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->kind = kind;
	f->line = tok->line;
	f->col = tok->col;
	f->text = strdup(tok->s);
	if (arg)
		f->arg = strndup(arg, arg_len);
	if (!f->text || (arg && !f->arg)) {
		fetch_free(f);
		return NULL;
	}
	f->arg_len = (uint32_t)arg_len;
	return f;
}

struct fetch *fetch_parse(const struct cfg_tok *tok, char *err, size_t errlen)
{
	const char *s = tok->s;

	if (tok->quoted) {
		snprintf(err, errlen, "expected a fetch (%s), got the quoted string \"%s\"",
			 FETCH_EXPECTED, s);
		return NULL;
	}
	const char *open = strchr(s, '(');
	size_t nlen = open ? (size_t)(open - s) : strlen(s);
	size_t i, named = FETCH_TABLE_N;

	/* the row of that name whose argument shape fits, else any of that
	 * name (for the "takes no argument" / "needs a name" message) */
	for (i = 0; i < FETCH_TABLE_N; i++) {
		const char *name = fetch_table[i].name;
		if (strlen(name) != nlen || strncmp(s, name, nlen) != 0)
			continue;
		if (fetch_table[i].needs_arg == (open != NULL))
			break;
		if (named == FETCH_TABLE_N)
			named = i;
	}
	if (i == FETCH_TABLE_N)
		i = named;
	if (i == FETCH_TABLE_N) {
		snprintf(err, errlen, "unknown fetch '%s'; expected one of: %s", s, FETCH_EXPECTED);
		return NULL;
	}
	const char *name = fetch_table[i].name;
	if (!fetch_table[i].needs_arg) {
		if (open) {
			snprintf(err, errlen, "fetch '%s' takes no argument; expected '%s'", name,
				 name);
			return NULL;
		}
		struct fetch *f = fetch_new(tok, fetch_table[i].kind, NULL, 0);
		if (!f)
			snprintf(err, errlen, "out of memory");
		return f;
	}
	size_t len = strlen(s);
	if (!open || len < nlen + 3 || s[len - 1] != ')') {
		snprintf(err, errlen, "fetch '%s' needs a name; expected %s(NAME)", name, name);
		return NULL;
	}
	const char *arg = open + 1;
	size_t arg_len = len - nlen - 2;
	if (!fetch_arg_ok(fetch_table[i].kind, arg, arg_len, err, errlen))
		return NULL;
	struct fetch *f = fetch_new(tok, fetch_table[i].kind, arg, arg_len);
	if (!f)
		snprintf(err, errlen, "out of memory");
	return f;
}

void fetch_free(struct fetch *f)
{
	if (!f)
		return;
	free(f->arg);
	free(f->text);
	free(f);
}

enum fetch_kind fetch_kind(const struct fetch *f)
{
	return f->kind;
}

bool fetch_is_bool(const struct fetch *f)
{
	return f->kind == FETCH_SSL;
}

const char *fetch_text(const struct fetch *f)
{
	return f->text;
}

void fetch_where(const struct fetch *f, int *line, int *col)
{
	*line = f->line;
	*col = f->col;
}

/* The host without its port: "[::1]:8080" -> "[::1]", "a.example:80" ->
 * "a.example".  A reg-name cannot contain ':', so the first one ends it. */
static bool fetch_host(const struct http_msg *m, struct slice *out)
{
	struct slice a = m->authority;
	uint32_t n = 0;

	if (!a.p || a.len == 0)
		return false;
	if (a.p[0] == '[') {
		while (n < a.len && a.p[n] != ']')
			n++;
		if (n < a.len)
			n++;
	} else {
		while (n < a.len && a.p[n] != ':')
			n++;
	}
	*out = (struct slice){ a.p, n };
	return true;
}

/* query(NAME): the first NAME=value pair of the raw query string.  Values
 * are not percent-decoded, so operators compare what the client sent. */
static __attribute__((noinline)) bool fetch_query(const struct fetch *f, const struct http_msg *m, struct slice *out)
{
	const char *p = m->query.p, *end = p + m->query.len;

	if (!p)
		return false;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		const char *name_end = eq ? eq : stop;

		if ((size_t)(name_end - p) == f->arg_len && memcmp(p, f->arg, f->arg_len) == 0) {
			const char *v = eq ? eq + 1 : stop;
			*out = (struct slice){ v, (uint32_t)(stop - v) };
			return true;
		}
		p = stop + 1;
	}
	return false;
}

/* Looks for NAME in one Cookie field value ("a=1; b=2").  The value loses
 * the optional DQUOTEs of RFC 6265 4.1.1 so `cookie(x) == abc` matches
 * both x=abc and x="abc". */
static bool fetch_cookie_in(const struct fetch *f, struct slice v, struct slice *out)
{
	const char *p = v.p, *end = v.p + v.len;

	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
			p++;
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *stop = semi ? semi : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));

		if (eq && (size_t)(eq - p) == f->arg_len && memcmp(p, f->arg, f->arg_len) == 0) {
			const char *vs = eq + 1, *ve = stop;
			while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (ve - vs >= 2 && vs[0] == '"' && ve[-1] == '"') {
				vs++;
				ve--;
			}
			*out = (struct slice){ vs, (uint32_t)(ve - vs) };
			return true;
		}
		p = stop;
	}
	return false;
}

static __attribute__((noinline)) bool fetch_cookie(const struct fetch *f, const struct http_msg *m, struct slice *out)
{
	/* HTTP/2 clients may split cookies over several fields (RFC 9113
	 * 8.2.3), so every Cookie field is searched, in order. */
	int first = m->hdr_idx[HDR_COOKIE];

	if (first < 0)
		return false;
	for (int i = first; i < m->nhdrs; i++) {
		const struct http_hdr *h = &m->hdrs[i];
		if (h->id != HDR_COOKIE || (h->flags & HDR_F_DELETED))
			continue;
		if (fetch_cookie_in(f, h->value, out))
			return true;
	}
	return false;
}

/* src as text.  An IPv4 client reaching a dual-stack listener shows up as
 * ::ffff:a.b.c.d; it is printed as plain a.b.c.d because that is what an
 * operator writes in `src == ...`. */
static __attribute__((noinline)) bool fetch_src(const struct sockaddr_storage *ss, struct slice *out, char *scratch,
		      size_t scratch_len)
{
	const void *addr;
	int fam;

	if (!ss || !scratch || scratch_len < INET6_ADDRSTRLEN)
		return false;
	if (ss->ss_family == AF_INET) {
		fam = AF_INET;
		addr = &((const struct sockaddr_in *)ss)->sin_addr;
	} else if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			fam = AF_INET;
			addr = &a6->s6_addr[12];
		} else {
			fam = AF_INET6;
			addr = a6;
		}
	} else {
		return false;
	}
	if (fam == AF_INET) {
		*out = (struct slice){ scratch, (uint32_t)ip4_ntop(addr, scratch) };
		return true;
	}
	if (!inet_ntop(fam, addr, scratch, (socklen_t)scratch_len))
		return false;
	*out = (struct slice){ scratch, (uint32_t)strlen(scratch) };
	return true;
}

static __attribute__((noinline)) bool fetch_header(const struct fetch *f, struct http_msg *m, struct slice *out)
{
	int pos = 0;
	struct http_hdr *h;

	if (!m || !(h = msg_hdr_find(m, (struct slice){ f->arg, f->arg_len }, &pos)))
		return false;
	*out = h->value;
	return true;
}

/* What needs no message: the connection and the context. */
static bool fetch_conn(const struct fetch *f, const struct cond_ctx *ctx, struct slice *out,
		       char *scratch, size_t scratch_len)
{
	switch (f->kind) {
	case FETCH_SRC:
		return fetch_src(ctx->src, out, scratch, scratch_len);
	case FETCH_PEER: {
		if (!ctx->peer)
			return fetch_src(ctx->src, out, scratch, scratch_len);
		struct sockaddr_storage ss = { 0 };
		memcpy(&ss, ctx->peer, sizeof(*ctx->peer));
		return fetch_src(&ss, out, scratch, scratch_len);
	}
	case FETCH_PROXY_AUTHORITY:
		*out = ctx->proxy_authority;
		return ctx->proxy_authority.len > 0;
	case FETCH_SSL_CLIENT_DN:
		/* absent without a verified client certificate (and on plain
		 * connections), so `ssl_client_dn == X` is false there */
		if (!ctx->ssl_client_dn)
			return false;
		*out = (struct slice){ ctx->ssl_client_dn, (uint32_t)strlen(ctx->ssl_client_dn) };
		return true;
	case FETCH_SCHEME:
		*out = ctx->tls ? SLICE_LIT("https") : SLICE_LIT("http");
		return true;
	case FETCH_SSL:
		*out = ctx->tls ? SLICE_LIT("1") : SLICE_LIT("0");
		return true;
	case FETCH_REQ_ID:
		*out = ctx->req_id;
		return ctx->req_id.p && ctx->req_id.len;
	case FETCH_WAF_RULES: {
		const char *v = ctx->var ? ctx->var(ctx->var_owner, FETCH_WAF_RULES) : NULL;
		if (!v)
			return false;
		*out = (struct slice){ v, (uint32_t)strlen(v) };
		return true;
	}
	case FETCH_STATUS: {
		if (!ctx->res || !scratch || scratch_len < 8)
			return false;
		unsigned v = ctx->res->status % 1000;   /* three digits: 100..999 */
		scratch[0] = (char)('0' + v / 100);
		scratch[1] = (char)('0' + v / 10 % 10);
		scratch[2] = (char)('0' + v % 10);
		*out = (struct slice){ scratch, 3 };
		return true;
	}
	case FETCH_RES_HEADER:
		return fetch_header(f, ctx->res, out);
	default:
		return false;
	}
}

/* The fetches that take more than a few loads are kept out of line
 * (noinline above), so the common ones cost no register saves. */
bool fetch_value(const struct fetch *f, const struct cond_ctx *ctx, struct slice *out,
		 char *scratch, size_t scratch_len)
{
	struct http_msg *m = ctx->msg;

	switch (f->kind) {
	case FETCH_HOST:
		return m && fetch_host(m, out);
	case FETCH_PATH:
		if (!m)
			return false;
		*out = m->path;
		return m->path.p != NULL;
	case FETCH_METHOD:
		if (!m)
			return false;
		*out = m->method;
		return m->method.p != NULL;
	case FETCH_URL:
		if (!m)
			return false;
		*out = m->target;
		return m->target.p != NULL;
	case FETCH_HEADER:
		return fetch_header(f, m, out);
	case FETCH_QUERY:
		return m && fetch_query(f, m, out);
	case FETCH_QUERY_STRING:
		if (!m)
			return false;
		*out = m->query;
		return m->query.p != NULL;
	case FETCH_COOKIE:
		return m && fetch_cookie(f, m, out);
	default:
		/* the rest need no request: src exists in tcp mode too */
		return fetch_conn(f, ctx, out, scratch, scratch_len);
	}
}
