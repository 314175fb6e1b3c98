/*
 * cfg_deploy.c - the directives that say how gatehouse sits on a machine
 * rather than what it does with requests:
 *
 *   unix@/path addresses          binds and servers on Unix domain sockets
 *   bind ... backlog N defer_accept fastopen [N]        (TCP binds)
 *   bind unix@... mode 660 user U group G               (unix@ binds)
 *   tcp_keepalive [idle D] [interval D] [count N]  frontend: client sockets,
 *                                                  backend: server sockets
 *   source ADDR|client            backend or server: local address of
 *                                 server connections
 *   user / group / chroot         global: what main drops to after binding
 *
 * Users and groups are looked up here, at load, so `gatehouse -t` names
 * an unknown one with its line.  What the options do to sockets is in
 * net/sockopt.c; the privilege drop in core/privs.c.
 */
#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "config/cfg_internal.h"

const char *cfg_unix_addr_parse(const char *path, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;
	size_t n = strlen(path);

	if (n == 0)
		return "missing path after unix@";
	if (path[0] != '/')
		return "a Unix socket path must be absolute";
	if (n >= sizeof(sun->sun_path))
		return "Unix socket path too long (at most 107 bytes)";
	memset(ss, 0, sizeof(*ss));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n + 1);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return NULL;
}

/* ---- users and groups ----------------------------------------------------- */

/* A user name or a numeric uid; -1 after reporting. */
/* Fuzzing builds (GH_NO_RESOLVE) never touch NSS: only numeric ids there. */
#ifdef GH_NO_RESOLVE
#define getpwnam(n) ((struct passwd *)NULL)
#define getgrnam(n) ((struct group *)NULL)
#define getpwuid(u) ((struct passwd *)NULL)
#endif

static int lookup_user(struct cfg_parser *p, const struct cfg_tok *t, int *gid_out)
{
	struct passwd *pw = getpwnam(t->s);
	if (pw) {
		if (gid_out)
			*gid_out = (int)pw->pw_gid;
		return (int)pw->pw_uid;
	}
	char *end;
	long v = strtol(t->s, &end, 10);
	if (t->s[0] >= '0' && t->s[0] <= '9' && !*end && v >= 0 && v < 65536 * 32768L) {
		pw = getpwuid((uid_t)v);
		if (gid_out)
			*gid_out = pw ? (int)pw->pw_gid : -1;
		return (int)v;
	}
	cfg_error(p, t->line, t->col,
		  "unknown user '%s'; expected a name from the passwd database or a numeric uid",
		  t->s);
	return -1;
}

static int lookup_group(struct cfg_parser *p, const struct cfg_tok *t)
{
	struct group *gr = getgrnam(t->s);
	if (gr)
		return (int)gr->gr_gid;
	char *end;
	long v = strtol(t->s, &end, 10);
	if (t->s[0] >= '0' && t->s[0] <= '9' && !*end && v >= 0 && v < 65536 * 32768L)
		return (int)v;
	cfg_error(p, t->line, t->col,
		  "unknown group '%s'; expected a name from the group database or a numeric gid",
		  t->s);
	return -1;
}

static int set_str(struct cfg_parser *p, char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	if (!*dst) {
		cfg_oom(p);
		return -1;
	}
	return 0;
}

int cfg_gl_user(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_global *g = s->obj;
	int gid = -1;
	int uid = lookup_user(p, &n->toks[1], &gid);

	if (uid < 0)
		return -1;
	if (uid == 0)
		cfg_warning(p, n->toks[1].line, n->toks[1].col,
			    "user '%s' is root: privileges are not dropped", n->toks[1].s);
	g->uid = uid;
	/* The user's own group unless `group` says otherwise (cfg_gl_group
	 * remembers that it was written). */
	if (!g->group)
		g->gid = gid;
	cfg_remember(p, &g->user, &n->toks[1]);
	return set_str(p, &g->user, n->toks[1].s);
}

