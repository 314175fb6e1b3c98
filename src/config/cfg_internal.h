/*
 * cfg_internal.h - what the config lexer, value parsers, section parsers and
 * checker share.  Nothing outside src/config/ includes this.
 *
 * The load runs in three passes over one struct cfg_parser:
 *   cfg_lex.c    text -> a tree of directives (lines of tokens, { } blocks)
 *   cfg_parse.c  tree -> struct cfg: each directive goes to its section's
 *                keyword table (cfg_global.c, cfg_frontend.c, cfg_backend.c),
 *                whose handlers read values with cfg_value.c
 *   cfg_check.c  cross-references: names, modes, binds, limits
 * Every pass reports through cfg_error()/cfg_warning() and keeps going, so
 * one run shows every mistake it can.
 */
#ifndef GH_CONFIG_CFG_INTERNAL_H
#define GH_CONFIG_CFG_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "config/cfg.h"
#include "filter/cond.h"

/* One directive: a line of tokens and, if the line ended with '{', the
 * directives of its block. */
struct cfg_node {
	struct cfg_tok *toks;   /* toks[0] is the keyword; owned by the node */
	int ntok;
	int line, col;          /* of the first token */
	int end_col;            /* just past the last token: "missing X" points here */
	bool block;             /* the line opened a { } block */
	bool brace_missing;     /* section header without '{', opened anyway */
	int brace_line, brace_col;
	struct cfg_node *kids;
	int nkids, kids_cap;
};

/* One diagnostic; they are sorted by position before being joined. */
struct cfg_diag {
	int line, col, seq;
	bool warning;
	char *text;             /* the full "FILE:LINE:COL: error: ..." line */
};

/* Where a directive set a field, for checks that can only run once the
 * whole file is read (e.g. max_header_size against tune.bufsize). */
struct cfg_where {
	const void *field;
	int line, col;
};

#define CFG_MAX_DIAGS 100

struct cfg_parser {
	const char *file;
	struct cfg *cfg;
	struct cfg_node root;   /* kids are the sections */
	char *text;             /* token strings live here */

	struct cfg_diag *diags;
	int ndiags, diags_cap;
	int nerrors, nwarnings;
	bool oom;

	struct cfg_where *where;
	int nwhere, where_cap;
};

