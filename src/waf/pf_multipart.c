/*
 * pf_multipart.c - the pre-filter's multipart/form-data body parser: the
 * FILES, FILES_NAMES, FILES_SIZES, MULTIPART_* and ARGS_POST fields
 * libmodsecurity 3.0.9's Multipart body processor would fill, put into the
 * scan's fields through pf_scan.c's sink (pf_multipart.h).  Split out of
 * pf_scan.c unchanged.
 */
#include "waf/pf_multipart.h"
#include "waf/pf_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define BIT(c) (1u << (c))

/*
 * Only the plain shape every browser and HTTP library sends is parsed; for
 * anything else (a quoted boundary, whitespace or parameters where
 * Multipart::init() sets a flag, data before the first or after the last
 * boundary, LF-only lines, header folding, part headers other than
 * Content-Disposition and Content-Type, other Content-Disposition
 * parameters, quotes or backslashes in a name, an empty filename, a line
 * that resembles a boundary, a missing final boundary) parse_multipart()
 * returns false and the request goes to ModSecurity.  For what it accepts,
 * the collections are the ones Multipart::multipart_complete() and
 * process_boundary() fill:
 *  - a part with a filename: FILES:name = filename, FILES_NAMES:name,
 *    FILES_SIZES:name = the content's length, FILES_TMP_CONTENT:name = ""
 *    (nothing extracted), FILES_COMBINED_SIZE = the sum;
 *  - any other part: ARGS / ARGS_POST:name = its content with every line
 *    end ("\r\n" or "\n") removed: process_part_data() holds a line's end
 *    back in case the boundary follows, then overwrites it with the next
 *    line (`d.assign(reserve); d.assign(buf)`), so "a\r\nb" is seen as
 *    "ab".  Not in ARGS_COMBINED_SIZE (addArgument() is not called);
 *  - MULTIPART_NAME:name, MULTIPART_FILENAME:filename, and
 *    MULTIPART_PART_HEADERS:name = each header line as received, CRLF
 *    included (m_last_header_line is the raw buffer).
 * Lines must stay below MULTIPART_BUF_SIZE (4096) for that reading of the
 * buffer to hold; header lines are limited to 4000 bytes.
 */

#define MP_BOUNDARY_MAX 70
#define MP_HEADER_MAX 4000

static bool mp_boundary_char(uint8_t c)
{
	return isalnum(c) || strchr("'()+_,-./:=?", c) != NULL;
}

/* The boundary of a Content-Type value Multipart::init() accepts without a
 * flag: "multipart/form-data" (any case), spaces, one ';', spaces,
 * "boundary=" and the boundary to the end. */
static bool mp_boundary(const char *v, size_t n, const char **b, size_t *bl)
{
	if (n > 1024 || n < 19 || strncasecmp(v, "multipart/form-data", 19))
		return false;
	size_t i = 19;
	while (i < n && v[i] == ' ')
		i++;
	if (i >= n || v[i] != ';')
		return false;
	i++;
	while (i < n && v[i] == ' ')
		i++;
	if (n - i < 9 || memcmp(v + i, "boundary=", 9))
		return false;
	i += 9;
	*b = v + i;
	*bl = n - i;
	if (*bl == 0 || *bl > MP_BOUNDARY_MAX)
		return false;
	for (size_t k = 0; k < *bl; k++)
		if (!mp_boundary_char((uint8_t)(*b)[k]))
			return false;
	/* count_boundary_params(): "boundary" (any case) with a '=' anywhere
	 * after it, once in the header, never in the boundary */
	for (size_t k = 0; k + 8 <= *bl; k++)
		if (!strncasecmp(*b + k, "boundary", 8) && memchr(*b + k + 8, '=', *bl - k - 8))
			return false;
	return true;
}

/* A double-quoted Content-Disposition parameter value without quotes,
 * backslashes or control bytes: its length up to the closing quote, 0 if
 * not that. */
static size_t mp_quoted(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *s = p;

	while (p < end && *p != '"') {
		if (*p == '\\' || *p < 0x20 || *p == 0x7f)
			return 0;
		p++;
	}
	if (p >= end)
		return 0;
	return (size_t)(p - s);
}