int cfg_gl_group(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_global *g = s->obj;
	int gid = lookup_group(p, &n->toks[1]);

	if (gid < 0)
		return -1;
	g->gid = gid;
	cfg_remember(p, &g->group, &n->toks[1]);
	return set_str(p, &g->group, n->toks[1].s);
}

int cfg_gl_chroot(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_global *g = s->obj;
	const struct cfg_tok *t = &n->toks[1];
	struct stat st;

	if (t->s[0] != '/') {
		cfg_error(p, t->line, t->col, "chroot '%s' is relative; expected an absolute path",
			  t->s);
		return -1;
	}
	if (stat(t->s, &st) < 0 || !S_ISDIR(st.st_mode)) {
		cfg_error(p, t->line, t->col, "chroot '%s' is not a directory; expected an "
					      "existing directory", t->s);
		return -1;
	}
	cfg_remember(p, &g->chroot, t);
	return set_str(p, &g->chroot, t->s);
}

void cfg_deploy_global_free(struct cfg_global *g)
{
	free(g->user);
	free(g->group);
	free(g->chroot);
	free(g->pidfile);
	g->user = g->group = g->chroot = g->pidfile = NULL;
}

/* ---- tcp_keepalive ---------------------------------------------------------- */

/* A duration given to the kernel in whole seconds (1 to 32767, its range). */
static int ka_seconds(struct cfg_parser *p, const struct cfg_tok *t, int *out)
{
	uint32_t ms;

	if (cfg_val_duration(p, t, &ms) < 0)
		return -1;
	if (ms < 1000 || ms > 32767u * 1000 || ms % 1000) {
		cfg_error(p, t->line, t->col,
			  "tcp_keepalive time '%s' must be whole seconds from 1s to 32767s", t->s);
		return -1;
	}
	*out = (int)(ms / 1000);
	return 0;
}

static int tcp_keepalive(struct cfg_parser *p, const struct cfg_node *n, struct cfg_keepalive *ka)
{
	struct cfg_keepalive k = { .on = true };
	int rc = 0;

	for (int i = 1; i < n->ntok; i += 2) {
		const struct cfg_tok *t = &n->toks[i];
		static const char *const names[] = { "idle", "interval", "count", NULL };
		int w = cfg_val_choice(p, t, "tcp_keepalive setting", NULL, names);
		if (w < 0)
			return -1;
		if (i + 1 >= n->ntok) {
			cfg_error(p, n->line, n->end_col, "expected a value after '%s'", t->s);
			return -1;
		}
		const struct cfg_tok *v = &n->toks[i + 1];
		if (w == 0)
			rc |= ka_seconds(p, v, &k.idle_s);
		else if (w == 1)
			rc |= ka_seconds(p, v, &k.interval_s);
		else
			rc |= cfg_val_int(p, v, 1, 127, &k.count);
	}
	if (rc == 0)
		*ka = k;
	return rc ? -1 : 0;
}

int cfg_fe_tcp_keepalive(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return tcp_keepalive(p, n, &((struct cfg_frontend *)s->obj)->keepalive);
}

int cfg_be_tcp_keepalive(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return tcp_keepalive(p, n, &((struct cfg_backend *)s->obj)->keepalive);
}

/* ---- source ---------------------------------------------------------------------- */

