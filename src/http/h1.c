/*
 * h1.c - the HTTP/1.1 codec (RFC 9112): head parser and chunked-body
 * normaliser (the head encoder is h1_enc.c).
 *
 * Where this sits on the request's path: the proxy reads client bytes into
 * the connection's input buffer and calls h1_parse_request() until the head
 * is complete; routing and rules then work on the struct http_msg, and
 * h1_encode_request() writes the head sent to the server.  The server's
 * answer takes the mirror path through h1_parse_response() and
 * h1_encode_response().  Chunked bodies of both directions stream through
 * h1_chunk_step(), in place in the same buffers.
 *
 * How the head parser works:
 *  - One line at a time.  memchr() looks for the next LF from ps->scan_pos;
 *    once a line is complete it is validated and recorded, and never looked
 *    at again (ps->line_pos is the first unparsed line).  Every byte is
 *    read once by memchr() and once by a class-table scan, however the
 *    input was split, and a line is only judged when it is whole, so the
 *    result cannot depend on where the reads ended.
 *  - Checks that involve several fields (Host, framing, Connection) run
 *    once, on the empty line that ends the head.
 *  - Strict: whatever RFC 9110/9112 call invalid or ambiguous is an error.
 *    A proxy that is more lenient than the server behind it is how request
 *    smuggling happens, so we would rather refuse an odd client.
 *  - Where to resume is the caller's struct h1_parser, not the message:
 *    the message (msg.h) only gets what the head says.
 *
 * Nothing here allocates: messages hold slices into the caller's buffer.
 */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "http/h1.h"

#define H1_DEF_MAX_HEAD		16384
#define H1_DEF_MAX_TARGET	8192
#define H1_CHUNK_LINE_MAX	4096	/* chunk-size and trailer lines, CRLF included */

/* ------------------------------------------------------------------------
 * Character classes, built at compile time so the table is in .rodata and
 * a lookup is one load.
 */
#define C_TCHAR		0x01	/* token (RFC 9110 5.6.2) */
#define C_VALUE		0x02	/* field-value byte: HTAB, SP, VCHAR, obs-text */
#define C_TARGET	0x04	/* request-target byte: VCHAR */
#define C_HEX		0x08
#define C_HOST		0x10	/* reg-name byte: unreserved / sub-delims ('%' apart) */
#define C_QDTEXT	0x20	/* quoted-string text, '"' and '\' excluded */

#define CC_DIGIT(c)	((c) >= '0' && (c) <= '9')
#define CC_ALPHA(c)	(((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z'))
#define CC_SUBDELIM(c)	((c) == '!' || (c) == '$' || (c) == '&' || (c) == '\'' || \
			 (c) == '(' || (c) == ')' || (c) == '*' || (c) == '+' || \
			 (c) == ',' || (c) == ';' || (c) == '=')
#define CC_TCHARX(c)	((c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' || \
			 (c) == '&' || (c) == '\'' || (c) == '*' || (c) == '+' || \
			 (c) == '-' || (c) == '.' || (c) == '^' || (c) == '_' || \
			 (c) == '`' || (c) == '|' || (c) == '~')
#define CC(c) \
	(((CC_DIGIT(c) || CC_ALPHA(c) || CC_TCHARX(c)) ? C_TCHAR : 0) | \
	 (((c) == '\t' || ((c) >= 0x20 && (c) != 0x7f)) ? C_VALUE : 0) | \
	 (((c) > 0x20 && (c) < 0x7f) ? C_TARGET : 0) | \
	 ((CC_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F')) ? C_HEX : 0) | \
	 ((CC_DIGIT(c) || CC_ALPHA(c) || (c) == '-' || (c) == '.' || (c) == '_' || \
	   (c) == '~' || CC_SUBDELIM(c)) ? C_HOST : 0) | \
	 (((c) == '\t' || (c) == ' ' || (c) == '!' || ((c) >= 0x23 && (c) != '\\' && \
	   (c) != 0x7f)) ? C_QDTEXT : 0))
#define CC4(c)		CC(c), CC((c) + 1), CC((c) + 2), CC((c) + 3)
#define CC16(c)		CC4(c), CC4((c) + 4), CC4((c) + 8), CC4((c) + 12)
#define CC64(c)		CC16(c), CC16((c) + 16), CC16((c) + 32), CC16((c) + 48)

static const uint8_t h1_cc[256] = { CC64(0), CC64(64), CC64(128), CC64(192) };

static inline bool h1_is(char c, uint8_t cls)
{
	return h1_cc[(unsigned char)c] & cls;
}

static inline bool h1_ows(char c)
{
	return c == ' ' || c == '\t';
}

static inline unsigned char h1_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

static inline struct slice h1_slice(const char *s, const char *e)
{
	return (struct slice){ s, (uint32_t)(e - s) };
}

/* ------------------------------------------------------------------------
 * Block scanners for the two long runs of a head: the target and field
 * values, most of its bytes.  SSE2 where there is one; elsewhere eight
 * bytes are tested with a few ALU operations (SWAR) and only the block
 * holding the stop byte goes through the table.
 */
#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL
/* Non-zero iff a byte of x is below n (n <= 128).  A borrow can only start
 * at a byte that really is below n, so the answer is exact. */
#define SWAR_LT(x, n)	(((x) - ONES * (n)) & ~(x) & HIGHS)
#define SWAR_EQ(x, b)	SWAR_LT((x) ^ (ONES * (b)), 1)

static inline uint64_t h1_load8(const char *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return x;
}

/*
 * The scanners return the first byte of [p, e) outside their class, or e.
 * They may load (never use) bytes up to `lim`, the end of the caller's
 * data, so that a line's last block needs no byte loop: the CR ending
 * every line stops them anyway.  With SSE2 (every x86-64) sixteen bytes
 * are classified at once and the stop byte found with one ctz.
 */
static const char *h1_scan_value(const char *p, const char *e, const char *lim)
{
#ifdef __SSE2__
	const __m128i sp = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);

	while (lim - p >= 16 && p < e) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* below SP (max(v, SP) != v), or DEL */
		unsigned bad = ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, sp), v)) &
			       0xffff;

		bad |= (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, del));
		if (!bad) {
			p += 16;
			continue;
		}
		p += __builtin_ctz(bad);
		/* HTAB is the one control byte a value may hold */
		if (p >= e || *p != '\t')
			break;
		p++;
	}