bool pf_multipart_parse(struct waf_pf_scratch *sc, const char *ct, size_t ctl, const uint8_t *b,
			size_t len)
{
	const char *bd;
	size_t bl;
	const uint8_t *end = b + len;
	size_t combined = 0;
	bool files = false;

	if (!mp_boundary(ct, ctl, &bd, &bl))
		return false;
	/* "--B\r\n" first: no data before it */
	if (len < bl + 4 || memcmp(b, "--", 2) || memcmp(b + 2, bd, bl) || b[bl + 2] != '\r' ||
	    b[bl + 3] != '\n')
		return false;
	const uint8_t *p = b + bl + 4;
	for (;;) {
		/* part headers */
		const uint8_t *hl[2];
		size_t hlen[2], nh = 0;
		const uint8_t *cd = NULL, *cde = NULL;
		bool have_ct = false;
		for (;;) {
			const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl || nl == p || nl[-1] != '\r')
				return false;
			const uint8_t *le = nl - 1;	/* the line without CRLF */
			size_t ll = (size_t)(le - p);
			if (ll == 0) {
				p = nl + 1;
				break;
			}
			if (ll > MP_HEADER_MAX || isspace(*p) || memchr(p, '\r', ll) ||
			    memchr(p, '\0', ll) || nh == 2)
				return false;
			const uint8_t *v;
			if (ll > 20 && !memcmp(p, "Content-Disposition:", 20) && !cd) {
				v = p + 20;
				while (v < le && (*v == ' ' || *v == '\t'))
					v++;
				cd = v;
				cde = le;
			} else if (ll > 13 && !memcmp(p, "Content-Type:", 13) && !have_ct) {
				have_ct = true;
			} else {
				return false;
			}
			hl[nh] = p;
			hlen[nh++] = (size_t)(nl + 1 - p);
			p = nl + 1;
		}
		if (!cd)
			return false;
		/* form-data; name="N"[; filename="F"] */
		const uint8_t *name, *fname = NULL;
		size_t nlen, flen = 0;
		if (cde - cd < 17 || memcmp(cd, "form-data; name=\"", 17))
			return false;
		name = cd + 17;
		nlen = mp_quoted(name, cde);
		if (!nlen)
			return false;
		const uint8_t *q = name + nlen + 1;
		if (q < cde) {
			if (cde - q < 12 || memcmp(q, "; filename=\"", 12))
				return false;
			fname = q + 12;
			flen = mp_quoted(fname, cde);
			if (!flen || fname + flen + 1 != cde)
				return false;
		}
		/* the content: up to the first line that starts with "--B" */
		const uint8_t *ds = p, *k = NULL;
		for (const uint8_t *s = ds - 1; s < end;) {
			const uint8_t *nl = memchr(s, '\n', (size_t)(end - s));
			if (!nl)
				break;
			const uint8_t *ls = nl + 1;
			if ((size_t)(end - ls) >= 2 && ls[0] == '-' && ls[1] == '-') {
				if ((size_t)(end - ls) >= bl + 2 && !memcmp(ls + 2, bd, bl)) {
					k = nl;
					break;
				}
				/* "-- B": an error for ModSecurity; any "--" and
				 * white space: not parsed here */
				if ((size_t)(end - ls) > 2 && isspace(ls[2]))
					return false;
			}
			s = ls;
		}
		if (!k || k < ds || k[-1] != '\r')
			return false;	/* no boundary, data starting with it, LF only */
		const uint8_t *de = k - 1;	/* the content is [ds, de) */
		const uint8_t *after = k + 1 + 2 + bl;
		bool final = false;
		if ((size_t)(end - after) >= 2 && after[0] == '\r' && after[1] == '\n') {
			p = after + 2;
		} else if ((size_t)(end - after) >= 2 && after[0] == '-' && after[1] == '-' &&
			   (end - after == 2 ||
			    (end - after == 4 && after[2] == '\r' && after[3] == '\n'))) {
			final = true;
		} else {
			return false;
		}

		/* the part's variables */
		size_t no = pf_sc_put(sc, name, nlen);
		pf_sc_add_field(sc, BIT(PF_C_MULTIPART_NAME), no, nlen, no, nlen);
		for (size_t i = 0; i < nh; i++) {
			size_t ho = pf_sc_put(sc, hl[i], hlen[i]);
			pf_sc_add_field(sc, BIT(PF_C_MULTIPART_PART_HEADERS), no, nlen, ho, hlen[i]);
		}
		size_t dl = (size_t)(de - ds);
		if (fname) {
			char num[24];
			size_t fo = pf_sc_put(sc, fname, flen);
			pf_sc_add_field(sc, BIT(PF_C_MULTIPART_FILENAME), fo, flen, fo, flen);
			pf_sc_add_field(sc, BIT(PF_C_FILES), no, nlen, fo, flen);
			pf_sc_add_field(sc, BIT(PF_C_FILES_NAMES), no, nlen, no, nlen);
			int n = snprintf(num, sizeof(num), "%zu", dl);
			size_t so = pf_sc_put(sc, num, (size_t)n);
			pf_sc_add_field(sc, BIT(PF_C_FILES_SIZES), no, nlen, so, (size_t)n);
			pf_sc_add_field(sc, BIT(PF_C_FILES_TMP_CONTENT), no, nlen, 0, 0);
			combined += dl;
			files = true;
		} else {
			size_t vo;
			uint8_t *o = pf_sc_room(sc, dl, &vo);
			if (!o)
				return false;
			size_t vl = 0;
			for (const uint8_t *c = ds; c < de; c++) {
				if (*c == '\n') {
					if (vl && c > ds && c[-1] == '\r')
						vl--;
					continue;
				}
				o[vl++] = *c;
			}
			pf_sc_used(sc, vl);
			pf_sc_add_field(sc, BIT(PF_C_ARGS_POST), no, nlen, vo, vl);
			pf_sc_add_field(sc, BIT(PF_C_ARGS_POST_NAMES), no, nlen, no, nlen);
		}
		if (final)
			break;
	}
	if (files) {
		char num[24];
		int n = snprintf(num, sizeof(num), "%zu", combined);
		size_t eo = pf_sc_put(sc, "", 0);
		size_t so = pf_sc_put(sc, num, (size_t)n);
		pf_sc_add_field(sc, BIT(PF_C_FILES_COMBINED_SIZE), eo, 0, so, (size_t)n);
	}
	return !pf_sc_oom(sc);
}
