/*
 * fmt.h - value formats: the strings rules write ("/v2%[path]",
 * "%[src]", "max-age=63072000"), parsed once at load into literal pieces
 * and fetches, rendered per request with no allocation.
 *
 * Where it sits: the config parser (cfg_rules.c) turns each value token of
 * an http_request / http_response rule into a struct fmt; the rule runner
 * (rules.c) renders it into the caller's scratch space when the rule fires
 * and stores the result in the message.
 *
 * Syntax: `%[FETCH]` is replaced by the fetch's value (empty when absent),
 * `%%` is one '%', any other byte is literal (so "%2F" stays as written).
 *
 * Safety: what a value is used for (its class) decides which bytes it may
 * hold.  Literal bytes are checked at load (an error names the column);
 * bytes a fetch produces at run time are made safe, never refused:
 *   FMT_FIELD  header field value.  Literal: no control characters except
 *              HTAB (so no CR, LF, NUL), no DEL.  Rendered: every control
 *              byte but HTAB (CR, LF, NUL, ...) and DEL becomes a space.
 *   FMT_PATH, FMT_QUERY, FMT_URI  parts of a request target / a Location.
 *              Literal: visible ASCII only (no space, tab, control, DEL or
 *              byte >= 0x80); FMT_PATH also refuses '?' and '#', FMT_QUERY
 *              '#'.  Rendered: those bytes are percent-encoded (%0D, %20,
 *              %3F...), so a request line can never be split or extended.
 */
#ifndef GH_FILTER_FMT_H
#define GH_FILTER_FMT_H

#include <stdbool.h>
#include <stddef.h>

#include "filter/cond.h"

enum fmt_class {
	FMT_FIELD = 0,   /* a header field value */
	FMT_PATH,        /* a request path (set_path, redirect prefix) */
	FMT_QUERY,       /* a query string, without '?' (set_query) */
	FMT_URI,         /* a URI reference (redirect location) */
};

struct fmt;

/*
 * Parses a format from one config token.  Returns the format (owned by the
 * caller, freed with fmt_free) or NULL with a message in err and the
 * column of the offending byte in *err_col (columns count from the token's
 * first byte, past its opening quote; a \" escape before it shifts the
 * count by one).  Fetches inside are positioned the same way, so
 * fetch_where() on them points into the token.
 */
struct fmt *fmt_parse(const struct cfg_tok *tok, enum fmt_class cls, char *err, size_t errlen,
		      int *err_col);

/*
 * Renders f into out[0..cap): literal pieces as written, fetches through
 * fetch_value() made safe for the class (see above).  Returns the length
 * (no NUL is written), or -1 when it does not fit in cap.  Never allocates;
 * safe from any number of threads at once.
 */
int fmt_render(const struct fmt *f, const struct cond_ctx *ctx, char *out, size_t cap);

/* Where the value fmt_value() hands out lives. */
enum fmt_val {
	FMT_VAL_TOO_BIG = -1,  /* it did not fit out: nothing handed out */
	FMT_VAL_LASTING = 0,   /* f's own text, or a static string: outlives every
				  message of the streams holding the configuration */
	FMT_VAL_BORROWED,      /* the message's, the context's or out's bytes: copy
				  them to keep them */
};

/*
 * f's value in *val, rendering only when it must: a literal-only format
 * gives its own text (owned by f), a lone %[fetch] of a header value the
 * fetched bytes as they are when they need no change (borrowed from the
 * message, the context, a static string, or out), anything else is
 * rendered into out[0..cap) as fmt_render() does.  Returns where the value
 * lives, or FMT_VAL_TOO_BIG.  Never allocates; any thread.
 */
enum fmt_val fmt_value(const struct fmt *f, const struct cond_ctx *ctx, char *out, size_t cap,
		       struct slice *val);

/* True (with the text in *out, owned by f) when f has no fetch: the caller
 * may then copy it without rendering. */
bool fmt_literal(const struct fmt *f, struct slice *out);

/* The first fetch of f whose kind is not in `allowed` (FETCH_MASK set),
 * or NULL: lets the config checker refuse e.g. status in a request rule. */
const struct fetch *fmt_fetch_outside(const struct fmt *f, unsigned allowed);

void fmt_free(struct fmt *f);

#endif