#else
	for (;;) {
		while (lim - p >= 8 && p < e) {
			uint64_t x = h1_load8(p);

			if (SWAR_LT(x, 0x20) | SWAR_EQ(x, 0x7f))
				break;
			p += 8;
		}
		if (p >= e || lim - p < 8)
			break;

		const char *stop = e - p >= 8 ? p + 8 : e;

		while (p < stop && h1_is(*p, C_VALUE))
			p++;
		if (p < stop || p == e)
			return p;
	}
#endif
	if (p >= e)
		return e;
	while (p < e && h1_is(*p, C_VALUE))
		p++;
	return p;
}

static const char *h1_scan_target(const char *p, const char *e, const char *lim)
{
#ifdef __SSE2__
	const __m128i lo = _mm_set1_epi8(0x21), del = _mm_set1_epi8(0x7f);

	while (lim - p >= 16 && p < e) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* signed v < 0x21 is a control, SP, or any byte >= 0x80 */
		unsigned bad = (unsigned)_mm_movemask_epi8(_mm_cmpgt_epi8(lo, v)) |
			       (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, del));

		if (bad) {
			p += __builtin_ctz(bad);
			break;
		}
		p += 16;
	}
#else
	while (lim - p >= 8 && p < e) {
		uint64_t x = h1_load8(p);

		if (SWAR_LT(x, 0x21) | SWAR_EQ(x, 0x7f) | (x & HIGHS))
			break;
		p += 8;
	}
#endif
	if (p >= e)
		return e;
	while (p < e && h1_is(*p, C_TARGET))
		p++;
	return p;
}

static const char *h1_scan_token(const char *p, const char *e)
{
	while (p < e && h1_is(*p, C_TCHAR))
		p++;
	return p;
}

/* Case-insensitive compare with a string literal, length known at compile time. */
#define h1_is_lit(s, lit) slice_ieq((s), SLICE_LIT(lit))

static bool h1_is_token(struct slice s)
{
	return s.len && h1_scan_token(s.p, s.p + s.len) == s.p + s.len;
}

/* ------------------------------------------------------------------------
 * Parser context and errors.
 */
struct h1_ctx {
	const char *buf;
	const char *lim;	/* buf + len: loads may go this far */
	const char *head_end;	/* after the empty line, once it is found */
	struct h1_parser *ps;
	struct http_msg *msg;
	struct h1_err *err;
	uint32_t max_head;
	uint32_t max_target;
	uint16_t max_hdrs;
	bool resp;
	uint8_t req_meth;	/* responses: method of the request answered */
};

/* Records why parsing stopped.  Every failure of a response is a 502: the
 * client is not at fault, the server sent something we will not relay. */
static int h1_fail(const struct h1_ctx *x, uint16_t status, const char *reason, const char *at)
{
	if (x->err) {
		x->err->status = x->resp ? 502 : status;
		x->err->reason = reason;
		x->err->offset = (uint32_t)(at - x->buf);
	}
	return H1_ERROR;
}

static void h1_ctx_init(struct h1_ctx *x, struct h1_parser *ps, const char *buf,
			struct http_msg *msg, const struct h1_limits *lim, struct h1_err *err)
{
	x->buf = buf;
	x->ps = ps;
	x->msg = msg;
	x->err = err;
	x->max_head = lim && lim->max_head ? lim->max_head : H1_DEF_MAX_HEAD;
	x->max_target = lim && lim->max_target ? lim->max_target : H1_DEF_MAX_TARGET;
	x->max_hdrs = lim && lim->max_hdrs ? lim->max_hdrs : HTTP_MAX_HDRS;
	if (x->max_hdrs > HTTP_MAX_HDRS)
		x->max_hdrs = HTTP_MAX_HDRS;
	/* head_len and offsets are 32-bit */
	if (x->max_head > UINT32_MAX - 1)
		x->max_head = UINT32_MAX - 1;
}

/* ------------------------------------------------------------------------
 * Host and authority (RFC 9110 4.2.3/7.2, RFC 3986 3.2.2).
 */
static bool h1_ipv4_valid(const char *p, const char *e)
{
	for (int oct = 0; oct < 4; oct++) {
		unsigned v = 0;
		int n = 0;

		if (oct && (p == e || *p++ != '.'))
			return false;
		while (p < e && CC_DIGIT(*p) && n < 4) {
			v = v * 10 + (unsigned)(*p++ - '0');
			n++;
		}
		if (n == 0 || n > 3 || v > 255)
			return false;
	}
	return p == e;
}

/* IPv6address between the brackets of an IP-literal.  IPvFuture and zone
 * identifiers are refused: nothing legitimate sends them to a proxy. */
static bool h1_ipv6_valid(const char *p, const char *e)
{
	int groups = 0;
	bool elided = false;

	if (e - p >= 2 && p[0] == ':' && p[1] == ':') {
		elided = true;
		p += 2;
		if (p == e)
			return true;
	}
	for (;;) {
		const char *s = p;

		while (p < e && h1_is(*p, C_HEX) && p - s < 5)
			p++;
		if (p < e && *p == '.') {
			/* dotted IPv4 tail, worth two groups */
			if (!h1_ipv4_valid(s, e))
				return false;
			groups += 2;
			break;
		}
		if (p == s || p - s > 4)
			return false;
		groups++;
		if (p == e)
			break;
		if (*p++ != ':' || p == e)
			return false;
		if (*p == ':') {
			if (elided)
				return false;
			elided = true;
			if (++p == e)
				break;
		}
	}
	return elided ? groups <= 7 : groups == 8;
}

/* host [ ":" port ].  The port, when a colon announces it, must be 1-5
 * digits up to 65535: RFC 3986 allows an empty one, but nothing sends it
 * and a strict check costs nothing.  Public: HTTP/2's :authority and Host
 * (h2_msg.c) must pass the very check an HTTP/1.1 Host does. */