static int source_parse(struct cfg_parser *p, const struct cfg_tok *t, struct cfg_source *src)
{
	struct cfg_source v = { .line = t->line, .col = t->col };

	if (!t->quoted && strcmp(t->s, "client") == 0) {
		v.kind = SOURCE_CLIENT;
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&v.ss;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&v.ss;
		const char *a = t->s;
		char buf[INET6_ADDRSTRLEN + 2];
		size_t n = strlen(a);
		if (a[0] == '[' && n > 2 && n < sizeof(buf) && a[n - 1] == ']') {
			memcpy(buf, a + 1, n - 2);
			buf[n - 2] = '\0';
			a = buf;
		}
		if (inet_pton(AF_INET, a, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			v.len = sizeof(*sin);
		} else if (inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			v.len = sizeof(*sin6);
		} else {
			cfg_error(p, t->line, t->col,
				  "invalid source '%s'; expected an IP address (no port), e.g. "
				  "10.0.0.5 or [2001:db8::5], or 'client'",
				  t->s);
			return -1;
		}
		v.kind = SOURCE_ADDR;
	}
	*src = v;
	return 0;
}

int cfg_srv_source(struct cfg_parser *p, struct cfg_server *srv, const struct cfg_tok *a)
{
	return source_parse(p, a, &srv->source);
}

int cfg_be_source(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return source_parse(p, &n->toks[1], &((struct cfg_backend *)s->obj)->source);
}

/* ---- bind socket options -------------------------------------------------------- */

static struct cfg_bind_sock *bind_sock(struct cfg_parser *p, struct cfg_addr *a,
				       const struct cfg_tok *t)
{
	if (!a->sock) {
		a->sock = calloc(1, sizeof(*a->sock));
		if (!a->sock) {
			cfg_oom(p);
			return NULL;
		}
		a->sock->mode = a->sock->uid = a->sock->gid = -1;
		a->sock->line = t->line;
		a->sock->col = t->col;
	}
	return a->sock;
}

static void mark(int *line, int *col, const struct cfg_tok *t)
{
	if (!*line) {
		*line = t->line;
		*col = t->col;
	}
}

/* One option at toks[i] if it is ours: returns the tokens it took (0: not
 * ours); *err after reporting. */
static int bind_sock_option(struct cfg_parser *p, struct cfg_addr *a, const struct cfg_node *n,
			    int i, bool *err)
{
	const struct cfg_tok *t = &n->toks[i];
	const struct cfg_tok *v = i + 1 < n->ntok ? &n->toks[i + 1] : NULL;
	static const char *const with_arg[] = { "backlog", "mode", "user", "group", NULL };
	struct cfg_bind_sock *bs;
	int k = -1;

	if (t->quoted)
		return 0;
	for (int j = 0; with_arg[j]; j++)
		if (strcmp(t->s, with_arg[j]) == 0)
			k = j;
	bool defer = strcmp(t->s, "defer_accept") == 0, tfo = strcmp(t->s, "fastopen") == 0;
	if (k < 0 && !defer && !tfo)
		return 0;
	if (!(bs = bind_sock(p, a, t))) {
		*err = true;
		return 1;
	}
	if (defer) {
		bs->defer_accept = true;
		mark(&bs->tcp_line, &bs->tcp_col, t);
		return 1;
	}
	if (tfo) {
		mark(&bs->tcp_line, &bs->tcp_col, t);
		bs->fastopen = 256;
		/* an optional queue length */
		if (v && !v->quoted && v->s[0] >= '0' && v->s[0] <= '9') {
			if (cfg_val_int(p, v, 1, 65535, &bs->fastopen) < 0)
				*err = true;
			return 2;
		}
		return 1;
	}
	if (!v) {
		cfg_error(p, n->line, n->end_col, "expected a value after '%s'", t->s);
		*err = true;
		return 1;
	}
	if (k == 0) {
		if (cfg_val_int(p, v, 1, 65535, &bs->backlog) < 0)
			*err = true;
		return 2;
	}
	mark(&bs->unix_line, &bs->unix_col, t);
	if (k == 1) {
		char *end;
		long m = strtol(v->s, &end, 8);
		if (v->s[0] < '0' || v->s[0] > '7' || *end || m < 0 || m > 0777) {
			cfg_error(p, v->line, v->col,
				  "invalid mode '%s'; expected octal permissions, e.g. 660 or 0600",
				  v->s);
			*err = true;
		} else {
			bs->mode = (int)m;
		}
	} else if (k == 2) {
		if ((bs->uid = lookup_user(p, v, NULL)) < 0)
			*err = true;
	} else {
		if ((bs->gid = lookup_group(p, v)) < 0)
			*err = true;
	}
	return 2;
}

int cfg_bind_sock_options(struct cfg_parser *p, struct cfg_addr *a, const struct cfg_node *n,
			  struct cfg_node *rest)
{
	bool err = false;

	*rest = *n;
	rest->toks = calloc((size_t)n->ntok, sizeof(*rest->toks));
	if (!rest->toks) {
		rest->ntok = 0;
		cfg_oom(p);
		return -1;
	}
	rest->ntok = 0;
	for (int i = 0; i < n->ntok;) {
		int used = i >= 2 ? bind_sock_option(p, a, n, i, &err) : 0;
		if (used == 0)
			rest->toks[rest->ntok++] = n->toks[i++];
		i += used;
	}
	return err ? -1 : 0;
}

/* ---- whole-file checks ------------------------------------------------------------ */

static bool is_unix(const struct cfg_addr *a)
{
	return a->ss.ss_family == AF_UNIX;
}

static void check_bind(struct cfg_parser *p, const struct cfg_addr *a)
{
	const struct cfg_bind_sock *bs = a->sock;

	if (!bs)
		return;
	if (is_unix(a) && bs->tcp_line)
		cfg_error(p, bs->tcp_line, bs->tcp_col,
			  "defer_accept and fastopen are TCP options; bind %s is a Unix socket",
			  a->text);
	if (!is_unix(a) && bs->unix_line)
		cfg_error(p, bs->unix_line, bs->unix_col,
			  "mode, user and group apply to unix@ binds; bind %s is TCP (expected "
			  "e.g. bind unix@/run/gatehouse/web.sock mode 660)",
			  a->text);
}

static void check_server(struct cfg_parser *p, struct cfg_backend *be, struct cfg_server *s)
{
	bool own = s->source.kind != SOURCE_NONE;

	if (!own)
		s->source = be->source;
	s->keepalive = be->keepalive;
	if (s->source.kind == SOURCE_NONE)
		return;
	if (is_unix(&s->addr)) {
		/* The backend's source is for its TCP servers; a server's own is a
		 * mistake on a Unix socket. */
		if (own)
			cfg_error(p, s->source.line, s->source.col,
				  "source on server '%s', which is a Unix socket (%s); expected "
				  "source only on TCP servers",
				  s->name, s->addr.text);
		s->source.kind = SOURCE_NONE;
		return;
	}
	if (s->source.kind == SOURCE_ADDR && s->source.ss.ss_family != s->addr.ss.ss_family)
		cfg_error(p, s->source.line, s->source.col,
			  "source address family does not match server '%s' (%s); expected an "
			  "IPv%c source",
			  s->name, s->addr.text, s->addr.ss.ss_family == AF_INET ? '4' : '6');
}

void cfg_deploy_check(struct cfg_parser *p)
{
	struct cfg *cf = p->cfg;

	for (int b = 0; b < cf->nbackends; b++) {
		struct cfg_backend *be = cf->backends[b];
		for (int i = 0; i < be->nservers; i++)
			check_server(p, be, be->servers[i]);
	}
	for (int f = 0; f < cf->nfrontends; f++) {
		const struct cfg_frontend *fe = cf->frontends[f];
		for (int i = 0; i < fe->nbinds; i++)
			check_bind(p, &fe->binds[i]);
	}
	const struct cfg_global *g = &cf->global;
	if (g->uid >= 0 && g->gid < 0) {
		const struct cfg_where *w = cfg_recall(p, &g->user);
		cfg_error(p, w ? w->line : 0, w ? w->col : 0,
			  "user '%s' has no passwd entry to take a group from; expected 'group "
			  "NAME' too", g->user);
	}
	if (g->group && g->uid < 0) {
		const struct cfg_where *w = cfg_recall(p, &g->group);
		cfg_error(p, w ? w->line : 0, w ? w->col : 0,
			  "group without user; expected 'user NAME' too (gatehouse drops to both)");
	}
}
