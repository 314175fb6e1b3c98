/*
 * cfg_errorfile.c - `errorfile STATUS FILE` in a frontend or a backend:
 * the page served for a status gatehouse generates (proxy/local.c).
 *
 * The file is read here, at load, into memory: `gatehouse -t` reports a
 * missing or oversized one, and no request ever touches the disk.  A
 * relative name is read from the configuration file's directory, like
 * certificates.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"

/* A page must leave room in one buffer for the response head. */
#define ERRORFILE_MAX (16 * 1024)

void cfg_base_dir(const struct cfg_parser *p, char *out, size_t cap)
{
	const char *slash = p->file ? strrchr(p->file, '/') : NULL;

	out[0] = '\0';
	if (slash && (size_t)(slash - p->file) < cap)
		snprintf(out, cap, "%.*s", slash == p->file ? 1 : (int)(slash - p->file), p->file);
}

char *cfg_path_join(const struct cfg_parser *p, const char *name)
{
	const char *slash = p->file ? strrchr(p->file, '/') : NULL;
	char *out;

	if (name[0] == '/' || !slash)
		return strdup(name);
	int dirlen = slash == p->file ? 1 : (int)(slash - p->file);
	if (asprintf(&out, "%.*s/%s", dirlen, p->file, name) < 0)
		return NULL;
	return out;
}

const struct cfg_errorfile *cfg_errorfile_find(const struct cfg_errorfile *v, int n, int status)
{
	for (int i = 0; i < n; i++)
		if (v[i].status == status)
			return &v[i];
	return NULL;
}

void cfg_errorfiles_free(struct cfg_errorfile *v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i].body);
	free(v);
}

/* Reads the whole file (at most ERRORFILE_MAX bytes); reports at t. */
static char *read_page(struct cfg_parser *p, const struct cfg_tok *t, uint32_t *len)
{
	char base[1024], path[2048];
	cfg_base_dir(p, base, sizeof(base));
	if (t->s[0] == '/' || !base[0])
		snprintf(path, sizeof(path), "%s", t->s);
	else
		snprintf(path, sizeof(path), "%s/%s", base, t->s);

	FILE *f = fopen(path, "rb");
	if (!f) {
		cfg_error(p, t->line, t->col, "cannot read errorfile '%s': %s", path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(ERRORFILE_MAX + 1);
	size_t n = buf ? fread(buf, 1, ERRORFILE_MAX + 1, f) : 0;
	bool bad = buf && ferror(f);
	fclose(f);
	if (!buf) {
		cfg_oom(p);
		return NULL;
	}
	if (bad || n > ERRORFILE_MAX) {
		cfg_error(p, t->line, t->col, bad ? "cannot read errorfile '%s'" :
			  "errorfile '%s' is larger than 16k", path);
		free(buf);
		return NULL;
	}
	*len = (uint32_t)n;
	return buf;
}

static int add_errorfile(struct cfg_parser *p, const struct cfg_node *n,
			 struct cfg_errorfile **v, int *nv)
{
	int status;
	if (cfg_val_int(p, &n->toks[1], 400, 599, &status) < 0)
		return -1;
	if (cfg_errorfile_find(*v, *nv, status)) {
		cfg_error(p, n->toks[1].line, n->toks[1].col, "errorfile %d is already set", status);
		return -1;
	}
	uint32_t len = 0;
	char *body = read_page(p, &n->toks[2], &len);
	if (!body)
		return -1;
	struct cfg_errorfile *grown = cfg_grow(*v, *nv, sizeof(**v));
	if (!grown) {
		free(body);
		cfg_oom(p);
		return -1;
	}
	*v = grown;
	(*v)[(*nv)++] = (struct cfg_errorfile){ (uint16_t)status, body, len };
	return 0;
}

int cfg_fe_errorfile(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;
	return add_errorfile(p, n, &fe->errorfiles, &fe->nerrorfiles);
}

int cfg_be_errorfile(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_backend *be = s->obj;
	return add_errorfile(p, n, &be->errorfiles, &be->nerrorfiles);
}
