/*
 * cond.c - the condition language: parse "<fetch> <op> <value>" tests joined
 * with and / or / not and parentheses into a small tree at load, evaluate it
 * per request.
 *
 * Where it sits: the config parser hands the tokens after `if`/`unless` to
 * cond_parse(); the proxy calls cond_eval() on each request (from several
 * worker threads at once) to pick a backend.  Evaluation short-circuits,
 * never allocates (except one pcre2 match block per thread, on first use,
 * and a copy of a path over 1k holding an encoded '/' or unreserved
 * character, "//" or a dot segment) and
 * never writes to the tree.
 *
 * Grammar (precedence not > and > or):
 *   or   := and ("or" and)*
 *   and  := not ("and" not)*
 *   not  := "not" not | "(" or ")" | test
 *   test := FETCH OP VALUE | FETCH "in" VALUE+ | BOOLFETCH
 * An `in` VALUE may be file(PATH): an IP list the configuration loaded
 * (cond_parse_with's loader, net/iplist.h), matched by address.
 * A boolean fetch (ssl) stands alone when what follows it ends a term
 * (and, or, ')', end); otherwise it takes an operator like any fetch.
 * `and` and `or` nodes are n-ary so a long chain does not make a deep tree.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter/cond.h"
#include "net/iplist.h"

/* Deep nesting buys nothing and would let a hostile config exhaust the
 * stack in the recursive parser and evaluator. */
#define COND_MAX_DEPTH 32

enum cond_type { COND_TEST = 0, COND_AND, COND_OR, COND_NOT };

enum cond_op {
	OP_EQ = 0, OP_NE, OP_PREFIX, OP_SUFFIX, OP_CONTAINS, OP_REGEX, OP_IN,
	OP_LT, OP_LE, OP_GT, OP_GE,   /* integers */
	OP_BOOL,                      /* a boolean fetch alone: true when it is "1" */
};

struct cond_cidr {
	uint8_t fam;        /* AF_INET or AF_INET6 */
	uint8_t bits;
	uint8_t addr[16];   /* masked to `bits` */
};

struct cond {
	enum cond_type type;
	struct cond **kids;   /* AND, OR: nkids >= 2; NOT: exactly 1 */
	int nkids;

	/* COND_TEST */
	struct fetch *fetch;
	enum cond_op op;
	bool icase;           /* host: compare ASCII case-insensitively */
	struct slice *vals;   /* one for ==, != ...; the list for `in` */
	struct slice *dvals;  /* path, url: vals as a normalising server reads them
				 (cond_norm_view), in vals[i]'s allocation */
	int nvals;
	long long num;        /* the value as an integer, when num_ok */
	bool num_ok;          /* ==, != compare numerically if the fetched value is one too */
	struct cond_cidr *cidrs;  /* src in ... */
	int ncidrs;
	const struct iplist **lists;   /* in file(PATH): owned by the configuration */
	int nlists;
	bool addr_in;         /* `in` on an address (src, peer): cidrs and lists */
	pcre2_code *re;
	bool jit;             /* re was JIT-compiled: pcre2_jit_match() runs it directly */
	bool status;          /* the fetch is `status`: numeric tests read the number */
	uint8_t kind;         /* fetch_kind(fetch) */
};

static const struct {
	const char *name;
	enum cond_op op;
} cond_ops[] = {
	{ "==", OP_EQ },	 { "!=", OP_NE },    { "prefix", OP_PREFIX },
	{ "suffix", OP_SUFFIX }, { "contains", OP_CONTAINS }, { "~", OP_REGEX },
	{ "in", OP_IN },	 { "<", OP_LT },     { "<=", OP_LE },
	{ ">", OP_GT },		 { ">=", OP_GE },
};

#define COND_OPS_EXPECTED "an operator (==, !=, <, <=, >, >=, prefix, suffix, contains, ~, in)"

/* ---- tokens ------------------------------------------------------------ */

/* The config lexer splits on blanks only, so "(path" or "/a)" arrive as one
 * word: items are the words with their grouping parens split off. */
enum item_kind { IT_WORD, IT_OPEN, IT_CLOSE };

struct cond_item {
	enum item_kind kind;
	struct cfg_tok tok;   /* the word (s is NUL-terminated), or the paren's position */
	int src;              /* index of the config token it came from */
};

struct cond_parser {
	struct cond_item *it;
	int n, pos;
	int ntok;             /* config tokens, for "unexpected end" */
	int depth;
	int *err_tok;
	char *err;
	size_t errlen;
	const struct cond_loader *ld;   /* file lists; NULL: none */
};

static int cond_item_add(struct cond_item *it, int n, enum item_kind kind, const char *s,
			 const struct cfg_tok *t, int col, int src)
{
	it[n].kind = kind;
	it[n].tok = (struct cfg_tok){ s, t->line, col, t->quoted };
	it[n].src = src;
	return n + 1;
}