void cfg_error(struct cfg_parser *p, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "unknown KIND 'NAME'; expected one of: A, B" (or "expected a `KIND NAME
 * { ... }` section" when there are none): a reference to a top-level
 * section (limit, waf, cache) that does not exist.  name_at(c, i) is the
 * name of the i-th of n sections. */
void cfg_error_unknown_section(struct cfg_parser *p, int line, int col, const char *kind,
			       const char *name, int n,
			       const char *(*name_at)(const struct cfg *c, int i));
void cfg_warning(struct cfg_parser *p, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void cfg_oom(struct cfg_parser *p);

/* Lexer: fills p->root from text[0..len).  `sections` (NULL-terminated)
 * are the top-level names: a header line naming one without '{' still
 * opens a block, which keeps one forgotten brace from cascading. */
void cfg_lex(struct cfg_parser *p, const char *text, size_t len, const char *const *sections);
void cfg_node_free(struct cfg_node *n);

/* Parser and checker. */
void cfg_parse_tree(struct cfg_parser *p);
void cfg_check(struct cfg_parser *p);

void cfg_remember(struct cfg_parser *p, const void *field, const struct cfg_tok *t);
const struct cfg_where *cfg_recall(const struct cfg_parser *p, const void *field);

/* Growth for arrays whose capacity is implicit: room for element n
 * (0-based) exists unless n is 0 or a power of two.  Returns the array,
 * possibly moved, or NULL with the old one untouched. */
void *cfg_grow(void *arr, int n, size_t size);

/* Value parsers that report their own errors at the token (cfg_value.c).
 * Return 0 on success, -1 after reporting. */
int cfg_val_duration(struct cfg_parser *p, const struct cfg_tok *t, uint32_t *out);
int cfg_val_size(struct cfg_parser *p, const struct cfg_tok *t, uint64_t min, uint64_t max,
		 uint64_t *out);
int cfg_val_int(struct cfg_parser *p, const struct cfg_tok *t, long min, long max, int *out);
/* "20%" (or a bare "20" unless sign_required), within [min, max]. */
int cfg_val_percent(struct cfg_parser *p, const struct cfg_tok *t, long min, long max,
		    bool sign_required, int *out);
int cfg_val_addr(struct cfg_parser *p, const struct cfg_tok *t, bool for_bind,
		 struct cfg_addr *out);
int cfg_val_name(struct cfg_parser *p, const struct cfg_tok *t, const char *what);
void cfg_addr_free(struct cfg_addr *a);
bool cfg_addr_is_any(const struct cfg_addr *a);

/* ---- sections and keywords ----------------------------------------------
 * A section is a name, the shape of its header and a keyword table; a
 * keyword is a name, a usage line (shown when the arguments do not fit),
 * an argument count and a handler.  Adding a directive is one table row
 * and one small handler; adding a section is one file defining a struct
 * cfg_section and one line in cfg_parse.c's list. */

/* What handlers see of the section they are in. */
struct cfg_scope {
	void *obj;              /* struct cfg_global/frontend/backend */
	const char *what;       /* "backend 'app'", for messages */
};

#define CFG_KW_MULTI 0x01   /* may appear several times (bind, server...) */

struct cfg_kw {
	const char *name;
	const char *usage;      /* shown when the argument count is wrong */
	int min_args, max_args; /* after the keyword; -1 = no maximum */
	unsigned flags;
	int (*parse)(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
};

struct cfg_section {
	const char *name;
	const char *usage;      /* "backend NAME {" */
	int nargs;              /* 0, or 1 for a NAME */
	/* creates (or finds) the object the keywords fill; NULL after an error */
	void *(*open)(struct cfg_parser *p, const struct cfg_node *n);
	const struct cfg_kw *kws;   /* ends with a NULL name */
};

extern const struct cfg_section cfg_section_global;    /* cfg_global.c */
extern const struct cfg_section cfg_section_frontend;  /* cfg_frontend.c */
extern const struct cfg_section cfg_section_backend;   /* cfg_backend.c */
extern const struct cfg_section cfg_section_limit;     /* cfg_limit.c */
extern const struct cfg_section cfg_section_waf;       /* cfg_waf.c */
extern const struct cfg_section cfg_section_cache;     /* cfg_cache.c */

/* The option words of `server` and `bind` lines, for cfg_keywords_each():
 * each file lists those it parses (cfg_backend.c: server options with the
 * TLS ones of cfg_tls.c; cfg_frontend.c: bind options with those of
 * cfg_deploy.c, cfg_proxy.c and cfg_tls.c). */
typedef void cfg_kw_visit(void *arg, const char *context, const char *keyword);
void cfg_server_options_each(cfg_kw_visit *fn, void *arg);
void cfg_bind_options_each(cfg_kw_visit *fn, void *arg);
void cfg_tls_bind_options_each(cfg_kw_visit *fn, void *arg);
void cfg_tls_server_options_each(cfg_kw_visit *fn, void *arg);
void cfg_bind_sock_options_each(cfg_kw_visit *fn, void *arg);

/* Timeouts share one directive per section: a table of kinds and the
 * field of the section's object each one sets. */
struct cfg_timeout_kw {
	const char *name;
	size_t off;
};

/* `timeout KIND DURATION` against a section's table of kinds. */
int cfg_val_timeout(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n,
		    const struct cfg_timeout_kw *kinds);
/* One of a NULL-terminated list of words; returns its index, or -1 after
 * reporting "unknown WHAT 'x' [in IN]; expected one of: ...". */
int cfg_val_choice(struct cfg_parser *p, const struct cfg_tok *t, const char *what,
		   const char *in, const char *const *words);
int cfg_val_mode(struct cfg_parser *p, const struct cfg_tok *t, enum px_mode *out);

/* `errorfile STATUS PATH` in a frontend or backend (cfg_errorfile.c). */
int cfg_fe_errorfile(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_be_errorfile(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
void cfg_errorfiles_free(struct cfg_errorfile *v, int n);
/* The configuration file's directory, for relative file names ("" if none). */
void cfg_base_dir(const struct cfg_parser *p, char *out, size_t cap);
/* name joined to that directory unless it is absolute (or the
 * configuration has no file), malloc'd; NULL when out of memory.  For the
 * paths kept as written to open later (pidfile, access_log). */
char *cfg_path_join(const struct cfg_parser *p, const char *name);

/* Conditions' `in file(PATH)` lists (cfg_iplist.c): what cond_parse_with()
 * loads them with (once per file and configuration), and their end. */
struct cond_loader cfg_cond_loader(struct cfg_parser *p);
void cfg_iplists_free(struct cfg *c);

/* Backend `health` and `outlier` lines (cfg_health.c). */
int cfg_be_health(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_be_outlier(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
void cfg_health_free(struct cfg_health *h);
/* Once the servers are known: the protocol a check speaks (cfg_health.proto),
 * and `health grpc` on servers that do not speak HTTP/2 is an error. */
void cfg_health_check(struct cfg_parser *p, struct cfg_backend *be);

/* Frontend `access_log` and `request_id` lines (cfg_log.c). */
int cfg_fe_access_log(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_fe_request_id(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);

/* TLS options of bind and server lines, and loading their files at check
 * time (cfg_tls.c). */
int cfg_tls_bind_options(struct cfg_parser *p, struct cfg_addr *a, const struct cfg_node *n,
			 int first);
/* toks[i] of a server line: returns how many tokens the TLS option there
 * took (0: not a TLS option); *err is set after reporting a problem. */
int cfg_tls_server_option(struct cfg_parser *p, struct cfg_server *srv, const struct cfg_node *n,
			  int i, bool *err);
#define CFG_TLS_SERVER_OPTIONS "tls, verify, ca, sni, cert"
void cfg_tls_check(struct cfg_parser *p);

/* PROXY protocol and client addresses (cfg_proxy.c): `accept_proxy [from
 * CIDR...]` on a bind line (its tokens taken out: *rest is a copy of n
 * without them, toks malloc'd, for the other bind options; rc -1 after an
 * error), `send_proxy v1|v2` on a server, `trusted_proxies` in a frontend. */
int cfg_bind_accept_proxy(struct cfg_parser *p, struct cfg_addr *a, const struct cfg_node *n,
			  struct cfg_node *rest);
int cfg_srv_send_proxy(struct cfg_parser *p, struct cfg_server *srv, const struct cfg_tok *arg);
int cfg_fe_trusted_proxies(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);

/* Upper bounds of the h2_* frontend directives (cfg_frontend.c). */
#define CFG_H2_MAX_STREAMS_MAX 1000      /* h2_max_streams */
#define CFG_H2_MAX_RATE        1000000   /* h2_max_resets, h2_max_control (per 10 s) */

/* Rule directives (cfg_rules.c): http_request / http_response in frontends
 * and backends, tcp_request connection in frontends; and the checks that
 * need modes known (no http rules in tcp mode, no response fetch in
 * use_backend or hash balancing). */
int cfg_fe_http_request(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_fe_http_response(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_fe_tcp_request(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_be_http_request(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_be_http_response(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
void cfg_rules_check(struct cfg_parser *p);

/* `limit` sections (cfg_limit.c): duplicate names, `http_request limit
 * NAME` resolved (an unknown name is an error at NAME), the tables built
 * once the file has no error; and freeing them with the configuration. */
void cfg_limits_check(struct cfg_parser *p);

/* `use_KIND NAME [if|unless COND]` in frontends and backends (cfg_use.c,
 * shared by use_cache and use_waf).  cfg_is_cond_kw: t is `if` or
 * `unless`.  cfg_opt_cond: the `[if|unless COND]` from toks[i] on, NULL
 * when there is none, NULL with *err after reporting.  cfg_use_parse: the
 * line checked (first_line: the line of an earlier use_KIND in the same
 * section, 0 if none) into a malloc'd *name and *cond; -1 after reporting.
 * cfg_use_resolve: once modes are known, the index of the section NAME
 * among the n that name_at() names, or -1 after reporting a tcp-mode
 * `what` ("frontend 'web'") or an unknown NAME with the known ones. */
bool cfg_is_cond_kw(const struct cfg_tok *t);
struct cond *cfg_opt_cond(struct cfg_parser *p, const struct cfg_node *n, int i, bool *err);
int cfg_use_parse(struct cfg_parser *p, const struct cfg_node *n, const char *kind,
		  const char *what, int first_line, char **name, struct cond **cond);
int cfg_use_resolve(struct cfg_parser *p, const char *kind, const char *name, int line, int col,
		    enum px_mode mode, const char *what, int n,
		    const char *(*name_at)(const struct cfg *c, int i));

/* `waf` sections and `use_waf`, `waf_threads`, `waf_queue` (cfg_waf.c):
 * names resolved, body_limit against the buffer, the rules loaded once the
 * file has no error; freeing them with the configuration. */
int cfg_fe_use_waf(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_be_use_waf(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_gl_waf_threads(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_gl_waf_queue(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
void cfg_wafs_check(struct cfg_parser *p);
void cfg_use_waf_free(struct cfg_use_waf *u);
void cfg_wafs_free(struct cfg *c);

/* `cache` sections and `use_cache` (cfg_cache.c): resolved, sized and
 * their stores built at the end of the checks. */
int cfg_fe_use_cache(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_be_use_cache(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
void cfg_caches_check(struct cfg_parser *p);
void cfg_use_cache_free(struct cfg_use_cache *u);
void cfg_caches_free(struct cfg *c);
void cfg_limits_free(struct cfg *c);
/* `compress` in frontends and backends (cfg_compress.c): parsed per line,
 * HTTP mode checked once modes are known, freed with its section. */
int cfg_fe_compress(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_be_compress(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
void cfg_compress_check(struct cfg_parser *p);
void cfg_compress_free(struct cfg_compress *c);
void cfg_tls_bind_free(struct cfg_tls_bind *tb);
void cfg_tls_server_free(struct cfg_tls_server *ts);

/* Deployment directives (cfg_deploy.c): unix@ addresses, bind socket
 * options, tcp_keepalive, source, user/group/chroot. */
const char *cfg_unix_addr_parse(const char *path, struct sockaddr_storage *ss, socklen_t *len);
/* Takes the socket options (backlog, defer_accept, fastopen, mode, user,
 * group) out of bind line n into a->sock; *rest gets the line without them
 * (toks malloc'd, the caller frees rest->toks) for the TLS options. */
int cfg_bind_sock_options(struct cfg_parser *p, struct cfg_addr *a, const struct cfg_node *n,
			  struct cfg_node *rest);
int cfg_srv_source(struct cfg_parser *p, struct cfg_server *srv, const struct cfg_tok *a);
int cfg_fe_tcp_keepalive(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_be_tcp_keepalive(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_be_source(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_gl_user(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_gl_group(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
int cfg_gl_chroot(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
/* Whole-file checks: options against the address kind, sources against
 * servers, unix@ binds named twice; gives servers their backend's source
 * and keepalive. */
void cfg_deploy_check(struct cfg_parser *p);
void cfg_deploy_global_free(struct cfg_global *g);
int cfg_gl_pidfile(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);   /* cfg_control.c */

/* `admin ADDR [token_file PATH]` in global (cfg_admin.c), and its end. */
int cfg_gl_admin(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
void cfg_admin_free(struct cfg_admin *a);
/* Once the frontends are known: the admin address is none of their binds. */
void cfg_admin_check(struct cfg_parser *p);

#endif