bool h1_host_valid(const char *p, const char *e, bool need_port)
{
	if (p == e)
		return false;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(e - p));

		if (!rb || !h1_ipv6_valid(p + 1, rb))
			return false;
		p = rb + 1;
	} else {
		const char *s = p;

		while (p < e && *p != ':') {
			if (*p == '%') {
				if (e - p < 3 || !h1_is(p[1], C_HEX) || !h1_is(p[2], C_HEX))
					return false;
				p += 3;
			} else if (h1_is(*p, C_HOST)) {
				p++;
			} else {
				return false;
			}
		}
		if (p == s)
			return false;
	}
	if (p == e)
		return !need_port;
	if (*p++ != ':')
		return false;

	unsigned port = 0;
	const char *d = p;

	while (p < e && CC_DIGIT(*p) && p - d < 5)
		port = port * 10 + (unsigned)(*p++ - '0');
	return p == e && p > d && port <= 65535;
}

/* ------------------------------------------------------------------------
 * Start lines.  [p, e) is the line without its CRLF.
 */

/* Sets path and query from an origin-form (or the path part of an
 * absolute-form) target.  An empty path is "/" (RFC 9110 4.2.3). */
static void h1_split_path(struct http_msg *m, const char *p, const char *e)
{
	const char *q = memchr(p, '?', (size_t)(e - p));

	m->path = h1_slice(p, q ? q : e);
	if (q)
		m->query = h1_slice(q + 1, e);
	if (m->path.len == 0)
		m->path = SLICE_LIT("/");
}

/* True if [p, e) starts with the lowercase literal `lit`, in any case. */
static bool h1_iprefix(const char *p, const char *e, const char *lit)
{
	for (; *lit; p++, lit++)
		if (p == e || h1_lower((unsigned char)*p) != (unsigned char)*lit)
			return false;
	return true;
}

/* Length of an "http://" or "https://" prefix (any case), 0 if none. */
static size_t h1_scheme_len(const char *p, const char *e)
{
	if (h1_iprefix(p, e, "http://"))
		return 7;
	if (h1_iprefix(p, e, "https://"))
		return 8;
	return 0;
}

static int h1_target_form(struct h1_ctx *x)
{
	struct http_msg *m = x->msg;
	const char *t = m->target.p, *e = t + m->target.len;

	/* A fragment is never sent (RFC 9110 4.2.5); one here would let the
	 * proxy and the server disagree on where the path ends. */
	if (memchr(t, '#', m->target.len))
		return h1_fail(x, 400, "fragment in request target", t);

	if (m->meth == HTTP_METH_CONNECT) {
		/* authority-form only (RFC 9112 3.2.3) */
		if (!h1_host_valid(t, e, true))
			return h1_fail(x, 400, "CONNECT target is not host:port", t);
		m->authority = m->target;
		return 0;
	}
	if (*t == '/') {
		h1_split_path(m, t, e);
		return 0;
	}
	if (m->target.len == 1 && *t == '*') {
		if (m->meth != HTTP_METH_OPTIONS)
			return h1_fail(x, 400, "asterisk-form is only for OPTIONS", t);
		m->path = m->target;
		return 0;
	}

	size_t skip = h1_scheme_len(t, e);

	if (!skip)
		return h1_fail(x, 400, "invalid request target", t);

	const char *a = t + skip, *ae = a;

	while (ae < e && *ae != '/' && *ae != '?')
		ae++;
	/* userinfo ('@') is refused here too (RFC 9110 4.2.4) */
	if (!h1_host_valid(a, ae, false))
		return h1_fail(x, 400, "invalid authority in request target", a);
	m->authority = h1_slice(a, ae);
	m->flags |= MSG_F_ABSOLUTE_FORM;
	h1_split_path(m, ae, e);
	return 0;
}

static int h1_request_version(struct h1_ctx *x, const char *p, const char *e)
{
	struct http_msg *m = x->msg;

	if (e - p == 8 && memcmp(p, "HTTP/", 5) == 0 && CC_DIGIT(p[5]) && p[6] == '.' &&
	    CC_DIGIT(p[7])) {
		if (p[5] == '1' && (p[7] == '0' || p[7] == '1')) {
			m->version_major = 1;
			m->version_minor = (uint8_t)(p[7] - '0');
			return 0;
		}
		if (p[5] >= '2')
			return h1_fail(x, 505, "HTTP version not supported", p);
	}
	return h1_fail(x, 400, "invalid HTTP version", p);
}

/* method SP request-target SP HTTP-version (RFC 9112 3) - one SP each. */
static int h1_request_line(struct h1_ctx *x, const char *p, const char *e)
{
	struct http_msg *m = x->msg;
	const char *s = p;

	p = h1_scan_token(p, e);
	if (p == s || p == e || *p != ' ')
		return h1_fail(x, 400, "invalid method", p);
	m->method = h1_slice(s, p);
	m->meth = (uint8_t)msg_meth(m->method);

	s = ++p;
	p = h1_scan_target(p, e, x->lim);
	if ((size_t)(p - s) > x->max_target)
		return h1_fail(x, 414, "request target too long", s);
	if (p == s || p == e || *p != ' ')
		return h1_fail(x, 400, "invalid request target", p);
	m->target = h1_slice(s, p);

	int rc = h1_request_version(x, p + 1, e);

	return rc ? rc : h1_target_form(x);
}

/* HTTP-version SP 3DIGIT SP reason-phrase (RFC 9112 4).  A missing
 * "SP reason" is tolerated because many servers omit it and it cannot be
 * mistaken for anything else. */
static int h1_status_line(struct h1_ctx *x, const char *p, const char *e)
{
	struct http_msg *m = x->msg;

	if (e - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
	    p[8] != ' ')
		return h1_fail(x, 502, "invalid status line version", p);
	m->version_major = 1;
	m->version_minor = (uint8_t)(p[7] - '0');
	p += 9;
	if (!CC_DIGIT(p[0]) || !CC_DIGIT(p[1]) || !CC_DIGIT(p[2]))
		return h1_fail(x, 502, "invalid status code", p);
	m->status = (uint16_t)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
	if (m->status < 100 || m->status > 599)
		return h1_fail(x, 502, "status code out of range", p);
	p += 3;
	m->reason = h1_slice(p, p);
	if (p == e)
		return 0;
	if (*p++ != ' ')
		return h1_fail(x, 502, "invalid status line", p - 1);
	if (h1_scan_value(p, e, x->lim) != e)
		return h1_fail(x, 502, "invalid reason phrase", h1_scan_value(p, e, x->lim));
	m->reason = h1_slice(p, e);
	return 0;
}