/*
 * Splits words into items.  Leading '(' are always grouping; of a word's
 * trailing ')' run, those that close a '(' inside the word belong to it
 * (header(X-User)) and the rest are grouping.  Quoted tokens are never
 * split.  Returns the item count, or -1 when out of memory.
 */
static int cond_split(const struct cfg_tok *toks, int ntok, struct cond_item **itp, char **bufp)
{
	size_t total = 0;
	int maxit = 0;

	for (int i = 0; i < ntok; i++) {
		size_t l = strlen(toks[i].s);
		total += l + 1;
		maxit += (int)l + 1;
	}
	struct cond_item *it = calloc((size_t)maxit + 1, sizeof(*it));
	char *buf = malloc(total + 1);
	if (!it || !buf) {
		free(it);
		free(buf);
		return -1;
	}
	*itp = it;
	*bufp = buf;

	int n = 0;
	for (int i = 0; i < ntok; i++) {
		const struct cfg_tok *t = &toks[i];
		size_t len = strlen(t->s);

		if (t->quoted) {
			memcpy(buf, t->s, len + 1);
			n = cond_item_add(it, n, IT_WORD, buf, t, t->col, i);
			buf += len + 1;
			continue;
		}
		size_t a = 0;
		while (a < len && t->s[a] == '(') {
			n = cond_item_add(it, n, IT_OPEN, "(", t, t->col + (int)a, i);
			a++;
		}
		size_t b = len;
		while (b > a && t->s[b - 1] == ')')
			b--;
		/* opens left unclosed in the word's body claim trailing ')' */
		int open = 0;
		for (size_t k = a; k < b; k++)
			open += t->s[k] == '(' ? 1 : t->s[k] == ')' ? -1 : 0;
		size_t keep = b;
		while (open > 0 && keep < len) {
			keep++;
			open--;
		}
		if (keep > a) {
			memcpy(buf, t->s + a, keep - a);
			buf[keep - a] = '\0';
			n = cond_item_add(it, n, IT_WORD, buf, t, t->col + (int)a, i);
			buf += keep - a + 1;
		}
		for (size_t k = keep; k < len; k++)
			n = cond_item_add(it, n, IT_CLOSE, ")", t, t->col + (int)k, i);
	}
	return n;
}

static const struct cond_item *cond_peek(const struct cond_parser *p)
{
	return p->pos < p->n ? &p->it[p->pos] : NULL;
}

static bool cond_is_word(const struct cond_item *it, const char *w)
{
	return it && it->kind == IT_WORD && !it->tok.quoted && strcmp(it->tok.s, w) == 0;
}

/* True for the items that end an `in` list or a value: and, or, ')', end. */
static bool cond_is_stop(const struct cond_item *it)
{
	return !it || it->kind == IT_CLOSE || cond_is_word(it, "and") || cond_is_word(it, "or");
}

static const char *cond_item_text(const struct cond_item *it)
{
	return it->kind == IT_WORD ? it->tok.s : it->kind == IT_OPEN ? "(" : ")";
}

static struct cond *cond_fail(struct cond_parser *p, const struct cond_item *at, const char *fmt,
			      ...) __attribute__((format(printf, 3, 4)));

static struct cond *cond_fail(struct cond_parser *p, const struct cond_item *at, const char *fmt,
			      ...)
{
	va_list ap;

	*p->err_tok = at ? at->src : p->ntok;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return NULL;
}

/* ---- values ------------------------------------------------------------ */

static int cond_parse_cidr(const char *s, struct cond_cidr *c)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	int max;

	if (alen == 0 || alen >= sizeof(addr))
		return -1;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, addr, c->addr) == 1) {
		c->fam = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		c->fam = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	int bits = max;
	if (slash) {
		const char *d = slash + 1;
		if (!*d || strlen(d) > 3)
			return -1;
		bits = 0;
		for (; *d; d++) {
			if (*d < '0' || *d > '9')
				return -1;
			bits = bits * 10 + (*d - '0');
		}
		if (bits > max)
			return -1;
	}
	c->bits = (uint8_t)bits;
	/* Host bits are cleared so 10.1.2.3/8 means what it obviously means. */
	for (int i = 0; i < 16; i++) {
		int keep = bits - i * 8;
		if (keep <= 0)
			c->addr[i] = 0;
		else if (keep < 8)
			c->addr[i] &= (uint8_t)(0xff00 >> keep);
	}
	return 0;
}

static void cond_lower(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] | 0x20);
}

/* Removes the dot segments of b[0..n) (a path starting with '/') in place,
 * as RFC 3986 5.2.4 does; the new length. */
static size_t cond_remove_dots(char *b, size_t n)
{
	size_t r = 0, w = 0;

	while (r < n) {   /* b[r] is a '/' */
		size_t s = r + 1, e = s;
		while (e < n && b[e] != '/')
			e++;
		bool last = e == n;
		if (e - s == 1 && b[s] == '.') {
			if (last)
				b[w++] = '/';
		} else if (e - s == 2 && b[s] == '.' && b[s + 1] == '.') {
			while (w > 0 && b[w - 1] != '/')
				w--;
			if (w > 0)
				w--;
			if (last)
				b[w++] = '/';
		} else {
			memmove(b + w, b + r, e - r);
			w += e - r;
		}
		r = e;
	}
	return w;
}

