/*
 * cfg_log.c - frontend directives for access logs and request ids:
 *
 *   access_log stdout|stderr|PATH [format combined|json]
 *   request_id header NAME
 *
 * A relative PATH is joined to the configuration file's directory (like
 * TLS files), and the load checks, without creating anything, that the
 * file could be opened for append: it exists and is writable, or its
 * directory exists and is writable.  So `gatehouse -t` reports a log that
 * cannot be written with its FILE:LINE:COL.  The file is opened for real
 * by access_logs_open() (src/log/access_log.c) at start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/cfg_internal.h"

/* NULL if `path` could be opened for append, else why not (in buf). */
static const char *log_path_problem(const char *path, char *buf, size_t len)
{
	struct stat st;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return "it is a directory";
		/* O_NONBLOCK: a FIFO without a reader says ENXIO instead of waiting */
		int fd = open(path, O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd < 0 && errno != ENXIO) {
			snprintf(buf, len, "cannot open it for append: %s", strerror(errno));
			return buf;
		}
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (errno != ENOENT) {
		snprintf(buf, len, "%s", strerror(errno));
		return buf;
	}
	const char *slash = strrchr(path, '/');
	char dir[1024];
	snprintf(dir, sizeof(dir), "%.*s", !slash ? 1 : slash == path ? 1 : (int)(slash - path),
		 !slash ? "." : path);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(buf, len, "directory '%s' does not exist", dir);
		return buf;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		snprintf(buf, len, "cannot create it in '%s': %s", dir, strerror(errno));
		return buf;
	}
	return NULL;
}

/* `[format combined|json]` after the target; 0 or -1 after reporting. */
static int log_format_option(struct cfg_parser *p, const struct cfg_node *n,
			     enum access_log_format *out)
{
	static const char *const formats[] = { "combined", "json", NULL };
	const struct cfg_tok *kw = &n->toks[2];

	if (kw->quoted || strcmp(kw->s, "format") != 0) {
		cfg_error(p, kw->line, kw->col,
			  "unexpected '%s' after the access log target; expected 'format combined' "
			  "or 'format json'",
			  kw->s);
		return -1;
	}
	if (n->ntok < 4) {
		cfg_error(p, n->line, n->end_col,
			  "missing value after 'format'; expected combined or json");
		return -1;
	}
	int k = cfg_val_choice(p, &n->toks[3], "access log format", NULL, formats);
	if (k < 0)
		return -1;
	*out = k == 0 ? ACCESS_LOG_COMBINED : ACCESS_LOG_JSON;
	return 0;
}

int cfg_fe_access_log(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;
	const struct cfg_tok *t = &n->toks[1];
	enum access_log_format fmt = ACCESS_LOG_COMBINED;
	char why[1200];

	if (n->ntok > 2 && log_format_option(p, n, &fmt) < 0)
		return -1;
	if (!t->s[0]) {
		cfg_error(p, t->line, t->col, "empty access log path; expected stdout, stderr or "
			  "a file name");
		return -1;
	}
	bool stdio = !t->quoted && (strcmp(t->s, "stdout") == 0 || strcmp(t->s, "stderr") == 0);
	char *path = stdio ? strdup(t->s) : cfg_path_join(p, t->s);
	if (!path) {
		cfg_oom(p);
		return -1;
	}
	const char *problem = stdio ? NULL : log_path_problem(path, why, sizeof(why));
	if (problem) {
		cfg_error(p, t->line, t->col, "access log '%s': %s", path, problem);
		free(path);
		return -1;
	}
	free(fe->access_log_path);
	fe->access_log_path = path;
	fe->access_log_format = fmt;
	return 0;
}

/* RFC 9110 token characters, as a field name needs. */
static bool log_is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

int cfg_fe_request_id(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;
	const struct cfg_tok *kw = &n->toks[1], *name = &n->toks[2];

	if (kw->quoted || strcmp(kw->s, "header") != 0) {
		cfg_error(p, kw->line, kw->col,
			  "unknown request id carrier '%s'; expected 'header NAME'", kw->s);
		return -1;
	}
	size_t len = strlen(name->s);
	bool ok = len > 0 && len <= 64;
	for (size_t i = 0; ok && i < len; i++)
		ok = log_is_tchar((unsigned char)name->s[i]);
	if (!ok) {
		cfg_error(p, name->line, name->col,
			  "invalid header name '%s'; expected 1 to 64 token characters, e.g. "
			  "X-Request-Id",
			  name->s);
		return -1;
	}
	free(fe->request_id_header);
	if (!(fe->request_id_header = strdup(name->s))) {
		cfg_oom(p);
		return -1;
	}
	return 0;
}
