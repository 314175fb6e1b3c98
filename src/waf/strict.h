/*
 * strict.h - the WAF's strict decoding check (`strict on`, issue 10): the
 * encodings and duplications that let a request mean one thing to the WAF
 * and another to the application behind it, refused before ModSecurity.
 *
 * ModSecurity decodes what it inspects (t:urlDecodeUni, the multipart and
 * JSON body processors), and the application decodes again, its own way.
 * Wherever two honest decoders could disagree - a second round of
 * percent-decoding, IIS's %u, overlong UTF-8, a dot segment behind an
 * encoded '/' in a path (or any encoded '/', `strict_encoded_slash reject`), a
 * parameter given in both the query and the body, a multipart part with
 * two names, a JSON object with a key twice - the request is ambiguous and
 * refused (400).  What is accepted is decoded once, and means the same
 * to every reader.
 *
 * A pure function: no I/O, no globals, callable from any thread; it reads
 * the raw target, the Content-Type field(s) and the body as the WAF holds
 * it (de-chunked, up to body_limit), and says ok, or what was ambiguous
 * and where.  The WAF filter (flt_waf.c) calls it on the worker, before
 * the pre-filter and ModSecurity.
 */
#ifndef GH_WAF_STRICT_H
#define GH_WAF_STRICT_H

#include <stdbool.h>
#include <stddef.h>

struct waf_strict_req {
	const char *target;        /* raw request target (origin- or absolute-form) */
	size_t target_len;
	const char *const *ctype;  /* every Content-Type field's value, in order */
	const size_t *ctype_len;
	size_t nctype;
	const char *body;          /* as held: de-chunked, up to body_limit; NULL if none */
	size_t body_len;
	bool partial;              /* the body was cut at body_limit */
	bool encoded_slash;        /* `strict_encoded_slash allow`: %2f admitted in
				      the path's segments (else an npm scope's only) */
};

enum waf_strict_res { WAF_STRICT_OK = 0, WAF_STRICT_AMBIGUOUS, WAF_STRICT_NOMEM };

/* What was ambiguous: static words for the log line, and an excerpt. */
struct waf_strict_why {
	const char *what;          /* "double percent-encoding" */
	const char *where;         /* "the query" */
	char at[40];               /* "%252e": printable, the rest as \xNN */
};

/* Checks r: WAF_STRICT_OK, WAF_STRICT_AMBIGUOUS with *why filled, or
 * WAF_STRICT_NOMEM (why says nothing then). */
enum waf_strict_res waf_strict_check(const struct waf_strict_req *r, struct waf_strict_why *why);

#endif