/* The value of the hex digit c, or -1. */
static int cond_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The byte %XX at p (p[0] == '%', p[1], p[2] readable) decodes to when a
 * normalising server reads it as that byte: '/' (%2f) or an unreserved
 * character (ALPHA / DIGIT / - . _ ~, RFC 3986 2.3 and 6.2.2.2); else 0. */
static char cond_pct_norm(const char *p)
{
	int hi = cond_hex(p[1]), lo = cond_hex(p[2]);
	if (hi < 0 || lo < 0)
		return 0;
	char d = (char)(hi << 4 | lo), l = (char)(d | 0x20);
	if ((l >= 'a' && l <= 'z') || (d >= '0' && d <= '9') || d == '-' || d == '.' ||
	    d == '_' || d == '~' || d == '/')
		return d;
	return 0;
}

/*
 * Copies p[0..n) to out as a server that decodes and normalises reads its
 * path (before the first '?'), in this order: %2f and the %XX of an
 * unreserved character decoded, runs of '/' merged into one (a decoded
 * %2f counts), then dot segments removed.  Merging before resolving is
 * what nginx (merge_slashes on) and the frameworks that merge do:
 * /a//../admin is /admin to them, /a/admin to a server that does not merge
 * (which the reading as sent is closer to).  Case and ';' path parameters
 * are kept (docs/configuration.md, strict_encoded_slash).  The length
 * written (at most n).
 */
static size_t cond_norm_view(const char *p, size_t n, char *out)
{
	const char *q = memchr(p, '?', n);
	size_t pl = q ? (size_t)(q - p) : n, o = 0;
	bool abs = pl && (p[0] == '/' || (p[0] == '%' && pl > 2 && cond_pct_norm(p) == '/'));

	for (size_t i = 0; i < pl;) {
		char c = p[i], d = c == '%' && i + 2 < pl ? cond_pct_norm(p + i) : 0;
		if (d) {
			c = d;
			i += 3;
		} else {
			i++;
		}
		if (c == '/' && abs && o && out[o - 1] == '/')
			continue;
		out[o++] = c;
	}
	if (abs)
		o = cond_remove_dots(out, o);
	memcpy(out + o, p + pl, n - pl);
	return o + n - pl;
}

/* The bytes cond_needs_view() stops at. */
static const uint8_t cond_path_stop[256] = { ['/'] = 1, ['%'] = 1, ['?'] = 1 };

/* Whether the path of p[0..n) (before the first '?') holds a %XX that
 * cond_norm_view() decodes, "//" or a dot segment: a server may read it
 * otherwise than as sent.  One pass, no copy: the bytes between two '/'
 * cost one table look-up each. */
static bool cond_needs_view(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!cond_path_stop[(uint8_t)p[i]])
			continue;
		char c = p[i];
		if (c == '/') {
			if (i + 1 == n)
				break;
			char e = p[i + 1];
			if (e == '/')
				return true;
			if (e == '.') {
				size_t k = i + 2 < n && p[i + 2] == '.' ? i + 3 : i + 2;
				if (k >= n || p[k] == '/' || p[k] == '?')
					return true;
			}
		} else if (c == '%') {
			if (i + 2 < n && cond_pct_norm(p + i))
				return true;
		} else {
			break;   /* '?' */
		}
	}
	return false;
}

static bool cond_slash_fetch(const struct cond *c)
{
	return c->kind == FETCH_PATH || c->kind == FETCH_URL;
}

static int cond_add_value(struct cond *c, const char *s)
{
	size_t len = strlen(s);
	bool two = cond_slash_fetch(c) && c->dvals;
	char *v = malloc(two ? 2 * len + 2 : len + 1);

	if (!v)
		return -1;
	memcpy(v, s, len + 1);
	if (c->icase)
		cond_lower(v, len);
	if (two) {
		char *d = v + len + 1;
		size_t dl = cond_norm_view(v, len, d);
		d[dl] = '\0';
		c->dvals[c->nvals] = (struct slice){ d, (uint32_t)dl };
	}
	c->vals[c->nvals++] = (struct slice){ v, (uint32_t)len };
	return 0;
}

/* The values' array (and, for path and url, its decoded twin). */
static bool cond_alloc_values(struct cond *c, int max)
{
	c->vals = calloc((size_t)max, sizeof(*c->vals));
	if (c->vals && cond_slash_fetch(c))
		c->dvals = calloc((size_t)max, sizeof(*c->dvals));
	return c->vals && (!cond_slash_fetch(c) || c->dvals);
}

