/*
 * cfg_compress.c - `compress` in a frontend or backend (compress/compress.h,
 * compress/flt_compress.c):
 *
 *   compress gzip br zstd [types MIME...] [min_size SIZE] [level ALGO:N...]
 *
 * The codings are listed in the order preferred when a client's q-values
 * tie.  `types` replaces the default list of compressible types
 * ("type/subtype", "text/" plus a star for a whole type, or a star
 * alone); `min_size` (default 1k): a response whose length is known and
 * smaller goes as is; `level` sets an algorithm's level (gzip 1-9, br
 * 1-11, zstd 1-19).  Needs HTTP mode (checked once the section's mode is
 * known: cfg_compress_check).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "compress/compress.h"
#include "config/cfg_internal.h"

#define COMPRESS_DEF_MIN_SIZE 1024

static const int level_max[CZ_COUNT] = { 9, 11, 19 };
static const int level_min[CZ_COUNT] = { 1, 1, 1 };

static bool is_opt(const struct cfg_tok *t)
{
	return !t->quoted && (strcmp(t->s, "types") == 0 || strcmp(t->s, "min_size") == 0 ||
			      strcmp(t->s, "level") == 0);
}

/* "type/subtype", a whole type or any: token characters around one slash. */
static bool mime_ok(const char *s)
{
	if (strcmp(s, "*") == 0)
		return true;
	const char *sl = strchr(s, '/');
	if (!sl || sl == s || !sl[1] || strchr(sl + 1, '/'))
		return false;
	for (const char *q = s; *q; q++)
		if (!isalnum((unsigned char)*q) && !strchr("!#$%&'*+-.^_`|~/", *q))
			return false;
	return true;
}

void cfg_compress_free(struct cfg_compress *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->ntypes; i++)
		free(c->types[i]);
	free(c->types);
	free(c);
}

static int parse_level(struct cfg_parser *p, struct cfg_compress *c, const struct cfg_tok *t)
{
	const char *colon = strchr(t->s, ':');
	char name[16];
	size_t nl = colon ? (size_t)(colon - t->s) : 0;

	if (!colon || nl >= sizeof(name)) {
		cfg_error(p, t->line, t->col,
			  "invalid level '%s'; expected ALGO:N, e.g. gzip:6, br:5 or zstd:3", t->s);
		return -1;
	}
	memcpy(name, t->s, nl);
	name[nl] = 0;
	int a = cz_from_name(name);
	if (a < 0) {
		cfg_error(p, t->line, t->col, "unknown algorithm '%s' in level; expected gzip, br or zstd",
			  name);
		return -1;
	}
	struct cfg_tok num = *t;
	num.s = (char *)colon + 1;
	num.col += (int)nl + 1;
	int v;
	if (cfg_val_int(p, &num, level_min[a], level_max[a], &v) < 0)
		return -1;
	c->level[a] = v;
	return 0;
}

static int compress_line(struct cfg_parser *p, const struct cfg_node *n, struct cfg_compress **out,
			 const char *what)
{
	if (*out) {
		cfg_error(p, n->line, n->col, "compress given twice in %s; the first is at line %d",
			  what, (*out)->line);
		return -1;
	}
	struct cfg_compress *c = calloc(1, sizeof(*c));
	if (!c) {
		cfg_oom(p);
		return -1;
	}
	c->min_size = COMPRESS_DEF_MIN_SIZE;
	c->line = n->line;
	int i = 1;
	for (; i < n->ntok && !is_opt(&n->toks[i]); i++) {
		const struct cfg_tok *t = &n->toks[i];
		int a = cz_from_name(t->s);
		if (a < 0) {
			cfg_error(p, t->line, t->col,
				  "unknown compression '%s'; expected gzip, br or zstd", t->s);
			goto fail;
		}
		for (int k = 0; k < c->nalgos; k++)
			if (c->algos[k] == a) {
				cfg_error(p, t->line, t->col, "'%s' is listed twice", t->s);
				goto fail;
			}
		c->algos[c->nalgos++] = (uint8_t)a;
	}
	if (!c->nalgos) {
		const struct cfg_tok *t = i < n->ntok ? &n->toks[i] : NULL;
		cfg_error(p, t ? t->line : n->line, t ? t->col : n->end_col,
			  "expected at least one of gzip, br, zstd after compress");
		goto fail;
	}
	bool seen_types = false, seen_min = false, seen_level = false;
	while (i < n->ntok) {
		const struct cfg_tok *o = &n->toks[i++];
		int first = i;
		if (strcmp(o->s, "types") == 0) {
			if (seen_types) {
				cfg_error(p, o->line, o->col, "types given twice");
				goto fail;
			}
			seen_types = true;
			for (; i < n->ntok && !is_opt(&n->toks[i]); i++)
				;
			if (i == first) {
				cfg_error(p, o->line, o->col, "types needs at least one MIME type");
				goto fail;
			}
			if (!(c->types = calloc((size_t)(i - first), sizeof(*c->types)))) {
				cfg_oom(p);
				goto fail;
			}
			for (int k = first; k < i; k++) {
				const struct cfg_tok *t = &n->toks[k];
				if (!mime_ok(t->s)) {
					cfg_error(p, t->line, t->col,
						  "invalid MIME type '%s'; expected type/subtype, "
						  "type/* or *", t->s);
					goto fail;
				}
				char *d = strdup(t->s);
				if (!d) {
					cfg_oom(p);
					goto fail;
				}
				for (char *q = d; *q; q++)
					*q = (char)tolower((unsigned char)*q);
				c->types[c->ntypes++] = d;
			}
		} else if (strcmp(o->s, "min_size") == 0) {
			if (seen_min || i >= n->ntok) {
				cfg_error(p, o->line, o->col, seen_min ? "min_size given twice" :
					  "min_size needs a SIZE");
				goto fail;
			}
			seen_min = true;
			if (cfg_val_size(p, &n->toks[i++], 0, (uint64_t)1 << 40, &c->min_size) < 0)
				goto fail;
		} else {   /* level */
			if (seen_level) {
				cfg_error(p, o->line, o->col, "level given twice");
				goto fail;
			}
			seen_level = true;
			for (; i < n->ntok && !is_opt(&n->toks[i]); i++)
				if (parse_level(p, c, &n->toks[i]) < 0)
					goto fail;
			if (i == first) {
				cfg_error(p, o->line, o->col, "level needs ALGO:N");
				goto fail;
			}
		}
	}
	*out = c;
	return 0;
fail:
	cfg_compress_free(c);
	return -1;
}

int cfg_fe_compress(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return compress_line(p, n, &((struct cfg_frontend *)s->obj)->compress, s->what);
}

int cfg_be_compress(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return compress_line(p, n, &((struct cfg_backend *)s->obj)->compress, s->what);
}

void cfg_compress_check(struct cfg_parser *p)
{
	struct cfg *cf = p->cfg;

	for (int i = 0; i < cf->nfrontends; i++)
		if (cf->frontends[i]->compress && cf->frontends[i]->mode == MODE_TCP)
			cfg_error(p, cf->frontends[i]->compress->line, 1,
				  "compress needs HTTP; frontend '%s' is in tcp mode",
				  cf->frontends[i]->name);
	for (int i = 0; i < cf->nbackends; i++)
		if (cf->backends[i]->compress && cf->backends[i]->mode == MODE_TCP)
			cfg_error(p, cf->backends[i]->compress->line, 1,
				  "compress needs HTTP; backend '%s' is in tcp mode",
				  cf->backends[i]->name);
}
