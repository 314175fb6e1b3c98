/*
 * cfg_admin.c - `admin ADDR [token_file PATH]` in the global section: where
 * the admin listener (admin/admin.c) serves /metrics, /api/ and the
 * dashboard, and the bearer token every request must carry.
 *
 * Loopback unless the address says otherwise: a bare port ("9900") is
 * 127.0.0.1:9900; "*:9900" or a routable address is taken as written, and
 * without a token that is a warning (anyone who reaches the port could
 * drain servers through the API).  The token file is read here, at load,
 * so `gatehouse -t` reports a missing, empty or malformed one, and a reload
 * reads it again.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/cfg_internal.h"

/* A token is one line of printable ASCII without spaces (what fits in an
 * Authorization header as a bearer token), at most this long. */
#define ADMIN_TOKEN_MAX 4096

void cfg_admin_free(struct cfg_admin *a)
{
	if (!a)
		return;
	cfg_addr_free(&a->addr);
	free(a->token_file);
	if (a->token) {
		/* not left lying in freed heap memory */
		volatile char *v = a->token;
		for (size_t i = 0; i < a->token_len; i++)
			v[i] = 0;
		free(a->token);
	}
	free(a);
}

static bool is_loopback(const struct cfg_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr) >> 24) == 127;
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
	return false;
}

/* Reads the token file named by t into a; reports at t. */
static int read_token(struct cfg_parser *p, const struct cfg_tok *t, struct cfg_admin *a)
{
	char base[4096], path[8192];

	cfg_base_dir(p, base, sizeof(base));
	if (t->s[0] == '/' || !base[0])
		snprintf(path, sizeof(path), "%s", t->s);
	else
		snprintf(path, sizeof(path), "%s/%s", base, t->s);
	if (!(a->token_file = strdup(path))) {
		cfg_oom(p);
		return -1;
	}
	FILE *f = fopen(path, "rb");
	if (!f) {
		cfg_error(p, t->line, t->col, "cannot read admin token_file '%s': %s", path,
			  strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0077))
		cfg_warning(p, t->line, t->col,
			    "admin token_file '%s' can be read by other users (mode %03o); "
			    "chmod 600 it",
			    path, (unsigned)(st.st_mode & 0777));
	char *buf = malloc(ADMIN_TOKEN_MAX + 2);
	size_t n = buf ? fread(buf, 1, ADMIN_TOKEN_MAX + 2, f) : 0;
	fclose(f);
	if (!buf) {
		cfg_oom(p);
		return -1;
	}
	/* one trailing newline (echo > file) is not part of the token */
	if (n && buf[n - 1] == '\n')
		n--;
	if (n && buf[n - 1] == '\r')
		n--;
	const char *why = NULL;
	if (n == 0)
		why = "it is empty";
	else if (n > ADMIN_TOKEN_MAX)
		why = "it is longer than 4096 bytes";
	for (size_t i = 0; !why && i < n; i++)
		if (buf[i] <= 0x20 || buf[i] >= 0x7f)
			why = "a token is one line of printable characters without spaces";
	if (why) {
		cfg_error(p, t->line, t->col, "invalid admin token_file '%s': %s", path, why);
		free(buf);
		return -1;
	}
	if (n < 16)
		cfg_warning(p, t->line, t->col,
			    "admin token in '%s' is only %zu characters; use at least 16 random ones",
			    path, n);
	buf[n] = '\0';
	a->token = buf;
	a->token_len = n;
	return 0;
}

int cfg_gl_admin(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_global *g = s->obj;
	const struct cfg_tok *at = &n->toks[1];
	struct cfg_admin *a = calloc(1, sizeof(*a));
	char buf[64];
	int rc = -1;

	if (!a) {
		cfg_oom(p);
		return -1;
	}
	a->line = n->line;
	a->col = n->col;
	/* a bare port is a loopback one */
	struct cfg_tok t = *at;
	if (at->s[0] && strspn(at->s, "0123456789") == strlen(at->s)) {
		snprintf(buf, sizeof(buf), "127.0.0.1:%.10s", at->s);
		t.s = buf;
	}
	if (strncmp(t.s, "unix@", 5) == 0) {
		cfg_error(p, at->line, at->col,
			  "admin listens on TCP only; expected IP:PORT or a port, e.g. "
			  "127.0.0.1:9900");
		goto out;
	}
	if (cfg_val_addr(p, &t, true, &a->addr) < 0)
		goto out;
	if (n->ntok == 3) {
		cfg_error(p, n->toks[2].line, n->toks[2].col,
			  "missing value after '%s'; usage: admin ADDR [token_file PATH]",
			  n->toks[2].s);
		goto out;
	}
	if (n->ntok == 4) {
		if (strcmp(n->toks[2].s, "token_file") != 0) {
			cfg_error(p, n->toks[2].line, n->toks[2].col,
				  "unknown admin option '%s'; expected token_file PATH",
				  n->toks[2].s);
			goto out;
		}
		if (read_token(p, &n->toks[3], a) < 0)
			goto out;
	}
	if (!is_loopback(&a->addr) && !a->token)
		cfg_warning(p, at->line, at->col,
			    "admin listens on '%s', which is not a loopback address, without a "
			    "token_file: anyone who reaches it can read metrics and change servers",
			    a->addr.text);
	rc = 0;
out:
	if (rc < 0) {
		cfg_admin_free(a);
		return -1;
	}
	cfg_admin_free(g->admin);   /* a second `admin` line overrides (warned) */
	g->admin = a;
	return 0;
}

static in_port_t addr_port(const struct cfg_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_port;
	if (a->ss.ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)&a->ss)->sin6_port;
	return 0;
}

/* Could a and b be the same listening socket's address (same family and
 * port, and the same address or one of them any)? */
static bool addr_clash(const struct cfg_addr *a, const struct cfg_addr *b)
{
	if (a->ss.ss_family != b->ss.ss_family || addr_port(a) != addr_port(b) || !addr_port(a))
		return false;
	if (cfg_addr_is_any(a) || cfg_addr_is_any(b))
		return true;
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)&b->ss)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
		      &((const struct sockaddr_in6 *)&b->ss)->sin6_addr, 16) == 0;
}

void cfg_admin_check(struct cfg_parser *p)
{
	const struct cfg_admin *a = p->cfg->global.admin;
	if (!a)
		return;
	for (int i = 0; i < p->cfg->nfrontends; i++) {
		const struct cfg_frontend *fe = p->cfg->frontends[i];
		for (int j = 0; j < fe->nbinds; j++)
			if (addr_clash(&a->addr, &fe->binds[j])) {
				cfg_error(p, a->addr.line, a->addr.col,
					  "admin address '%s' is also bound by frontend '%s' (line %d)",
					  a->addr.text, fe->name, fe->binds[j].line);
				return;
			}
	}
}