static struct cond *cond_compile_regex(struct cond_parser *p, struct cond *c,
				       const struct cond_item *at)
{
	int rc;
	PCRE2_SIZE off;

	c->re = pcre2_compile((PCRE2_SPTR)at->tok.s, PCRE2_ZERO_TERMINATED, 0, &rc, &off, NULL);
	if (!c->re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(rc, msg, sizeof(msg));
		return cond_fail(p, at, "invalid regex: %s at offset %zu", (const char *)msg,
				 (size_t)off);
	}
	/* JIT is an optimisation only: without it (no JIT support in this
	 * pcre2 build, or no executable memory) the interpreter matches. */
	c->jit = pcre2_jit_compile(c->re, PCRE2_JIT_COMPLETE) == 0;
	return c;
}

/* `file(PATH)` in an `in` list: the loader's list. */
static struct cond *cond_add_list(struct cond_parser *p, struct cond *c, const struct cond_item *v)
{
	char path[4096];
	size_t n = strlen(v->tok.s) - 6;

	if (!p->ld)
		return cond_fail(p, v, "lists from files are read with the configuration only");
	if (n >= sizeof(path))
		return cond_fail(p, v, "file name too long in '%.40s...'", v->tok.s);
	memcpy(path, v->tok.s + 5, n);
	path[n] = '\0';
	const struct iplist *l = p->ld->iplist(p->ld->arg, path, p->err, p->errlen);
	if (!l) {
		*p->err_tok = v->src;
		return NULL;
	}
	c->lists[c->nlists++] = l;
	return c;
}

/* Reads the value(s) after the operator into c. */
static struct cond *cond_parse_values(struct cond_parser *p, struct cond *c,
				      const struct cond_item *op_it)
{
	const struct cond_item *v = cond_peek(p);

	if (c->op != OP_IN) {
		if (!v)
			return cond_fail(p, v, "expected a value after '%s' at end of condition",
					 op_it->tok.s);
		if (v->kind == IT_OPEN)
			return cond_fail(p, v,
					 "expected a value after '%s', got '(' (an unquoted "
					 "leading '(' groups; quote a value that starts with one, "
					 "e.g. \"(a|b)\")",
					 op_it->tok.s);
		if (v->kind != IT_WORD)
			return cond_fail(p, v, "expected a value after '%s', got ')'", op_it->tok.s);
		if (cond_is_stop(v))
			return cond_fail(p, v,
					 "expected a value after '%s', got '%s' (quote it to "
					 "compare with that word)",
					 op_it->tok.s, v->tok.s);
		p->pos++;
		if (c->op == OP_REGEX)
			return cond_compile_regex(p, c, v);
		c->num_ok = cond_parse_int((struct slice){ v->tok.s, (uint32_t)strlen(v->tok.s) },
					   &c->num);
		if (c->op >= OP_LT && !c->num_ok)
			return cond_fail(p, v, "expected an integer after '%s', got '%s'",
					 op_it->tok.s, v->tok.s);
		if (!cond_alloc_values(c, 1) || cond_add_value(c, v->tok.s) < 0)
			return cond_fail(p, v, "out of memory");
		return c;
	}

	int max = 0;
	for (int i = p->pos; i < p->n && !cond_is_stop(&p->it[i]); i++)
		max++;
	if (max == 0)
		return cond_fail(p, v, "expected at least one value after 'in'%s",
				 v ? "" : " at end of condition");
	bool src = fetch_kind(c->fetch) == FETCH_SRC || fetch_kind(c->fetch) == FETCH_PEER;
	c->addr_in = src;
	if (src)
		c->cidrs = calloc((size_t)max, sizeof(*c->cidrs));
	else
		cond_alloc_values(c, max);
	c->lists = calloc((size_t)max, sizeof(*c->lists));
	if ((!c->cidrs && !c->vals) || (c->vals && cond_slash_fetch(c) && !c->dvals) ||
	    !c->lists)
		return cond_fail(p, v, "out of memory");
	for (int i = 0; i < max; i++) {
		v = &p->it[p->pos];
		if (v->kind != IT_WORD)
			return cond_fail(p, v, "expected a value in the list after 'in', got '('");
		size_t vl = strlen(v->tok.s);
		if (!v->tok.quoted && vl > 6 && strncmp(v->tok.s, "file(", 5) == 0 &&
		    v->tok.s[vl - 1] == ')') {
			if (!cond_add_list(p, c, v))
				return NULL;
		} else if (src) {
			if (cond_parse_cidr(v->tok.s, &c->cidrs[c->ncidrs]) < 0)
				return cond_fail(p, v,
						 "invalid CIDR '%s'; expected an address with an "
						 "optional prefix length, e.g. 10.0.0.0/8 or "
						 "2001:db8::/32",
						 v->tok.s);
			c->ncidrs++;
		} else if (cond_add_value(c, v->tok.s) < 0) {
			return cond_fail(p, v, "out of memory");
		}
		p->pos++;
	}
	return c;
}

bool cond_parse_int(struct slice s, long long *out)
{
	uint32_t i = 0;
	bool neg = false;
	long long v = 0;

	if (s.len && (s.p[0] == '-' || s.p[0] == '+')) {
		neg = s.p[0] == '-';
		i = 1;
	}
	/* 18 digits cannot overflow a long long */
	if (s.len == i || s.len - i > 18)
		return false;
	for (; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (s.p[i] - '0');
	}
	*out = neg ? -v : v;
	return true;
}