/* ------------------------------------------------------------------------
 * Field lines (RFC 9112 5), shared by heads and chunked trailers.
 */

/* Splits "name:OWS value OWS" from [p, e).  Returns NULL when valid, or
 * the offending byte with *why set. */
static const char *h1_field_split(const char *p, const char *e, const char *lim,
				  struct slice *name, struct slice *value, const char **why)
{
	const char *s = p;

	p = h1_scan_token(p, e);
	if (p == e || *p != ':' || p == s) {
		if (p == s)
			*why = (p < e && *p == ':') ? "empty field name" :
			       (p < e && h1_ows(*p)) ? "obs-fold or whitespace before field" :
						       "invalid field name";
		else
			*why = (p < e && h1_ows(*p)) ? "whitespace before colon" :
						       "invalid field name";
		return p;
	}
	*name = h1_slice(s, p);
	p++;
	while (p < e && h1_ows(*p))
		p++;
	s = p;
	p = h1_scan_value(p, e, lim);
	if (p != e) {
		*why = "invalid character in field value";
		return p;
	}
	while (p > s && h1_ows(p[-1]))
		p--;
	*value = h1_slice(s, p);
	return NULL;
}

static int h1_header_line(struct h1_ctx *x, const char *p, const char *e)
{
	struct http_msg *m = x->msg;
	struct http_hdr *h;
	const char *why, *bad;

	if (m->nhdrs >= x->max_hdrs)
		return h1_fail(x, 431, "too many header fields", p);
	if (!msg_hdr_reserve(m))
		return h1_fail(x, 500, "out of memory", p);
	h = &m->hdrs[m->nhdrs];
	bad = h1_field_split(p, e, x->lim, &h->name, &h->value, &why);
	if (bad)
		return h1_fail(x, 400, why, bad);
	h->id = (uint8_t)msg_hdr_id(h->name);
	h->flags = 0;
	if (h->id != HDR_OTHER && m->hdr_idx[h->id] < 0)
		m->hdr_idx[h->id] = (int16_t)m->nhdrs;
	m->nhdrs++;
	return 0;
}

/* ------------------------------------------------------------------------
 * Field semantics, checked once the whole head is in.
 */

/* What the fields say about framing, gathered before deciding. */
struct h1_fields {
	uint64_t cl;
	bool has_cl;
	bool has_te;
	bool te_chunked_last;	/* the last coding seen is chunked */
	bool te_other;		/* a coding other than chunked was seen */
	uint8_t te_chunked;	/* times chunked was listed */
	uint8_t nhost;
	bool conn_nominates;	/* Connection names other fields */
	bool upgrade_h2;	/* a request's Upgrade lists HTTP/2 (h2c) */
};

/* Empty elements are skipped, as RFC 9110 5.6.1 asks of recipients. */
bool h1_list_next(const char **pp, const char *e, struct slice *el)
{
	const char *p = *pp, *s, *t;

	while (p < e && (*p == ',' || h1_ows(*p)))
		p++;
	if (p == e) {
		*pp = p;
		return false;
	}
	s = p;
	while (p < e && *p != ',')
		p++;
	for (t = p; h1_ows(t[-1]); t--)
		;
	*el = h1_slice(s, t);
	*pp = p;
	return true;
}

/* Content-Length = 1*DIGIT, possibly repeated as "N, N" or over several
 * fields (RFC 9110 8.6): accepted only when every value is the same.
 * Nineteen digits always fit in 64 bits, so the digit cap is the overflow
 * check. */
static int h1_content_length(struct h1_ctx *x, struct h1_fields *f, const struct http_hdr *h)
{
	const char *p = h->value.p, *e = p + h->value.len;

	for (;;) {
		const char *s = p;
		uint64_t v = 0;

		while (p < e && CC_DIGIT(*p)) {
			if (p - s == 19)
				return h1_fail(x, 400, "Content-Length too large", p);
			v = v * 10 + (uint64_t)(*p++ - '0');
		}
		if (p == s)
			return h1_fail(x, 400, "invalid Content-Length", p);
		if (f->has_cl && v != f->cl)
			return h1_fail(x, 400, "conflicting Content-Length values", s);
		f->cl = v;
		f->has_cl = true;
		while (p < e && h1_ows(*p))
			p++;
		if (p == e)
			return 0;
		if (*p++ != ',')
			return h1_fail(x, 400, "invalid Content-Length", p - 1);
		while (p < e && h1_ows(*p))
			p++;
	}
}

/* Transfer-Encoding: codings in order, across all fields.  Codings must be
 * bare tokens: parameters are legal but unused by anything real, and
 * refusing them keeps the chunked-is-last test exact. */
static int h1_transfer_encoding(struct h1_ctx *x, struct h1_fields *f, const struct http_hdr *h)
{
	const char *p = h->value.p, *e = p + h->value.len;
	struct slice el;
	bool any = false;

	f->has_te = true;
	while (h1_list_next(&p, e, &el)) {
		if (!h1_is_token(el))
			return h1_fail(x, 400, "invalid transfer coding", el.p);
		any = true;
		f->te_chunked_last = h1_is_lit(el, "chunked");
		if (f->te_chunked_last) {
			if (f->te_chunked < 255)
				f->te_chunked++;
		} else {
			f->te_other = true;
		}
	}
	if (!any)
		return h1_fail(x, 400, "empty Transfer-Encoding", h->value.p);
	return 0;
}

