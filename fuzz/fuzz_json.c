/*
 * fuzz_json.c - libFuzzer target for the admin API's JSON reader and
 * writer (src/admin/json.c), which read request bodies from whoever can
 * reach the admin listener.
 *
 * Besides memory safety it asserts:
 *  - a document that parses has an object root, members chained within
 *    the node array, decoded strings NUL-terminated at their length, keys
 *    unique per object, depth within JSON_MAX_DEPTH;
 *  - written again with the writer, it parses back to the same tree
 *    (types, keys, strings, integers, numbers), so the writer's escaping
 *    and the reader agree;
 *  - the input is only read within its length (libFuzzer's buffer is
 *    exactly that long, so ASan sees any overread).
 *
 * FUZZ_SOURCES: src/admin/json.c
 * FUZZ_LIBS: -lm
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/json.h"

#define FUZZ_ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

static void write_obj(struct jw *w, const struct json_doc *d, const struct json_val *o)
{
	jw_obj(w);
	for (const struct json_val *m = json_first(d, o); m; m = json_next(d, m)) {
		jw_key(w, m->key);
		switch (m->type) {
		case JSON_NULL: jw_null(w); break;
		case JSON_BOOL: jw_bool(w, m->b); break;
		case JSON_NUM:
			if (m->is_int)
				jw_int(w, m->i);
			else
				jw_num(w, m->d);
			break;
		case JSON_STR: jw_strn(w, m->s, m->len); break;
		case JSON_OBJ: write_obj(w, d, m); break;
		}
	}
	jw_obj_end(w);
}

static void check_obj(const struct json_doc *d, const struct json_val *o, int depth)
{
	FUZZ_ASSERT(o->type == JSON_OBJ);
	FUZZ_ASSERT(depth <= JSON_MAX_DEPTH);
	int n = 0;
	for (const struct json_val *m = json_first(d, o); m; m = json_next(d, m)) {
		FUZZ_ASSERT(m >= d->nodes && m < d->nodes + d->nnodes);
		FUZZ_ASSERT(m->key && m->key[m->key_len] == '\0');
		FUZZ_ASSERT(strlen(m->key) == m->key_len);
		FUZZ_ASSERT(json_get(d, o, m->key) == m);   /* unique keys */
		if (m->type == JSON_STR)
			FUZZ_ASSERT(m->s[m->len] == '\0' && strlen(m->s) == m->len);
		if (m->type == JSON_OBJ)
			check_obj(d, m, depth + 1);
		n++;
	}
	FUZZ_ASSERT(n == o->nmembers);
}

static void same(const struct json_doc *a, const struct json_val *x, const struct json_doc *b,
		 const struct json_val *y)
{
	FUZZ_ASSERT(x->type == y->type);
	switch (x->type) {
	case JSON_BOOL: FUZZ_ASSERT(x->b == y->b); break;
	case JSON_NUM:
		FUZZ_ASSERT(x->is_int == y->is_int);
		FUZZ_ASSERT(x->is_int ? x->i == y->i : x->d == y->d);
		break;
	case JSON_STR: FUZZ_ASSERT(x->len == y->len && !memcmp(x->s, y->s, x->len)); break;
	case JSON_OBJ: {
		FUZZ_ASSERT(x->nmembers == y->nmembers);
		const struct json_val *m = json_first(a, x), *n = json_first(b, y);
		for (; m && n; m = json_next(a, m), n = json_next(b, n)) {
			FUZZ_ASSERT(m->key_len == n->key_len && !memcmp(m->key, n->key, m->key_len));
			same(a, m, b, n);
		}
		FUZZ_ASSERT(!m && !n);
		break;
	}
	case JSON_NULL: break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc d, d2;
	char err[200];

	if (json_parse(&d, (const char *)data, size, err, sizeof(err)) < 0) {
		FUZZ_ASSERT(err[0] != '\0' && d.nodes == NULL);
		return 0;
	}
	const struct json_val *r = json_root(&d);
	FUZZ_ASSERT(r && r->key == NULL);
	check_obj(&d, r, 1);

	struct jw w;
	jw_init(&w);
	write_obj(&w, &d, r);
	size_t len;
	char *s = jw_finish(&w, &len);
	FUZZ_ASSERT(s != NULL);
	if (json_parse(&d2, s, len, err, sizeof(err)) < 0)
		__builtin_trap();
	same(&d, r, &d2, json_root(&d2));
	json_free(&d2);
	free(s);
	json_free(&d);
	return 0;
}
