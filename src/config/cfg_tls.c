/*
 * cfg_tls.c - TLS options of `bind` lines (termination) and `server` lines
 * (re-encryption), and their load-time check: the files they name are
 * loaded here, through net/tls.h (net/tls_load.c), so `gatehouse -t`
 * reports a missing, unreadable or mismatched certificate, key, CA or OCSP
 * file with the line that names it.
 *
 *   bind ADDR tls cert FILE [key FILE] [ocsp FILE] [cert FILE ...] [certs DIR]
 *             [tls_min 1.2|1.3] [tls_max 1.2|1.3] [ciphers LIST]
 *             [ciphersuites LIST] [alpn h2,http/1.1]
 *             [verify none|optional|required] [ca FILE]
 *   server NAME ADDR ... tls verify [required] [ca FILE] [sni NAME] [cert FILE]
 *   server NAME ADDR ... tls verify none [sni NAME] [cert FILE]
 *
 * `key` and `ocsp` belong to the `cert` before them.  The first certificate
 * (cert lines first, then the directory in name order) is the default one,
 * served when SNI names nothing known.  Relative file names are read from
 * the configuration file's directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/tls1.h>

#include "config/cfg_internal.h"
#include "net/tls.h"

/* ---- bind options --------------------------------------------------------- */

struct tls_bind_kw {
	const char *name;
	bool has_arg;
	int (*parse)(struct cfg_parser *p, struct cfg_tls_bind *tb, const struct cfg_tok *kw,
		     const struct cfg_tok *arg);
};

static int set_str(struct cfg_parser *p, char **dst, const struct cfg_tok *kw,
		   const struct cfg_tok *arg)
{
	if (*dst) {
		cfg_error(p, kw->line, kw->col, "'%s' given twice on one bind; expected it once",
			  kw->s);
		return -1;
	}
	if (!arg->s[0]) {
		cfg_error(p, arg->line, arg->col, "empty value after '%s'", kw->s);
		return -1;
	}
	*dst = strdup(arg->s);
	if (!*dst) {
		cfg_oom(p);
		return -1;
	}
	return 0;
}

static int tb_tls(struct cfg_parser *p, struct cfg_tls_bind *tb, const struct cfg_tok *kw,
		  const struct cfg_tok *arg)
{
	tb->enabled = true;
	tb->line = kw->line;
	tb->col = kw->col;
	return 0;
}

static int tb_cert(struct cfg_parser *p, struct cfg_tls_bind *tb, const struct cfg_tok *kw,
		   const struct cfg_tok *arg)
{
	struct cfg_tls_cert *v = cfg_grow(tb->certs, tb->ncerts, sizeof(*v));
	char *f = strdup(arg->s);
	if (!v || !f) {
		if (v)
			tb->certs = v;
		free(f);
		cfg_oom(p);
		return -1;
	}
	tb->certs = v;
	tb->certs[tb->ncerts++] = (struct cfg_tls_cert){ .cert = f, .line = arg->line,
							 .col = arg->col };
	return 0;
}

/* key/ocsp: for the cert just before. */
static struct cfg_tls_cert *last_cert(struct cfg_parser *p, struct cfg_tls_bind *tb,
				      const struct cfg_tok *kw)
{
	if (tb->ncerts == 0) {
		cfg_error(p, kw->line, kw->col,
			  "'%s' must follow the 'cert FILE' it belongs to; expected cert FILE %s "
			  "FILE",
			  kw->s, kw->s);
		return NULL;
	}
	return &tb->certs[tb->ncerts - 1];
}

static int tb_key(struct cfg_parser *p, struct cfg_tls_bind *tb, const struct cfg_tok *kw,
		  const struct cfg_tok *arg)
{
	struct cfg_tls_cert *c = last_cert(p, tb, kw);
	if (!c)
		return -1;
	c->key_line = arg->line;
	c->key_col = arg->col;
	return set_str(p, &c->key, kw, arg);
}

static int tb_ocsp(struct cfg_parser *p, struct cfg_tls_bind *tb, const struct cfg_tok *kw,
		   const struct cfg_tok *arg)
{
	struct cfg_tls_cert *c = last_cert(p, tb, kw);
	if (!c)
		return -1;
	c->ocsp_line = arg->line;
	c->ocsp_col = arg->col;
	return set_str(p, &c->ocsp, kw, arg);
}

