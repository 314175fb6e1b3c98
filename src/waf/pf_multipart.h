/*
 * pf_multipart.h - between the pre-filter's scan (pf_scan.c) and its body
 * parsers: multipart/form-data (pf_multipart.c) and JSON (pf_json.c).
 * Internal.
 *
 * The scan owns the request's fields: names and values live in the
 * scratch's arena and are referred to by offset (the arena may move while
 * it grows).  A body parser adds fields through this sink; any of these
 * calls that runs out of memory marks the scratch (pf_sc_oom()).
 */
#ifndef GH_WAF_PF_MULTIPART_H
#define GH_WAF_PF_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct waf_pf_scratch;

/* pf_scan.c: the field sink */
/* Copies p[0..n) to the arena; its offset (0 when out of memory). */
size_t pf_sc_put(struct waf_pf_scratch *sc, const void *p, size_t n);
/* Room for n bytes at the arena's end: where to write them, *off their
 * offset; NULL when out of memory.  pf_sc_used() then says how many of
 * them were written. */
uint8_t *pf_sc_room(struct waf_pf_scratch *sc, size_t n, size_t *off);
void pf_sc_used(struct waf_pf_scratch *sc, size_t n);
/* A field in the collections of mask (bits of enum pf_coll): name and
 * value are arena offsets. */
void pf_sc_add_field(struct waf_pf_scratch *sc, uint32_t mask, size_t name, size_t nlen,
		     size_t val, size_t vlen);
bool pf_sc_oom(const struct waf_pf_scratch *sc);
/* The arena's length: the offset of the next byte put. */
size_t pf_sc_len(const struct waf_pf_scratch *sc);
/* Appends a copy of the arena's own bytes [off, off + n); false when out
 * of memory. */
bool pf_sc_copy(struct waf_pf_scratch *sc, size_t off, size_t n);

/* v in decimal into out (room for 20 digits); its length (snprintf()
 * cost more than a few scans of such a field). */
static inline size_t pf_put_dec(char *out, unsigned long long v)
{
	char t[20];
	size_t n = 0, k = 0;

	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n)
		out[k++] = t[--n];
	return k;
}

/* pf_json.c: the ARGS of a JSON body s[0..len) (adding the names' and
 * values' lengths to *combined and their number to *nargs); false when it
 * does not parse as yajl would parse it, or out of memory. */
bool pf_json_parse(struct waf_pf_scratch *sc, const uint8_t *s, size_t len, size_t *combined,
		   size_t *nargs);

/* pf_multipart.c: the fields of a multipart/form-data body b[0..len) whose
 * Content-Type value is ct[0..ctl).  false when the body is not of the
 * plain shape parsed here (or out of memory): the request then goes to
 * ModSecurity. */
bool pf_multipart_parse(struct waf_pf_scratch *sc, const char *ct, size_t ctl, const uint8_t *b,
			size_t len);

#endif