/* ---- parser ------------------------------------------------------------ */

static struct cond *cond_parse_or(struct cond_parser *p);

static struct cond *cond_parse_test(struct cond_parser *p)
{
	const struct cond_item *f_it = cond_peek(p);
	char ferr[200];

	if (!f_it)
		return cond_fail(p, NULL, "expected a condition (e.g. path prefix /api/) at end of "
					  "line");
	if (f_it->kind == IT_CLOSE)
		return cond_fail(p, f_it, "expected a fetch (host, path, method, src, peer, "
					  "header(NAME), query(NAME), cookie(NAME), ...) before ')'");
	if (cond_is_word(f_it, "and") || cond_is_word(f_it, "or"))
		return cond_fail(p, f_it, "expected a condition before '%s'", f_it->tok.s);

	struct cond *c = calloc(1, sizeof(*c));
	if (!c)
		return cond_fail(p, f_it, "out of memory");
	c->type = COND_TEST;
	c->fetch = fetch_parse(&f_it->tok, ferr, sizeof(ferr));
	if (!c->fetch) {
		cond_free(c);
		return cond_fail(p, f_it, "%s", ferr);
	}
	c->icase = fetch_kind(c->fetch) == FETCH_HOST;
	c->status = fetch_kind(c->fetch) == FETCH_STATUS;
	c->kind = (uint8_t)fetch_kind(c->fetch);
	p->pos++;

	const struct cond_item *op_it = cond_peek(p);
	if (fetch_is_bool(c->fetch) && cond_is_stop(op_it)) {
		c->op = OP_BOOL;
		return c;
	}
	size_t i;
	for (i = 0; op_it && op_it->kind == IT_WORD && !op_it->tok.quoted &&
		    i < sizeof(cond_ops) / sizeof(cond_ops[0]);
	     i++)
		if (strcmp(op_it->tok.s, cond_ops[i].name) == 0)
			break;
	if (!op_it || op_it->kind != IT_WORD || op_it->tok.quoted ||
	    i == sizeof(cond_ops) / sizeof(cond_ops[0])) {
		cond_free(c);
		if (!op_it)
			return cond_fail(p, NULL, "expected " COND_OPS_EXPECTED " after '%s'",
					 f_it->tok.s);
		return cond_fail(p, op_it, "expected " COND_OPS_EXPECTED " after '%s', got '%s'",
				 f_it->tok.s, cond_item_text(op_it));
	}
	c->op = cond_ops[i].op;
	p->pos++;
	if (!cond_parse_values(p, c, op_it)) {
		cond_free(c);
		return NULL;
	}
	return c;
}

static struct cond *cond_parse_not(struct cond_parser *p)
{
	const struct cond_item *it = cond_peek(p);
	struct cond *c;

	if (it && (it->kind == IT_OPEN || cond_is_word(it, "not"))) {
		if (++p->depth > COND_MAX_DEPTH)
			return cond_fail(p, it, "condition nests too deeply (more than %d levels)",
					 COND_MAX_DEPTH);
		p->pos++;
		if (it->kind == IT_OPEN) {
			c = cond_parse_or(p);
			if (!c)
				return NULL;
			const struct cond_item *close = cond_peek(p);
			if (!close || close->kind != IT_CLOSE) {
				cond_free(c);
				if (!close)
					return cond_fail(p, NULL,
							 "expected ')' to close the '(' at column "
							 "%d",
							 it->tok.col);
				return cond_fail(p, close, "expected 'and', 'or' or ')', got '%s'",
						 cond_item_text(close));
			}
			p->pos++;
		} else {
			c = cond_parse_not(p);
			if (!c)
				return NULL;
			c = cond_negate(c);
			if (!c)
				return cond_fail(p, it, "out of memory");
		}
		p->depth--;
		return c;
	}
	return cond_parse_test(p);
}

/* Parses `sub (word sub)*` into one n-ary node of `type`. */
static struct cond *cond_parse_chain(struct cond_parser *p, enum cond_type type, const char *word,
				     struct cond *(*sub)(struct cond_parser *))
{
	struct cond *first = sub(p);

	if (!first || !cond_is_word(cond_peek(p), word))
		return first;

	struct cond *c = calloc(1, sizeof(*c));
	int cap = 4;
	if (c)
		c->kids = malloc((size_t)cap * sizeof(*c->kids));
	if (!c || !c->kids) {
		free(c);
		cond_free(first);
		return cond_fail(p, cond_peek(p), "out of memory");
	}
	c->type = type;
	c->kids[c->nkids++] = first;
	while (cond_is_word(cond_peek(p), word)) {
		p->pos++;
		struct cond *k = sub(p);
		if (!k) {
			cond_free(c);
			return NULL;
		}
		if (c->nkids == cap) {
			struct cond **nk = realloc(c->kids, (size_t)cap * 2 * sizeof(*nk));
			if (!nk) {
				cond_free(k);
				cond_free(c);
				return cond_fail(p, cond_peek(p), "out of memory");
			}
			c->kids = nk;
			cap *= 2;
		}
		c->kids[c->nkids++] = k;
	}
	return c;
}