static int tb_certs(struct cfg_parser *p, struct cfg_tls_bind *tb, const struct cfg_tok *kw,
		    const struct cfg_tok *arg)
{
	tb->dir_line = arg->line;
	tb->dir_col = arg->col;
	return set_str(p, &tb->certs_dir, kw, arg);
}

static int tls_version(struct cfg_parser *p, const struct cfg_tok *kw, const struct cfg_tok *arg,
		       int *out)
{
	if (strcmp(arg->s, "1.2") == 0) {
		*out = TLS1_2_VERSION;
		return 0;
	}
	if (strcmp(arg->s, "1.3") == 0) {
		*out = TLS1_3_VERSION;
		return 0;
	}
	if (strcmp(arg->s, "1.0") == 0 || strcmp(arg->s, "1.1") == 0)
		cfg_error(p, arg->line, arg->col,
			  "TLS %s is not supported (deprecated by RFC 8996); expected %s 1.2 or 1.3",
			  arg->s, kw->s);
	else
		cfg_error(p, arg->line, arg->col, "invalid TLS version '%s'; expected %s 1.2 or 1.3",
			  arg->s, kw->s);
	return -1;
}

static int tb_tls_min(struct cfg_parser *p, struct cfg_tls_bind *tb, const struct cfg_tok *kw,
		      const struct cfg_tok *arg)
{
	return tls_version(p, kw, arg, &tb->min_version);
}

static int tb_tls_max(struct cfg_parser *p, struct cfg_tls_bind *tb, const struct cfg_tok *kw,
		      const struct cfg_tok *arg)
{
	return tls_version(p, kw, arg, &tb->max_version);
}

static int tb_ciphers(struct cfg_parser *p, struct cfg_tls_bind *tb, const struct cfg_tok *kw,
		      const struct cfg_tok *arg)
{
	return set_str(p, &tb->ciphers, kw, arg);
}

static int tb_ciphersuites(struct cfg_parser *p, struct cfg_tls_bind *tb,
			   const struct cfg_tok *kw, const struct cfg_tok *arg)
{
	return set_str(p, &tb->ciphersuites, kw, arg);
}

/* Whether the comma-separated ALPN list has `proto` (n bytes) in it. */
static bool alpn_has(const char *list, const char *proto, size_t n)
{
	for (const char *s = list; *s;) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len == n && strncmp(s, proto, n) == 0)
			return true;
		s += len + (e ? 1 : 0);
	}
	return false;
}

static int tb_alpn(struct cfg_parser *p, struct cfg_tls_bind *tb, const struct cfg_tok *kw,
		   const struct cfg_tok *arg)
{
	/* Only what the proxy speaks; the order is the server's preference
	 * (tls_alpn_cb).  Whether it agrees with the bind's proto is checked
	 * once the mode is known (cfg_tls_check). */
	const char *s = arg->s;
	tb->alpn_line = arg->line;
	tb->alpn_col = arg->col;
	while (*s) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (!((n == 2 && strncmp(s, "h2", 2) == 0) ||
		      (n == 8 && strncmp(s, "http/1.1", 8) == 0) ||
		      (n == 8 && strncmp(s, "http/1.0", 8) == 0))) {
			cfg_error(p, arg->line, arg->col,
				  "unsupported ALPN protocol '%.*s'%s; expected h2, http/1.1 and/or "
				  "http/1.0, comma-separated",
				  (int)n, s,
				  n == 3 && strncmp(s, "h2c", 3) == 0 ?
					  " (h2c is HTTP/2 without TLS; over TLS it is h2)" :
					  "");
			return -1;
		}
		s += n + (e ? 1 : 0);
		if (e && !*s) {
			cfg_error(p, arg->line, arg->col, "empty protocol at the end of alpn '%s'",
				  arg->s);
			return -1;
		}
	}
	return set_str(p, &tb->alpn, kw, arg);
}

static int tb_verify(struct cfg_parser *p, struct cfg_tls_bind *tb, const struct cfg_tok *kw,
		     const struct cfg_tok *arg)
{
	static const char *const words[] = { "none", "optional", "required", NULL };
	int k = cfg_val_choice(p, arg, "verify mode", "a bind", words);
	if (k < 0)
		return -1;
	tb->verify = (enum tls_verify)k;
	return 0;
}

static int tb_ca(struct cfg_parser *p, struct cfg_tls_bind *tb, const struct cfg_tok *kw,
		 const struct cfg_tok *arg)
{
	tb->ca_line = arg->line;
	tb->ca_col = arg->col;
	return set_str(p, &tb->ca, kw, arg);
}