static int h1_connection(struct h1_ctx *x, struct h1_fields *f, const struct http_hdr *h)
{
	struct http_msg *m = x->msg;
	const char *p = h->value.p, *e = p + h->value.len;
	struct slice el;

	while (h1_list_next(&p, e, &el)) {
		if (!h1_is_token(el))
			return h1_fail(x, 400, "invalid Connection option", el.p);
		if (h1_is_lit(el, "close"))
			m->flags |= MSG_F_CONN_CLOSE;
		else if (h1_is_lit(el, "keep-alive"))
			m->flags |= MSG_F_CONN_KEEPALIVE;
		else if (h1_is_lit(el, "upgrade"))
			m->flags |= MSG_F_CONN_UPGRADE;
		else
			f->conn_nominates = true;
	}
	return 0;
}

/* Marks the fields a Connection header names as hop-by-hop (RFC 9110
 * 7.6.1).  Host, Content-Length and Transfer-Encoding are never dropped
 * that way: "Connection: Host" is an attack on the next hop, not a
 * hop-by-hop field, and framing is regenerated by the encoder anyway. */
static void h1_connection_nominate(struct http_msg *m)
{
	for (int c = m->hdr_idx[HDR_CONNECTION]; c < m->nhdrs; c++) {
		if (m->hdrs[c].id != HDR_CONNECTION)
			continue;

		const char *p = m->hdrs[c].value.p, *e = p + m->hdrs[c].value.len;
		struct slice el;

		while (h1_list_next(&p, e, &el)) {
			for (int i = 0; i < m->nhdrs; i++) {
				struct http_hdr *h = &m->hdrs[i];

				if (h->id == HDR_HOST || h->id == HDR_CONTENT_LENGTH ||
				    h->id == HDR_TRANSFER_ENCODING)
					continue;
				if (slice_ieq(h->name, el))
					h->flags |= HDR_F_HOP;
			}
		}
	}
}

/* Whether an Upgrade field lists HTTP/2: "h2c" (RFC 7540 3.2, removed by
 * RFC 9113), "h2" (TLS-only, never valid in Upgrade) or "HTTP/2.x", each
 * as protocol-name[/protocol-version] (RFC 9110 7.8), any case. */
static bool h1_upgrade_h2(const struct http_hdr *h)
{
	const char *p = h->value.p, *e = p + h->value.len;
	struct slice el;

	while (h1_list_next(&p, e, &el)) {
		const char *slash = memchr(el.p, '/', el.len);
		struct slice name = slash ? h1_slice(el.p, slash) : el;

		if (h1_is_lit(name, "h2c") || h1_is_lit(name, "h2") ||
		    (slash && h1_is_lit(name, "http") && slash + 1 < el.p + el.len &&
		     slash[1] == '2'))
			return true;
	}
	return false;
}

/* TE (the request header): only "trailers" matters to us.  The field is
 * hop-by-hop and never forwarded, so its other members are not judged. */
static void h1_te(struct http_msg *m, const struct http_hdr *h)
{
	const char *p = h->value.p, *e = p + h->value.len;
	struct slice el;

	while (h1_list_next(&p, e, &el)) {
		const char *semi = memchr(el.p, ';', el.len);

		if (semi)
			while (semi > el.p && h1_ows(semi[-1]))
				semi--;
		if (h1_is_lit(semi ? h1_slice(el.p, semi) : el, "trailers"))
			m->flags |= MSG_F_TE_TRAILERS;
	}
}

/* Expect (RFC 9110 10.1.1): 100-continue is the only expectation defined;
 * any other member gets 417 since neither we nor the server can meet it.
 * A 100-continue in HTTP/1.0 must be ignored. */
static int h1_expect(struct h1_ctx *x, const struct http_hdr *h)
{
	struct http_msg *m = x->msg;
	const char *p = h->value.p, *e = p + h->value.len;
	struct slice el;

	while (h1_list_next(&p, e, &el)) {
		if (!h1_is_lit(el, "100-continue"))
			return h1_fail(x, 417, "unsupported expectation", el.p);
		if (m->version_minor >= 1)
			m->flags |= MSG_F_EXPECT_CONTINUE;
	}
	return 0;
}

/* One pass over the fields: hop-by-hop marks, connection flags and the
 * framing facts, common to requests and responses. */
static int h1_fields_scan(struct h1_ctx *x, struct h1_fields *f)
{
	struct http_msg *m = x->msg;
	int rc = 0;

	for (int i = 0; i < m->nhdrs && !rc; i++) {
		struct http_hdr *h = &m->hdrs[i];

		switch (h->id) {
		case HDR_HOST:
			if (f->nhost < 255)
				f->nhost++;
			break;
		case HDR_CONTENT_LENGTH:
			rc = h1_content_length(x, f, h);
			break;
		case HDR_TRANSFER_ENCODING:
			rc = h1_transfer_encoding(x, f, h);
			break;
		case HDR_CONNECTION:
			h->flags |= HDR_F_HOP;
			rc = h1_connection(x, f, h);
			break;
		case HDR_TE:
			h->flags |= HDR_F_HOP;
			h1_te(m, h);
			break;
		case HDR_UPGRADE:
			h->flags |= HDR_F_HOP;
			m->flags |= MSG_F_HAS_UPGRADE;
			if (!x->resp && !f->upgrade_h2)
				f->upgrade_h2 = h1_upgrade_h2(h);
			break;
		case HDR_KEEP_ALIVE:
		case HDR_TRAILER:
		case HDR_PROXY_CONNECTION:
			h->flags |= HDR_F_HOP;
			break;
		case HDR_EXPECT:
			if (!x->resp)
				rc = h1_expect(x, h);
			break;
		default:
			/* HTTP2-Settings only ever goes with an h2c upgrade,
			 * which we never forward (h1_request_h2c) */
			if (!x->resp && h1_is_lit(h->name, "http2-settings"))
				h->flags |= HDR_F_DELETED | HDR_F_HOP;
			break;
		}
	}
	if (rc)
		return rc;
	if (f->conn_nominates)
		h1_connection_nominate(m);
	/* HTTP/1.0 closes unless asked otherwise (RFC 9112 9.3) */
	if (m->version_minor == 0 && !(m->flags & MSG_F_CONN_KEEPALIVE))
		m->flags |= MSG_F_CONN_CLOSE;
	if (f->te_other)
		m->flags |= MSG_F_TE_OTHER;
	return 0;
}