static struct cond *cond_parse_and(struct cond_parser *p)
{
	return cond_parse_chain(p, COND_AND, "and", cond_parse_not);
}

static struct cond *cond_parse_or(struct cond_parser *p)
{
	return cond_parse_chain(p, COND_OR, "or", cond_parse_and);
}

struct cond *cond_parse(const struct cfg_tok *toks, int ntok, int *err_tok, char *err,
			size_t errlen)
{
	return cond_parse_with(toks, ntok, NULL, err_tok, err, errlen);
}

struct cond *cond_parse_with(const struct cfg_tok *toks, int ntok, const struct cond_loader *ld,
			     int *err_tok, char *err, size_t errlen)
{
	struct cond_parser p = { .ntok = ntok, .err_tok = err_tok, .err = err, .errlen = errlen,
				 .ld = ld };
	char *buf = NULL;

	*err_tok = -1;
	if (errlen)
		err[0] = '\0';
	if (ntok <= 0)
		return cond_fail(&p, NULL, "expected a condition (e.g. path prefix /api/)");
	p.n = cond_split(toks, ntok, &p.it, &buf);
	if (p.n < 0)
		return cond_fail(&p, NULL, "out of memory");

	struct cond *c = cond_parse_or(&p);
	if (c && p.pos < p.n) {
		const struct cond_item *it = &p.it[p.pos];
		if (it->kind == IT_CLOSE)
			cond_fail(&p, it, "unbalanced ')'; no '(' is open");
		else
			cond_fail(&p, it, "expected 'and', 'or' or end of condition, got '%s'",
				  cond_item_text(it));
		cond_free(c);
		c = NULL;
	}
	free(p.it);
	free(buf);
	return c;
}

struct cond *cond_negate(struct cond *c)
{
	struct cond *n = calloc(1, sizeof(*n));

	if (n)
		n->kids = malloc(sizeof(*n->kids));
	if (!n || !n->kids) {
		free(n);
		cond_free(c);
		return NULL;
	}
	n->type = COND_NOT;
	n->kids[0] = c;
	n->nkids = 1;
	return n;
}

void cond_free(struct cond *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nkids; i++)
		cond_free(c->kids[i]);
	free(c->kids);
	fetch_free(c->fetch);
	for (int i = 0; i < c->nvals; i++)
		free((char *)c->vals[i].p);
	free(c->vals);
	free(c->dvals);
	free(c->cidrs);
	free(c->lists);
	if (c->re)
		pcre2_code_free(c->re);
	free(c);
}

const struct fetch *cond_fetch_outside(const struct cond *c, unsigned allowed)
{
	if (c->type == COND_TEST)
		return FETCH_MASK(fetch_kind(c->fetch)) & allowed ? NULL : c->fetch;
	for (int i = 0; i < c->nkids; i++) {
		const struct fetch *f = cond_fetch_outside(c->kids[i], allowed);
		if (f)
			return f;
	}
	return NULL;
}

/* ---- evaluation -------------------------------------------------------- */