static const struct tls_bind_kw tls_bind_kws[] = {
	{ "tls", false, tb_tls },
	{ "cert", true, tb_cert },
	{ "key", true, tb_key },
	{ "ocsp", true, tb_ocsp },
	{ "certs", true, tb_certs },
	{ "tls_min", true, tb_tls_min },
	{ "tls_max", true, tb_tls_max },
	{ "ciphers", true, tb_ciphers },
	{ "ciphersuites", true, tb_ciphersuites },
	{ "alpn", true, tb_alpn },
	{ "verify", true, tb_verify },
	{ "ca", true, tb_ca },
	{ NULL, false, NULL },
};

#define TLS_BIND_OPTIONS \
	"tls, cert, key, ocsp, certs, tls_min, tls_max, ciphers, ciphersuites, alpn, verify, ca"

void cfg_tls_bind_free(struct cfg_tls_bind *tb)
{
	if (!tb)
		return;
	tls_bind_unload(tb);
	for (int i = 0; i < tb->ncerts; i++) {
		free(tb->certs[i].cert);
		free(tb->certs[i].key);
		free(tb->certs[i].ocsp);
	}
	free(tb->certs);
	free(tb->certs_dir);
	free(tb->ciphers);
	free(tb->ciphersuites);
	free(tb->alpn);
	free(tb->ca);
	free(tb);
}

/* Shape checks of one bind line, once all its options are read. */
static int tls_bind_shape(struct cfg_parser *p, struct cfg_tls_bind *tb, const struct cfg_node *n,
			  int first)
{
	const struct cfg_tok *t0 = &n->toks[first];
	int rc = 0;

	if (!tb->enabled) {
		cfg_error(p, t0->line, t0->col,
			  "bind option '%s' needs 'tls' on the same bind; expected bind ADDRESS "
			  "tls cert FILE ...",
			  t0->s);
		return -1;
	}
	if (tb->ncerts == 0 && !tb->certs_dir) {
		cfg_error(p, tb->line, tb->col,
			  "bind with 'tls' needs a certificate; expected 'cert FILE' (PEM with "
			  "the key) or 'certs DIR'");
		rc = -1;
	}
	if (tb->min_version && tb->max_version && tb->min_version > tb->max_version) {
		cfg_error(p, tb->line, tb->col,
			  "tls_min is above tls_max; expected tls_min <= tls_max");
		rc = -1;
	}
	if (tb->verify != TLS_VERIFY_NONE && !tb->ca) {
		cfg_error(p, tb->line, tb->col,
			  "'verify %s' needs 'ca FILE' (the CA that signs client certificates)",
			  tb->verify == TLS_VERIFY_REQUIRED ? "required" : "optional");
		rc = -1;
	}
	if (tb->verify == TLS_VERIFY_NONE && tb->ca)
		cfg_warning(p, tb->ca_line, tb->ca_col,
			    "'ca' is unused without 'verify required' or 'verify optional'");
	return rc;
}

int cfg_tls_bind_options(struct cfg_parser *p, struct cfg_addr *a, const struct cfg_node *n,
			 int first)
{
	struct cfg_tls_bind *tb = calloc(1, sizeof(*tb));
	int rc = 0;

	if (!tb) {
		cfg_oom(p);
		return -1;
	}
	tb->line = n->toks[first].line;
	tb->col = n->toks[first].col;
	for (int i = first; i < n->ntok; i++) {
		const struct cfg_tok *t = &n->toks[i];
		const struct tls_bind_kw *k = NULL;
		for (const struct tls_bind_kw *o = tls_bind_kws; !t->quoted && o->name; o++)
			if (strcmp(o->name, t->s) == 0)
				k = o;
		if (!k) {
			cfg_error(p, t->line, t->col, "unknown bind option '%s'; expected one of: %s",
				  t->s, TLS_BIND_OPTIONS);
			cfg_tls_bind_free(tb);
			return -1;   /* what follows cannot be told apart from values */
		}
		const struct cfg_tok *arg = NULL;
		if (k->has_arg) {
			if (i + 1 >= n->ntok) {
				cfg_error(p, n->line, n->end_col, "expected a value after '%s'", t->s);
				cfg_tls_bind_free(tb);
				return -1;
			}
			arg = &n->toks[++i];
		}
		if (k->parse(p, tb, t, arg) < 0)
			rc = -1;
	}
	if (tls_bind_shape(p, tb, n, first) < 0)
		rc = -1;
	a->tls = tb;   /* kept even after an error: freed with the bind */
	return rc;
}

/* ---- server options ------------------------------------------------------------ */