/* Host (RFC 9112 3.2): exactly one, valid, non-empty in HTTP/1.1. */
static int h1_request_host(struct h1_ctx *x, const struct h1_fields *f)
{
	struct http_msg *m = x->msg;

	if (f->nhost > 1)
		return h1_fail(x, 400, "several Host fields",
			       m->hdrs[m->hdr_idx[HDR_HOST]].name.p);
	if (f->nhost == 0) {
		if (m->version_minor >= 1)
			return h1_fail(x, 400, "missing Host", x->head_end);
		return 0;
	}

	struct http_hdr *h = &m->hdrs[m->hdr_idx[HDR_HOST]];

	if (h->value.len == 0) {
		if (m->version_minor >= 1)
			return h1_fail(x, 400, "empty Host", h->value.p);
	} else if (!h1_host_valid(h->value.p, h->value.p + h->value.len, false)) {
		return h1_fail(x, 400, "invalid Host", h->value.p);
	}
	/* RFC 9112 3.2.2: the target's authority replaces Host, so rules
	 * and the server see the host we routed on.  An empty Host (HTTP/1.0
	 * only) is filled the same way when the target names a host: we
	 * forward in HTTP/1.1, where an empty Host is refused. */
	if ((m->flags & MSG_F_ABSOLUTE_FORM) || (h->value.len == 0 && m->authority.len))
		h->value = m->authority;
	else if (m->meth != HTTP_METH_CONNECT)
		m->authority = h->value;
	return 0;
}

/* An upgrade to HTTP/2 over cleartext (h2c) is never offered to a server
 * and never forwarded: RFC 9113 dropped it, and a proxy that passes it on
 * lets a client turn its connection into an h2c tunnel to the server,
 * past every routing rule, ACL and limit that judges requests ("h2c
 * smuggling").  Such a request is served as the plain HTTP/1.1 request
 * it also is: its Upgrade fields are removed and it is no upgrade, so a
 * server that answers 101 anyway gets a 502 (proxy/h1_server.c), never a
 * tunnel.  HTTP2-Settings is removed from every request (h1_fields_scan). */
static void h1_request_h2c(struct http_msg *m, const struct h1_fields *f)
{
	if (!f->upgrade_h2)
		return;
	msg_hdr_del_id(m, HDR_UPGRADE);
	m->flags &= ~(uint32_t)(MSG_F_HAS_UPGRADE | MSG_F_CONN_UPGRADE);
}

static int h1_request_done(struct h1_ctx *x)
{
	struct http_msg *m = x->msg;
	struct h1_fields f = { 0 };
	int rc = h1_fields_scan(x, &f);

	if (!rc)
		rc = h1_request_host(x, &f);
	if (rc)
		return rc;
	h1_request_h2c(m, &f);

	const char *at = x->head_end;

	if (f.has_te) {
		if (m->version_minor == 0)
			return h1_fail(x, 400, "Transfer-Encoding in an HTTP/1.0 request", at);
		if (f.has_cl)
			return h1_fail(x, 400, "both Content-Length and Transfer-Encoding", at);
		if (f.te_chunked != 1 || !f.te_chunked_last)
			return h1_fail(x, 400, "chunked is not the final transfer coding", at);
		m->body = BODY_CHUNKED;
	} else if (f.has_cl) {
		/* CL 0 stays BODY_LENGTH so the server still sees
		 * "Content-Length: 0" (some refuse a bodiless POST with 411) */
		m->body = BODY_LENGTH;
		m->content_length = f.cl;
	}
	/* CONNECT has no content (RFC 9110 9.3.6): bytes after its head are
	 * tunnel data, and a body length would make us disagree on that. */
	if (m->meth == HTTP_METH_CONNECT && (f.has_te || f.cl))
		return h1_fail(x, 400, "CONNECT with a body", at);
	return 0;
}