static inline unsigned char cond_lc(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* Compares subject bytes with a pattern that, for icase, is already lower. */
static bool cond_mem_eq(const char *s, const char *pat, uint32_t n, bool icase)
{
	if (n == 0)
		return true;
	if (!icase)
		return memcmp(s, pat, n) == 0;
	for (uint32_t i = 0; i < n; i++)
		if (cond_lc((unsigned char)s[i]) != (unsigned char)pat[i])
			return false;
	return true;
}

static bool cond_contains(struct slice s, struct slice pat, bool icase)
{
	if (pat.len == 0)
		return true;
	if (s.len < pat.len)
		return false;
	if (!icase)
		return memmem(s.p, s.len, pat.p, pat.len) != NULL;
	for (uint32_t i = 0; i + pat.len <= s.len; i++)
		if (cond_mem_eq(s.p + i, pat.p, pat.len, true))
			return true;
	return false;
}

static pthread_key_t cond_md_key;
static pthread_once_t cond_md_once = PTHREAD_ONCE_INIT;
static __thread pcre2_match_data *cond_md;
static bool cond_md_key_ok;

static void cond_md_destroy(void *md)
{
	pcre2_match_data_free(md);
}

static void cond_md_key_init(void)
{
	cond_md_key_ok = pthread_key_create(&cond_md_key, cond_md_destroy) == 0;
}

/* One match block per thread, reused for every regex: we only ask whether
 * a pattern matches, so one ovector pair is enough for any pattern
 * (pcre2_match returns 0 rather than failing when captures do not fit). */
static pcre2_match_data *cond_match_data(void)
{
	if (cond_md)
		return cond_md;
	pthread_once(&cond_md_once, cond_md_key_init);
	cond_md = pcre2_match_data_create(1, NULL);
	if (cond_md && cond_md_key_ok)
		pthread_setspecific(cond_md_key, cond_md);
	return cond_md;
}

void cond_thread_cleanup(void)
{
	if (!cond_md)
		return;
	if (cond_md_key_ok)
		pthread_setspecific(cond_md_key, NULL);
	pcre2_match_data_free(cond_md);
	cond_md = NULL;
}

/* A pattern such as (a+)+$ backtracks exponentially on a hostile path;
 * pcre2's default budget (10 million steps) would stall a worker for a
 * long time per request, so matching stops far earlier and counts as "no
 * match".  The context is written once and only read afterwards, which
 * pcre2 allows from any number of threads. */
#define COND_MATCH_LIMIT 1000000

static pcre2_match_context *cond_mctx;
static pthread_once_t cond_mctx_once = PTHREAD_ONCE_INIT;

static void cond_mctx_init(void)
{
	cond_mctx = pcre2_match_context_create(NULL);
	if (cond_mctx)
		pcre2_set_match_limit(cond_mctx, COND_MATCH_LIMIT);
}

static bool cond_regex(const struct cond *c, struct slice s)
{
	pcre2_match_data *md = cond_match_data();

	if (!md)
		return false;
	pthread_once(&cond_mctx_once, cond_mctx_init);
	/* An empty slice may carry a NULL pointer; pcre2 wants a real one. */
	PCRE2_SPTR subj = s.p ? (PCRE2_SPTR)s.p : (PCRE2_SPTR) "";
	/* The JIT's own entry skips pcre2_match()'s checks and dispatch; it
	 * honours the match limit too (pcre2jit(3)). */
	if (c->jit)
		return pcre2_jit_match(c->re, subj, s.len, 0, 0, md, cond_mctx) >= 0;
	return pcre2_match(c->re, subj, s.len, 0, 0, md, cond_mctx) >= 0;
}

/* Client address in binary, with an IPv4-mapped IPv6 address unmapped so
 * IPv4 CIDRs match clients of a dual-stack listener. */
static bool cond_src_bin(const struct sockaddr_storage *ss, int *fam, const uint8_t **addr)
{
	if (!ss)
		return false;
	if (ss->ss_family == AF_INET) {
		*fam = AF_INET;
		*addr = (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		*fam = IN6_IS_ADDR_V4MAPPED(a6) ? AF_INET : AF_INET6;
		*addr = *fam == AF_INET ? &a6->s6_addr[12] : a6->s6_addr;
		return true;
	}
	return false;
}

static bool cond_cidr_match(const struct cond_cidr *c, int fam, const uint8_t *a)
{
	if (c->fam != fam)
		return false;
	int full = c->bits / 8, rest = c->bits % 8;
	for (int i = 0; i < full; i++)   /* a few bytes: no memcmp() call */
		if (a[i] != c->addr[i])
			return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00 >> rest);
	return (a[full] & mask) == c->addr[full];
}

/* n against the condition's integer, for < <= > >= == !=. */
static bool cond_cmp_num(const struct cond *c, long long n)
{
	switch (c->op) {
	case OP_EQ:
		return n == c->num;
	case OP_NE:
		return n != c->num;
	case OP_LT:
		return n < c->num;
	case OP_LE:
		return n <= c->num;
	case OP_GT:
		return n > c->num;
	case OP_GE:
		return n >= c->num;
	default:
		return false;
	}
}

/* < <= > >= and a boolean fetch alone; a value that is not an integer
 * (an empty header, "12a") makes every comparison false. */
static bool cond_test_num(const struct cond *c, struct slice v)
{
	long long n;

	if (c->op == OP_BOOL)
		return v.len == 1 && v.p[0] == '1';
	if (!cond_parse_int(v, &n))
		return false;
	return cond_cmp_num(c, n);
}

/* fetch_value(), with the request's path and method (most conditions)
 * read here without a call; same answers. */
static inline bool cond_fetch(const struct cond *c, const struct cond_ctx *ctx, struct slice *v,
			      char *scratch, size_t len)
{
	switch (c->kind) {
	case FETCH_PATH:
		if (!ctx->msg)
			return false;
		*v = ctx->msg->path;
		return v->p != NULL;
	case FETCH_METHOD:
		if (!ctx->msg)
			return false;
		*v = ctx->msg->method;
		return v->p != NULL;
	default:
		return fetch_value(c->fetch, ctx, v, scratch, len);
	}
}

/* The string tests (==, !=, prefix, suffix, contains, ~, in) of v against
 * the values w (c->vals, or c->dvals for the decoded path). */
static bool cond_test_str(const struct cond *c, struct slice v, const struct slice *w)
{
	long long n;
	switch (c->op) {
	case OP_EQ:
		if (c->num_ok && cond_parse_int(v, &n))
			return n == c->num;
		return v.len == w->len && cond_mem_eq(v.p, w->p, v.len, c->icase);
	case OP_NE:
		if (c->num_ok && cond_parse_int(v, &n))
			return n != c->num;
		return !(v.len == w->len && cond_mem_eq(v.p, w->p, v.len, c->icase));
	case OP_PREFIX:
		return v.len >= w->len && cond_mem_eq(v.p, w->p, w->len, c->icase);
	case OP_SUFFIX:
		return v.len >= w->len &&
		       cond_mem_eq(v.p + v.len - w->len, w->p, w->len, c->icase);
	case OP_CONTAINS:
		return cond_contains(v, *w, c->icase);
	case OP_REGEX:
		return cond_regex(c, v);
	case OP_IN:
		for (int i = 0; i < c->nvals; i++)
			if (v.len == w[i].len && cond_mem_eq(v.p, w[i].p, v.len, c->icase))
				return true;
		return false;
	default:
		return false;
	}
}

/*
 * A path (or url) that a server may read otherwise than as sent (%2f, the
 * %XX of an unreserved character, "//", a dot segment) is tested both
 * ways: as sent, and as a server that decodes those, merges slashes and
 * removes dot segments reads it (cond_norm_view).  The normalised
 * answer is returned; when the two differ, *ctx->two_ways is set and the
 * proxy refuses the request (400) before any server sees it: a rule such
 * as `deny if path prefix /admin/` cannot be passed by /admin%2fusers,
 * /x/../admin/, //admin/ nor /%61dmin/, nor `use_waf ... unless path
 * prefix /static/` taken by /static%2f..., whatever the server does.
 */
static bool cond_test_two_ways(const struct cond *c, const struct cond_ctx *ctx,
			       struct slice v)
{
	char stack[1024];
	char *buf = v.len <= sizeof(stack) ? stack : malloc(v.len);
	bool raw = cond_test_str(c, v, c->vals);

	if (!buf) {   /* out of memory: read as ambiguous */
		if (ctx->two_ways)
			*ctx->two_ways = true;
		return raw;
	}
	struct slice d = { buf, (uint32_t)cond_norm_view(v.p, v.len, buf) };
	bool dec = cond_test_str(c, d, c->dvals ? c->dvals : c->vals);
	if (buf != stack)
		free(buf);
	if (dec != raw && ctx->two_ways)
		*ctx->two_ways = true;
	return dec;
}

static bool cond_test(const struct cond *c, const struct cond_ctx *ctx)
{
	char scratch[64];
	struct slice v;

	/* `status` compared as a number: the number itself, not its text
	 * (which fetch_value() would write and this would parse back) */
	if (c->status && ctx->res && c->op != OP_BOOL &&
	    (c->op >= OP_LT || ((c->op == OP_EQ || c->op == OP_NE) && c->num_ok)))
		return cond_cmp_num(c, ctx->res->status % 1000);

	if (c->op == OP_IN && c->addr_in) {
		int fam;
		const uint8_t *a;
		struct sockaddr_storage peer;
		const struct sockaddr_storage *ss = ctx->src;
		if (ctx->peer && fetch_kind(c->fetch) == FETCH_PEER) {
			memset(&peer, 0, sizeof(peer));
			memcpy(&peer, ctx->peer, sizeof(*ctx->peer));
			ss = &peer;
		}
		if (!cond_src_bin(ss, &fam, &a))
			return false;
		for (int i = 0; i < c->ncidrs; i++)
			if (cond_cidr_match(&c->cidrs[i], fam, a))
				return true;
		for (int i = 0; i < c->nlists; i++)
			if (iplist_match_sa(c->lists[i], (const struct sockaddr *)ss))
				return true;
		return false;
	}
	if (!cond_fetch(c, ctx, &v, scratch, sizeof(scratch)))
		return c->op == OP_NE;   /* nothing there is "not equal" to anything */
	if (c->op == OP_IN && c->nlists) {
		/* a list file holds addresses: the value is read as one */
		struct sockaddr_in6 a6;
		if (ip_parse(v.p, v.len, &a6))
			for (int i = 0; i < c->nlists; i++)
				if (iplist_match(c->lists[i], a6.sin6_addr.s6_addr))
					return true;
	}
	if (c->op >= OP_LT)
		return cond_test_num(c, v);

	if (cond_slash_fetch(c) && c->op <= OP_IN && cond_needs_view(v.p, v.len))
		return cond_test_two_ways(c, ctx, v);
	return cond_test_str(c, v, c->vals);
}

bool cond_eval(const struct cond *c, const struct cond_ctx *ctx)
{
	switch (c->type) {
	case COND_TEST:
		return cond_test(c, ctx);
	case COND_NOT:
		return !cond_eval(c->kids[0], ctx);
	case COND_AND:
		for (int i = 0; i < c->nkids; i++)
			if (!cond_eval(c->kids[i], ctx))
				return false;
		return true;
	case COND_OR:
		for (int i = 0; i < c->nkids; i++)
			if (cond_eval(c->kids[i], ctx))
				return true;
		return false;
	}
	return false;
}