static struct cfg_tls_server *srv_tls(struct cfg_parser *p, struct cfg_server *srv,
				      const struct cfg_tok *t)
{
	if (!srv->tls) {
		srv->tls = calloc(1, sizeof(*srv->tls));
		if (!srv->tls) {
			cfg_oom(p);
			return NULL;
		}
		srv->tls->opt_line = t->line;
		srv->tls->opt_col = t->col;
	}
	return srv->tls;
}

static int srv_str(struct cfg_parser *p, char **dst, const struct cfg_tok *kw,
		   const struct cfg_tok *arg)
{
	if (*dst) {
		cfg_error(p, kw->line, kw->col, "'%s' given twice on one server; expected it once",
			  kw->s);
		return -1;
	}
	*dst = strdup(arg->s);
	if (!*dst) {
		cfg_oom(p);
		return -1;
	}
	return 0;
}

/* The TLS words of a server line (CFG_TLS_SERVER_OPTIONS spells them for
 * messages); the last, sni, is what is left when none of the others is. */
static const char *const tls_server_opts[] = { "tls", "verify", "ca", "sni", "cert", NULL };

void cfg_tls_server_options_each(cfg_kw_visit *fn, void *arg)
{
	for (int k = 0; tls_server_opts[k]; k++)
		fn(arg, "server", tls_server_opts[k]);
}

void cfg_tls_bind_options_each(cfg_kw_visit *fn, void *arg)
{
	for (const struct tls_bind_kw *k = tls_bind_kws; k->name; k++)
		fn(arg, "bind", k->name);
}

int cfg_tls_server_option(struct cfg_parser *p, struct cfg_server *srv, const struct cfg_node *n,
			  int i, bool *err)
{
	const struct cfg_tok *t = &n->toks[i];
	const struct cfg_tok *next = i + 1 < n->ntok ? &n->toks[i + 1] : NULL;
	struct cfg_tls_server *ts;

	if (t->quoted)
		return 0;
	bool ours = false;
	for (int k = 0; tls_server_opts[k]; k++)
		ours = ours || strcmp(t->s, tls_server_opts[k]) == 0;
	if (!ours)
		return 0;
	bool is_tls = strcmp(t->s, "tls") == 0, is_verify = strcmp(t->s, "verify") == 0;
	bool is_ca = strcmp(t->s, "ca") == 0, is_cert = strcmp(t->s, "cert") == 0;
	if (!(ts = srv_tls(p, srv, t))) {
		*err = true;
		return 1;
	}
	if (is_tls) {
		ts->enabled = true;
		ts->line = t->line;
		ts->col = t->col;
		return 1;
	}
	if (is_verify) {
		/* `verify` alone means required; `verify none` must be said. */
		ts->verify_set = true;
		ts->verify = TLS_VERIFY_REQUIRED;
		if (next && !next->quoted && strcmp(next->s, "none") == 0) {
			ts->verify = TLS_VERIFY_NONE;
			return 2;
		}
		if (next && !next->quoted && strcmp(next->s, "required") == 0)
			return 2;
		if (next && !next->quoted && strcmp(next->s, "optional") == 0) {
			cfg_error(p, next->line, next->col,
				  "'verify optional' is for client certificates on a bind; expected "
				  "'verify required' or 'verify none' for a server");
			*err = true;
			return 2;
		}
		return 1;
	}
	if (!next) {
		cfg_error(p, n->line, n->end_col, "expected a value after '%s'", t->s);
		*err = true;
		return 1;
	}
	if (is_ca) {
		ts->ca_line = next->line;
		ts->ca_col = next->col;
		if (srv_str(p, &ts->ca, t, next) < 0)
			*err = true;
		return 2;
	}
	if (is_cert) {
		ts->cert_line = next->line;
		ts->cert_col = next->col;
		if (srv_str(p, &ts->cert, t, next) < 0)
			*err = true;
		return 2;
	}
	/* sni: a host name (the server's certificate is checked against it). */
	for (const char *c = next->s; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '.')) {
			cfg_error(p, next->line, next->col,
				  "invalid sni '%s'; expected a host name such as api.internal",
				  next->s);
			*err = true;
			return 2;
		}
	}
	if (!next->s[0] || srv_str(p, &ts->sni, t, next) < 0)
		*err = true;
	return 2;
}

void cfg_tls_server_free(struct cfg_tls_server *ts)
{
	if (!ts)
		return;
	tls_server_unload(ts);
	free(ts->ca);
	free(ts->sni);
	free(ts->cert);
	free(ts);
}

