/*
 * json.h - the admin API's JSON: a small strict reader for request bodies
 * and a writer for responses.
 *
 * Reader.  A body is one object; its values are strings, numbers, true,
 * false, null or objects (nested at most JSON_MAX_DEPTH deep).  Arrays are
 * refused (no call takes one), so are duplicate keys in an object,
 * anything after the object but whitespace, invalid UTF-8, lone
 * surrogates, unescaped control characters and "\u0000" (names become C
 * strings: a NUL inside would cut them).  Numbers follow RFC 8259's
 * grammar exactly (no leading zeros, no "+", no "1."); an integer that fits
 * an int64_t is kept exact.  Errors say what and at which byte, for the
 * 400's message.  Parsing allocates two blocks (nodes, decoded strings),
 * both sized from the input's length up front, and json_free() releases
 * them; the input is never written.
 *
 * Writer.  Appends to a growing buffer; commas come by themselves.
 * Strings are escaped so the output is always valid JSON in valid UTF-8
 * (bytes that are not UTF-8 become U+FFFD, '<' '>' '&' are escaped so a
 * value can never close a <script> it is pasted into).  An allocation
 * failure is sticky: the buffer is dropped and jw_finish() says so.
 */
#ifndef GH_ADMIN_JSON_H
#define GH_ADMIN_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 8        /* objects inside objects, the body's own counted */
#define JSON_MAX_NODES 1024     /* values in one body, all levels */

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_OBJ };

struct json_val {
	enum json_type type;
	const char *key;         /* member name in its object; NULL for the root */
	size_t key_len;
	bool b;                  /* JSON_BOOL */
	bool is_int;             /* JSON_NUM written as an integer that fits i */
	int64_t i;
	double d;                /* JSON_NUM, always set */
	const char *s;           /* JSON_STR: decoded, NUL-terminated */
	size_t len;
	int nmembers;            /* JSON_OBJ: its members are the next nodes ... */
	int next;                /* ... each member's sibling: index of the next, -1 = last */
	int first;               /* JSON_OBJ: index of its first member, -1 = empty */
};

struct json_doc {
	struct json_val *nodes;  /* nodes[0] is the root object */
	int nnodes;
	char *strs;              /* decoded keys and strings */
};

/*
 * Parses buf[0..len) into doc.  Returns 0, or -1 with a message in err
 * (e.g. "duplicate key \"weight\" at byte 27"); doc is then empty, and
 * json_free() is harmless either way.
 */
int json_parse(struct json_doc *doc, const char *buf, size_t len, char *err, size_t errlen);
void json_free(struct json_doc *doc);

/* The root object (NULL for an empty doc). */
const struct json_val *json_root(const struct json_doc *doc);

/* Member `key` of object o, or NULL. */
const struct json_val *json_get(const struct json_doc *doc, const struct json_val *o,
				const char *key);

/* Iterates o's members: for (m = json_first(d, o); m; m = json_next(d, m)). */
const struct json_val *json_first(const struct json_doc *doc, const struct json_val *o);
const struct json_val *json_next(const struct json_doc *doc, const struct json_val *m);

/* ---- writer ---- */

struct jw {
	char *buf;
	size_t len, cap;
	bool oom;
	int depth;
	uint64_t need_comma;     /* bit d: a value was written at depth d */
	bool after_key;          /* the next value follows a key: no comma */
};

void jw_init(struct jw *w);
void jw_obj(struct jw *w);          /* { */
void jw_obj_end(struct jw *w);      /* } */
void jw_arr(struct jw *w);          /* [ */
void jw_arr_end(struct jw *w);      /* ] */
void jw_key(struct jw *w, const char *k);
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, int64_t v);
void jw_uint(struct jw *w, uint64_t v);
void jw_num(struct jw *w, double v);   /* NaN and infinities become null */
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);

/* Shorthands for a key and its value. */
void jw_kstr(struct jw *w, const char *k, const char *v);
void jw_kint(struct jw *w, const char *k, int64_t v);
void jw_kuint(struct jw *w, const char *k, uint64_t v);
void jw_knum(struct jw *w, const char *k, double v);
void jw_kbool(struct jw *w, const char *k, bool v);

/* Hands the text over: returns the malloc'd NUL-terminated buffer (the
 * caller frees it) and its length in *len, or NULL if memory ran out
 * (nothing to free).  w is empty afterwards. */
char *jw_finish(struct jw *w, size_t *len);
void jw_free(struct jw *w);

#endif