/* Response framing, RFC 9112 6.3, in the RFC's order. */
static int h1_response_done(struct h1_ctx *x)
{
	struct http_msg *m = x->msg;
	struct h1_fields f = { 0 };
	int rc = h1_fields_scan(x, &f);
	const char *at = x->head_end;

	if (rc)
		return rc;
	m->flags |= MSG_F_RESPONSE;
	/* Ambiguity is refused even where the status makes the body empty:
	 * we never forward a head another hop could frame differently. */
	if (f.has_te && f.has_cl)
		return h1_fail(x, 502, "both Content-Length and Transfer-Encoding", at);
	if (f.has_te && m->version_minor == 0)
		return h1_fail(x, 502, "Transfer-Encoding in an HTTP/1.0 response", at);
	if (f.te_chunked > 1)
		return h1_fail(x, 502, "chunked applied more than once", at);

	if (m->status == 101) {
		m->body = BODY_TUNNEL;
	} else if (x->req_meth == HTTP_METH_HEAD || m->status < 200 || m->status == 204 ||
		   m->status == 304) {
		m->body = BODY_NONE;
		if (f.has_cl && (x->req_meth == HTTP_METH_HEAD || m->status == 304)) {
			m->content_length = f.cl;
			m->flags |= MSG_F_KEEP_CL;
		}
	} else if (x->req_meth == HTTP_METH_CONNECT && m->status < 300) {
		m->body = BODY_TUNNEL;
	} else if (f.has_te) {
		m->body = f.te_chunked_last ? BODY_CHUNKED : BODY_UNTIL_CLOSE;
	} else if (f.has_cl) {
		m->body = BODY_LENGTH;
		m->content_length = f.cl;
	} else {
		m->body = BODY_UNTIL_CLOSE;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The head driver.
 */

/* Handles one complete line [p, e) (CRLF excluded).  Returns 0 to go on,
 * 1 on the empty line that ends the head, or H1_ERROR. */
static int h1_line(struct h1_ctx *x, const char *p, const char *e)
{
	if (!x->ps->start_done) {
		/* start line not seen yet: skip empty lines (RFC 9112 2.2) */
		if (p == e)
			return 0;
		int rc = x->resp ? h1_status_line(x, p, e) : h1_request_line(x, p, e);
		if (rc == 0)
			x->ps->start_done = true;
		return rc;
	}
	if (p == e)
		return 1;
	return h1_header_line(x, p, e);
}

/* The caller moved the unparsed bytes (compacted its buffer) between two
 * calls: make the slices of the lines parsed so far follow them.  Rare,
 * and cheaper than asking every caller to start over. */
static void h1_rebase(struct h1_parser *ps, struct http_msg *m, const char *buf)
{
	/* only slices into the parsed part move: "/" and NULL stay */
	msg_rebase(m, ps->base, ps->line_pos, buf);
}

void h1_parser_reset(struct h1_parser *ps)
{
	memset(ps, 0, sizeof(*ps));
}

static int h1_parse_head(struct h1_ctx *x, size_t len)
{
	struct h1_parser *ps = x->ps;
	const char *buf = x->buf;
	/* Nothing past max_head is ever looked at: a head must end within it. */
	size_t end = len < x->max_head ? len : x->max_head;
	size_t pos = ps->scan_pos, line = ps->line_pos;
	int rc;

	if (ps->head_len)
		return H1_DONE;
	if (ps->base != buf) {
		if (ps->base)
			h1_rebase(ps, x->msg, buf);
		ps->base = buf;
	}
	while (pos < end) {
		const char *lf = memchr(buf + pos, '\n', end - pos);

		if (!lf)
			break;

		size_t le = (size_t)(lf - buf);

		if (le == line || buf[le - 1] != '\r')
			return h1_fail(x, 400, "bare LF", lf);
		rc = h1_line(x, buf + line, lf - 1);
		if (rc < 0)
			return rc;
		pos = line = le + 1;
		ps->line_pos = ps->scan_pos = (uint32_t)pos;
		if (rc == 1) {
			x->head_end = buf + pos;
			rc = x->resp ? h1_response_done(x) : h1_request_done(x);
			if (rc)
				return rc;
			ps->head_len = (uint32_t)pos;
			return H1_DONE;
		}
	}
	ps->scan_pos = (uint32_t)end;
	/* max_head bytes without the end of the head: the head can only end
	 * past the limit now, so say it at once - a caller that reads no
	 * more than max_head bytes would otherwise wait forever */
	if (len >= x->max_head)
		return h1_fail(x, 431, "head too large", buf + end);
	return H1_NEED_MORE;
}

int h1_parse_request(struct h1_parser *ps, const char *buf, size_t len, struct http_msg *msg,
		     const struct h1_limits *lim, struct h1_err *err)
{
	struct h1_ctx x;

	h1_ctx_init(&x, ps, buf, msg, lim, err);
	x.lim = buf + len;
	x.resp = false;
	x.req_meth = HTTP_METH_OTHER;
	return h1_parse_head(&x, len);
}

int h1_parse_response(struct h1_parser *ps, const char *buf, size_t len,
		      struct http_msg *msg, enum http_meth req_meth,
		      const struct h1_limits *lim, struct h1_err *err)
{
	struct h1_ctx x;

	h1_ctx_init(&x, ps, buf, msg, lim, err);
	x.lim = buf + len;
	x.resp = true;
	x.req_meth = (uint8_t)req_meth;
	return h1_parse_head(&x, len);
}

/* ------------------------------------------------------------------------
 * Chunked transfer coding (RFC 9112 7.1), in place.
 */
enum {
	H1C_SIZE = 0,	/* expecting a chunk-size line */
	H1C_DATA,	/* inside chunk data, c->remaining bytes left */
	H1C_DATA_CRLF,	/* expecting the CRLF after chunk data */
	H1C_TRAILER,	/* after the last chunk: trailer lines or the final CRLF */
	H1C_DONE,
	H1C_ERROR,
};

/* Trailer fields dropped even in NORMALIZE mode: framing, routing and
 * hop-by-hop fields have no business in a trailer (RFC 9110 6.5.1), and a
 * recipient that merges trailers into the head could be misled by them. */
#define H1_TRAILER_DROP \
	((1u << HDR_HOST) | (1u << HDR_CONTENT_LENGTH) | (1u << HDR_TRANSFER_ENCODING) | \
	 (1u << HDR_CONNECTION) | (1u << HDR_KEEP_ALIVE) | (1u << HDR_TE) | \
	 (1u << HDR_TRAILER) | (1u << HDR_PROXY_CONNECTION) | (1u << HDR_UPGRADE) | \
	 (1u << HDR_EXPECT))

void h1_chunk_init(struct h1_chunk *c, enum h1_chunk_mode mode)
{
	c->state = H1C_SIZE;
	c->mode = (uint8_t)mode;
	c->remaining = 0;
	c->total = 0;
	c->on_data = NULL;
	c->on_trailer = NULL;
	c->arg = NULL;
}

static int h1_chunk_fail(struct h1_chunk *c, struct h1_err *err, const char *reason,
			 size_t off)
{
	c->state = H1C_ERROR;
	if (err) {
		/* the caller of a response body answers 502 instead */
		err->status = 400;
		err->reason = reason;
		err->offset = (uint32_t)off;
	}
	return H1_ERROR;
}

/* quoted-string (RFC 9110 5.6.4) from p, which is at the opening quote.
 * Returns the byte after the closing quote, or NULL. */
static const char *h1_skip_quoted(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\') {
			if (++p == e || !h1_is(*p, C_VALUE))
				return NULL;
		} else if (!h1_is(*p, C_QDTEXT)) {
			return NULL;
		}
	}
	return NULL;
}

/* chunk-size [ chunk-ext ] from [p, e) (no CRLF).  Extensions are
 * validated and dropped:
 *   chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ) */