/* ---- load-time check ---------------------------------------------------------------- */

static void tls_report(void *arg, bool warning, int line, int col, const char *msg)
{
	struct cfg_parser *p = arg;
	if (warning)
		cfg_warning(p, line, col, "%s", msg);
	else
		cfg_error(p, line, col, "%s", msg);
}

static void cfg_tls_check_server(struct cfg_parser *p, struct cfg_backend *be,
				 struct cfg_server *srv, const char *base,
				 const struct tls_diag *d)
{
	struct cfg_tls_server *ts = srv->tls;

	if (!ts->enabled) {
		cfg_error(p, ts->opt_line, ts->opt_col,
			  "server '%s' has TLS options but no 'tls'; expected 'tls verify ...' or "
			  "no TLS options",
			  srv->name);
		return;
	}
	if (!ts->verify_set) {
		cfg_error(p, ts->line, ts->col,
			  "server '%s' uses tls without verify; expected 'verify required ca FILE' "
			  "or, to accept any certificate, 'verify none' written out",
			  srv->name);
		return;
	}
	if (ts->verify == TLS_VERIFY_NONE && ts->ca)
		cfg_warning(p, ts->ca_line, ts->ca_col, "'ca' is unused with 'verify none'");
	snprintf(ts->label, sizeof(ts->label), "%s/%s", be->name, srv->name);
	tls_server_load(ts, base, d);
}

/* A bind's ALPN list: in http mode the default follows its proto (HTTP/2
 * first when both are spoken: the server's order wins, tls_alpn_cb), and a
 * list written out must not offer what the proto refuses - a client would
 * negotiate a protocol the connection is then not spoken in.  A tcp proxy
 * relays bytes: no ALPN unless asked for, and then whatever was asked. */
static int tls_bind_alpn(struct cfg_parser *p, const struct cfg_frontend *fe,
			 const struct cfg_addr *a)
{
	static const char *const defaults[] = {
		[BIND_PROTO_AUTO] = "h2,http/1.1",
		[BIND_PROTO_H1] = "http/1.1",
		[BIND_PROTO_H2] = "h2",
	};
	struct cfg_tls_bind *tb = a->tls;

	if (tb->alpn) {
		if (fe->mode == MODE_TCP || a->proto == BIND_PROTO_AUTO)
			return 0;
		bool h2 = alpn_has(tb->alpn, "h2", 2);
		bool h1 = alpn_has(tb->alpn, "http/1.1", 8) || alpn_has(tb->alpn, "http/1.0", 8);
		if (a->proto == BIND_PROTO_H1 && h2)
			cfg_error(p, tb->alpn_line, tb->alpn_col,
				  "alpn '%s' offers h2 on a 'proto h1' bind; expected http/1.1 "
				  "(and/or http/1.0), or proto auto",
				  tb->alpn);
		else if (a->proto == BIND_PROTO_H2 && h1)
			cfg_error(p, tb->alpn_line, tb->alpn_col,
				  "alpn '%s' offers HTTP/1 on a 'proto h2' bind; expected alpn h2, "
				  "or proto auto",
				  tb->alpn);
		return 0;
	}
	tb->alpn = strdup(fe->mode == MODE_TCP ? "" : defaults[a->proto]);
	if (!tb->alpn) {
		cfg_oom(p);
		return -1;
	}
	return 0;
}

void cfg_tls_check(struct cfg_parser *p)
{
	struct cfg *cf = p->cfg;
	struct tls_diag d = { tls_report, p };
	char base[1024];

	cfg_base_dir(p, base, sizeof(base));
	for (int f = 0; f < cf->nfrontends; f++) {
		struct cfg_frontend *fe = cf->frontends[f];
		for (int b = 0; b < fe->nbinds; b++) {
			struct cfg_tls_bind *tb = fe->binds[b].tls;
			if (!tb || !tb->enabled || (tb->ncerts == 0 && !tb->certs_dir))
				continue;
			if (tls_bind_alpn(p, fe, &fe->binds[b]) < 0)
				continue;
			tb->ocsp_check_ms = cf->global.ocsp_check_ms;
			tls_bind_load(tb, base, &d);
		}
	}
	for (int b = 0; b < cf->nbackends; b++) {
		struct cfg_backend *be = cf->backends[b];
		for (int i = 0; i < be->nservers; i++)
			if (be->servers[i]->tls)
				cfg_tls_check_server(p, be, be->servers[i], base, &d);
	}
}
