/*
 * admin_parse.c - the admin listener's strict HTTP/1.1 request-head parser
 * and its bearer-token check (admin_parse.h).  No bare CR or LF, no NUL,
 * no obsolete folding, origin-form targets only, one Host, one
 * Content-Length value, no Transfer-Encoding (the admin's bodies are small
 * JSON documents with a length).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "admin/admin_parse.h"

static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Parses the head in k->in[0..end) (end just past CRLFCRLF), in place.
 * Returns 0, or an HTTP status with *why set. */
int admin_parse_head(char *in, size_t end, struct ahead *h, const char **why)
{
	memset(h, 0, sizeof(*h));
	h->head_len = end;
	/* No bare CR or LF anywhere, no NUL (a strict parser, as the proxy's). */
	for (size_t i = 0; i < end; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == 0 || (c == '\r' && in[i + 1] != '\n') ||
		    (c == '\n' && (i == 0 || in[i - 1] != '\r'))) {
			*why = "malformed line ending";
			return 400;
		}
	}
	char *p = in, *eol = strstr(p, "\r\n");
	*eol = '\0';
	/* request line: METHOD SP origin-form SP HTTP/1.x */
	char *sp1 = strchr(p, ' ');
	char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strchr(sp2 + 1, ' ') || sp1 == p) {
		*why = "malformed request line";
		return 400;
	}
	*sp1 = *sp2 = '\0';
	for (char *m = p; *m; m++)
		if (!is_tchar((unsigned char)*m)) {
			*why = "malformed method";
			return 400;
		}
	if (strcmp(sp2 + 1, "HTTP/1.1") == 0)
		h->http10 = false;
	else if (strcmp(sp2 + 1, "HTTP/1.0") == 0)
		h->http10 = true;
	else {
		*why = "unsupported HTTP version";
		return 400;
	}
	h->method = p;
	h->target = sp1 + 1;
	if (h->target[0] != '/') {
		*why = "the target must be a path (origin-form)";
		return 400;
	}
	for (unsigned char *t = (unsigned char *)h->target; *t; t++)
		if (*t <= 0x20 || *t >= 0x7f || *t == '#') {
			*why = "invalid character in the target";
			return 400;
		}
	/* fields */
	p = eol + 2;
	while (p < in + end - 2) {
		eol = strstr(p, "\r\n");
		*eol = '\0';
		if (*p == ' ' || *p == '\t') {
			*why = "obsolete line folding";
			return 400;
		}
		char *colon = strchr(p, ':');
		if (!colon || colon == p) {
			*why = "malformed header field";
			return 400;
		}
		*colon = '\0';
		for (char *n = p; *n; n++)
			if (!is_tchar((unsigned char)*n)) {
				*why = "malformed header field name";
				return 400;
			}
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		char *ve = v + strlen(v);
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			*--ve = '\0';
		for (unsigned char *c = (unsigned char *)v; *c; c++)
			if ((*c < 0x20 && *c != '\t') || *c == 0x7f) {
				*why = "invalid character in a header field value";
				return 400;
			}
		if (strcasecmp(p, "Content-Length") == 0) {
			char *e;
			if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 15) {
				*why = "invalid Content-Length";
				return 400;
			}
			size_t cl = (size_t)strtoull(v, &e, 10);
			if (h->has_cl && cl != h->cl) {
				*why = "conflicting Content-Length fields";
				return 400;
			}
			h->has_cl = true;
			h->cl = cl;
		} else if (strcasecmp(p, "Transfer-Encoding") == 0) {
			h->chunked = true;
		} else if (strcasecmp(p, "Host") == 0) {
			if (h->has_host) {
				*why = "more than one Host field";
				return 400;
			}
			h->has_host = true;
		} else if (strcasecmp(p, "Connection") == 0) {
			/* a list of options: look for the two that matter */
			for (char *tok = v; *tok;) {
				size_t l = strcspn(tok, ",");
				char save = tok[l];
				tok[l] = '\0';
				char *t = tok;
				while (*t == ' ' || *t == '\t')
					t++;
				size_t tl = strlen(t);
				while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\t'))
					tl--;
				if (tl == 5 && strncasecmp(t, "close", 5) == 0)
					h->close = true;
				else if (tl == 10 && strncasecmp(t, "keep-alive", 10) == 0)
					h->keep_alive = true;
				tok[l] = save;
				tok += l + (save ? 1 : 0);
			}
		} else if (strcasecmp(p, "Authorization") == 0) {
			if (h->auth) {
				*why = "more than one Authorization field";
				return 400;
			}
			h->auth = v;
		} else if (strcasecmp(p, "Expect") == 0) {
			if (strcasecmp(v, "100-continue") != 0) {
				*why = "unsupported expectation";
				return 417;
			}
			h->expect_continue = true;
		}
		p = eol + 2;
	}
	if (!h->http10 && !h->has_host) {
		*why = "missing Host field";
		return 400;
	}
	if (h->chunked) {
		/* Content-Length only: the bodies are small JSON documents */
		*why = "Transfer-Encoding is not supported; send Content-Length";
		return h->has_cl ? 400 : 411;
	}
	char *q = strchr(h->target, '?');
	if (q) {
		/* the path and query get copies: the handlers see both NUL-terminated */
		h->query = q + 1;
	}
	return 0;
}

/* Is the request's bearer token the one configured?  Compared as SHA-256
 * digests in constant time. */
bool admin_token_ok(const char *auth, const char *want, size_t want_len)
{
	if (!auth || strncasecmp(auth, "Bearer", 6) != 0 || (auth[6] != ' ' && auth[6] != '\t'))
		return false;
	const char *t = auth + 7;
	while (*t == ' ' || *t == '\t')
		t++;
	unsigned char d1[32], d2[32];
	unsigned int l1 = 0, l2 = 0;
	if (!EVP_Digest(t, strlen(t), d1, &l1, EVP_sha256(), NULL) ||
	    !EVP_Digest(want, want_len, d2, &l2, EVP_sha256(), NULL) || l1 != 32 || l2 != 32)
		return false;
	return CRYPTO_memcmp(d1, d2, 32) == 0;
}