static const char *h1_chunk_size(const char *p, const char *e, uint64_t *size)
{
	const char *s = p;
	uint64_t v = 0;

	while (p < e && h1_is(*p, C_HEX)) {
		if (p - s == 16)
			return p;	/* more than 64 bits */
		unsigned char c = (unsigned char)*p++;

		v = v << 4 | (uint64_t)(CC_DIGIT(c) ? c - '0' : (h1_lower(c) - 'a' + 10));
	}
	if (p == s)
		return p;
	*size = v;
	for (;;) {
		const char *w = p;

		while (p < e && h1_ows(*p))
			p++;
		if (p == e)
			return w == p ? NULL : w;	/* no trailing BWS without ';' */
		if (*p++ != ';')
			return p - 1;
		while (p < e && h1_ows(*p))
			p++;
		s = p;
		p = h1_scan_token(p, e);
		if (p == s)
			return p;

		const char *t = p;

		while (t < e && h1_ows(*t))
			t++;
		if (t == e || *t != '=')
			continue;
		p = t + 1;
		while (p < e && h1_ows(*p))
			p++;
		if (p < e && *p == '"') {
			const char *q = h1_skip_quoted(p, e);

			if (!q)
				return p;
			p = q;
		} else {
			s = p;
			p = h1_scan_token(p, e);
			if (p == s)
				return p;
		}
	}
}

static size_t h1_put_hex(char *dst, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0;

	do {
		tmp[n++] = hex[v & 15];
		v >>= 4;
	} while (v);
	for (size_t i = 0; i < n; i++)
		dst[i] = tmp[n - 1 - i];
	return n;
}

/* Finds a whole line at data[in..len): returns its length with the CRLF,
 * 0 if it is not complete yet, or -1 (bare LF, too long) with *why set. */
static long h1_chunk_line(const char *data, size_t in, size_t len, const char **why)
{
	size_t avail = len - in;
	size_t lim = avail < H1_CHUNK_LINE_MAX ? avail : H1_CHUNK_LINE_MAX;
	const char *lf = memchr(data + in, '\n', lim);

	if (!lf) {
		*why = "chunk line too long";
		return avail >= H1_CHUNK_LINE_MAX ? -1 : 0;
	}
	if (lf == data + in || lf[-1] != '\r') {
		*why = "bare LF in chunked body";
		return -1;
	}
	return lf - (data + in) + 1;
}

int h1_chunk_step(struct h1_chunk *c, char *data, size_t len,
		  size_t *consumed, size_t *produced, struct h1_err *err)
{
	size_t in = 0, out = 0;
	int rc = H1_NEED_MORE;
	const char *why = NULL;
	long n;

	while (rc == H1_NEED_MORE) {
		switch (c->state) {
		case H1C_SIZE: {
			uint64_t size = 0;

			n = h1_chunk_line(data, in, len, &why);
			if (n <= 0) {
				if (n < 0)
					rc = h1_chunk_fail(c, err, why, in);
				goto out;
			}

			const char *bad = h1_chunk_size(data + in, data + in + n - 2, &size);

			if (bad) {
				rc = h1_chunk_fail(c, err, "invalid chunk size line",
						   (size_t)(bad - data));
				goto out;
			}
			if (size > UINT64_MAX - c->total) {
				rc = h1_chunk_fail(c, err, "chunked body too large", in);
				goto out;
			}
			/* The canonical line is never longer than the one read
			 * (no leading zeros, no extensions), so writing it at
			 * `out` <= `in` cannot overtake unread input. */
			if (c->mode == H1_CHUNK_NORMALIZE) {
				out += h1_put_hex(data + out, size);
				data[out++] = '\r';
				data[out++] = '\n';
			}
			in += (size_t)n;
			c->remaining = size;
			c->state = size ? H1C_DATA : H1C_TRAILER;
			break;
		}
		case H1C_DATA: {
			size_t k = len - in;

			if (k > c->remaining)
				k = (size_t)c->remaining;
			if (k == 0)
				goto out;
			if (out != in)
				memmove(data + out, data + in, k);
			in += k;
			out += k;
			c->remaining -= k;
			c->total += k;
			if (c->remaining == 0)
				c->state = H1C_DATA_CRLF;
			if (c->on_data && c->on_data(c->arg, data + out - k, k))
				goto out;
			break;
		}
		case H1C_DATA_CRLF:
			if (in < len && data[in] != '\r') {
				rc = h1_chunk_fail(c, err, "missing CRLF after chunk data", in);
				goto out;
			}
			if (in + 1 < len && data[in + 1] != '\n') {
				rc = h1_chunk_fail(c, err, "missing CRLF after chunk data", in + 1);
				goto out;
			}
			if (len - in < 2)
				goto out;
			in += 2;
			if (c->mode == H1_CHUNK_NORMALIZE) {
				data[out++] = '\r';
				data[out++] = '\n';
			}
			c->state = H1C_SIZE;
			break;
		case H1C_TRAILER: {
			n = h1_chunk_line(data, in, len, &why);
			if (n <= 0) {
				if (n < 0)
					rc = h1_chunk_fail(c, err, why, in);
				goto out;
			}
			if (n == 2) {
				in += 2;
				if (c->mode == H1_CHUNK_NORMALIZE) {
					data[out++] = '\r';
					data[out++] = '\n';
				}
				c->state = H1C_DONE;
				rc = H1_DONE;
				goto out;
			}

			struct slice name, value;
			const char *bad = h1_field_split(data + in, data + in + n - 2, data + len,
							 &name, &value, &why);

			if (bad) {
				rc = h1_chunk_fail(c, err, why, (size_t)(bad - data));
				goto out;
			}
			/* `remaining` is free after the last chunk: it counts
			 * trailer fields, bounded like header fields */
			if (++c->remaining > HTTP_MAX_HDRS) {
				rc = h1_chunk_fail(c, err, "too many trailer fields", in);
				goto out;
			}
			bool keep = !((1u << msg_hdr_id(name)) & H1_TRAILER_DROP);
			if (keep && c->on_trailer && c->on_trailer(c->arg, name, value)) {
				rc = h1_chunk_fail(c, err, "trailer fields too large", in);
				goto out;
			}
			/* forwarded byte for byte: a rewritten line could be
			 * longer than the input and overtake it */
			if (c->mode == H1_CHUNK_NORMALIZE && keep) {
				if (out != in)
					memmove(data + out, data + in, (size_t)n);
				out += (size_t)n;
			}
			in += (size_t)n;
			break;
		}
		case H1C_DONE:
			rc = H1_DONE;
			goto out;
		default:
			rc = h1_chunk_fail(c, err, "chunked body already failed", in);
			goto out;
		}
	}
out:
	*consumed = in;
	*produced = out;
	return rc;
}
