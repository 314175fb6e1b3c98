/*
 * cfg.h - the configuration: what the file says, validated at load.
 *
 * The file is read once (and again on reload, later) into these structures;
 * nothing is parsed per request.  Workers only read them.  Everything here is
 * owned by the struct cfg and freed with it (cfg_put() / cfg_free()).
 *
 * Only what the file says (and what is built from it at load: TLS contexts,
 * filter chains, access-log targets) lives here.  What the process learns at
 * run time about backends and servers - health, ejections, EWMA, requests in
 * flight, the live weight, the retry budget - lives in the registry
 * (lb/registry.h), keyed by backend and server name, so that a newer
 * generation of the configuration finds it again by name.
 *
 * Generations: a loaded struct cfg is one generation, reference counted.
 * Whoever keeps using one (main, each stream from accept to end) holds a
 * reference; the last cfg_put() frees it, so a reload can swap in a new
 * generation while streams finish under the one they started with.
 *
 * Language (fixed shape; later issues only add directives):
 *   one directive per line; blocks with { }; # comments; "double quoted"
 *   strings; durations 250ms 30s 5m 1h 1d (a bare number is an error: HAProxy
 *   reads it as ms and nginx as s, so we make the operator say which);
 *   sizes 16k 1m 1g (bare number = bytes).
 * Errors name FILE:LINE:COL and what was expected.
 */
#ifndef GH_CONFIG_CFG_H
#define GH_CONFIG_CFG_H

#include <stdint.h>
#include <stdbool.h>
#include <sys/socket.h>

struct cond;   /* filter/cond.h */
struct tls_bind_rt;     /* net/tls_internal.h */
struct tls_server_rt;   /* net/tls_internal.h */
struct fetch;  /* filter/cond.h */
struct filter_chain;    /* proxy/filter.h: built from the config by filters_init() */
struct cidr;            /* net/cidr.h */
struct mx_ent;          /* admin/metrics.c: a name's counters, set when the filter
			   chains are built (filters_init); they outlive generations */

/* `errorfile STATUS PATH`: the body served (as text/html) for that status,
 * for generated errors and for a rule's deny without a body.  The file is
 * read at load, so `gatehouse -t` reports a missing one. */
struct cfg_errorfile {
	uint16_t status;
	char *body;              /* the file's bytes, owned */
	uint32_t len;
};

/* The errorfile of status in [v, v + n), or NULL. */
const struct cfg_errorfile *cfg_errorfile_find(const struct cfg_errorfile *v, int n, int status);

#include "filter/rules.h"   /* struct rule_list */

enum px_mode { MODE_HTTP = 0, MODE_TCP = 1 };

enum lb_algo {
	LB_ROUNDROBIN = 0,
	LB_LEASTCONN,
	LB_RANDOM,
	LB_EWMA,
	LB_HASH,
};

/* ---- TLS (src/config/cfg_tls.c parses, src/net/tls_load.c loads) -----
 * Files are loaded once at load time (so `gatehouse -t` catches a missing
 * or mismatched one); the OpenSSL contexts built from them hang off `rt`
 * and are shared read-only by every worker thread. */
enum tls_verify { TLS_VERIFY_NONE = 0, TLS_VERIFY_OPTIONAL, TLS_VERIFY_REQUIRED };

struct cfg_tls_cert {
	char *cert;              /* PEM: certificate, its chain, and the key unless `key` */
	char *key;               /* NULL: the key is in `cert` */
	char *ocsp;              /* DER OCSP response to staple; NULL: none */
	int line, col;           /* of the file name, for messages */
	int key_line, key_col, ocsp_line, ocsp_col;
};

struct cfg_tls_bind {
	struct cfg_tls_cert *certs;      /* `cert` lines; the first is the default */
	int ncerts;
	char *certs_dir;                 /* `certs DIR`: every *.pem / *.crt in it */
	int dir_line, dir_col;
	int min_version, max_version;    /* TLS1_2_VERSION / TLS1_3_VERSION (0x0303/0x0304) */
	char *ciphers;                   /* TLS 1.2 list; NULL = built-in ECDHE AEAD list */
	char *ciphersuites;              /* TLS 1.3 list; NULL = OpenSSL's default */
	char *alpn;                      /* comma-separated; NULL until cfg_tls_check() sets the
					    default: by the bind's proto in http mode ("h2,http/1.1",
					    "http/1.1", "h2"), "" (none) in tcp mode */
	int alpn_line, alpn_col;         /* of the `alpn` value, 0 if not written */
	enum tls_verify verify;          /* client certificates */
	char *ca;                        /* CA file for client certificates */
	int ca_line, ca_col;
	bool enabled;                    /* `tls` was written (other options need it) */
	int line, col;                   /* of the `tls` word, else of the first option */
	uint32_t ocsp_check_ms;          /* global tune.ocsp_check, copied at load */
	struct tls_bind_rt *rt;          /* built by tls_bind_load(), owned */
};

struct cfg_tls_server {
	enum tls_verify verify;          /* REQUIRED or NONE (`optional` makes no sense here) */
	bool verify_set;                 /* `verify` was written: `tls` alone is an error */
	char *ca;                        /* NULL with verify required: the system store */
	char *sni;                       /* server name sent and checked against the cert */
	char *cert;                      /* our client certificate + key (PEM), or NULL */
	int cert_line, cert_col;
	bool enabled;                    /* `tls` was written (other options need it) */
	int line, col;                   /* of the `tls` word */
	int opt_line, opt_col;           /* of the first TLS option, for "needs tls" */
	int ca_line, ca_col;
	char label[96];                  /* "backend/server", for log lines */
	bool h2;                         /* `proto h2`: ALPN h2 instead of http/1.1 */
	struct tls_server_rt *rt;        /* built by tls_server_load(), owned */
};

/* ---- deployment: sockets and privileges (src/config/cfg_deploy.c) ----- */

/* `tcp_keepalive [idle D] [interval D] [count N]` (frontend: client
 * sockets; backend: server sockets).  0 leaves the kernel's default. */
struct cfg_keepalive {
	bool on;
	int idle_s, interval_s, count;
};

/* Options of a bind beyond TLS: `backlog N`, `defer_accept`, `fastopen
 * [N]` (TCP); `mode 660`, `user U`, `group G` (unix@ binds). */
struct cfg_bind_sock {
	int backlog;             /* 0: the default (4096) */
	bool defer_accept;
	int fastopen;            /* TCP_FASTOPEN queue length, 0 = off */
	int mode;                /* unix@: chmod after bind, -1 = as umask leaves it */
	int uid, gid;            /* unix@: chown after bind, -1 = unchanged */
	int line, col;           /* of the first of these options, for messages */
	int unix_line, unix_col; /* of the first unix@-only option (mode/user/group) */
	int tcp_line, tcp_col;   /* of the first TCP-only option (defer_accept/fastopen) */
};

/* `source ADDR|client` of a backend or server: the local address of
 * server connections (bind before connect, IP_BIND_ADDRESS_NO_PORT), or
 * the client's own (IP_TRANSPARENT). */
enum cfg_source_kind { SOURCE_NONE = 0, SOURCE_ADDR, SOURCE_CLIENT };

struct cfg_source {
	enum cfg_source_kind kind;
	struct sockaddr_storage ss;   /* SOURCE_ADDR, port 0 */
	socklen_t len;
	int line, col;
};

/* `bind ... accept_proxy [from CIDR...]` (cfg_proxy.c): connections start
 * with a PROXY protocol header (proxy/session_pp.c).  With `from`, only
 * peers in those ranges must (and may) send one. */
struct cfg_accept_proxy {
	struct cidr *from;
	int nfrom;               /* 0: every peer */
};

/* `bind ... proto auto|h1|h2` (`h2c` is h2): which HTTP versions a bind
 * speaks.  auto (default): a plain bind tells HTTP/2 with prior knowledge
 * from HTTP/1.1 by the connection preface; a TLS bind goes by ALPN (default
 * list "h2,http/1.1"; h1: "http/1.1"; h2: "h2"). */
enum cfg_bind_proto { BIND_PROTO_AUTO = 0, BIND_PROTO_H1, BIND_PROTO_H2 };

struct cfg_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char *text;              /* as written, for logs: "127.0.0.1:9001" */
	int line, col;           /* where it was written */
	struct cfg_tls_bind *tls; /* binds only: TLS termination, NULL for plain TCP */
	struct cfg_bind_sock *sock; /* binds only: socket options, NULL = defaults */
	struct cfg_accept_proxy *accept_proxy;   /* binds only: NULL = no PROXY header */
	uint8_t proto;           /* binds only: enum cfg_bind_proto */
	int proto_line, proto_col;   /* binds only: where `proto` was written, 0 = not */
};

/* What a server speaks (`server ... proto h2`; over TLS, ALPN h2). */
enum cfg_srv_proto { SRV_PROTO_H1 = 0, SRV_PROTO_H2 };

struct cfg_server {
	char *name;
	struct cfg_addr addr;
	int weight;              /* default 1, 0..256 */
	int maxconn;             /* 0 = unlimited */
	int max_idle;            /* idle pooled connections per worker; -1 = no cap */
	bool backup;
	bool disabled;
	bool drain;
	uint32_t slowstart_ms;   /* 0 = off */
	int line;                /* where it was declared */
	struct cfg_backend *backend;
	int index;               /* position in backend->servers */
	struct cfg_tls_server *tls;     /* `tls ...` options: re-encrypt to this server */
	struct cfg_source source;       /* its own `source`, else the backend's (cfg_check) */
	struct cfg_keepalive keepalive; /* the backend's tcp_keepalive */
	uint8_t send_proxy;      /* `send_proxy v1|v2`: PROXY header version, 0 = none */
	uint8_t proto;           /* `proto h1|h2`: enum cfg_srv_proto */
	struct mx_ent *mx;       /* runtime: its counters (admin/metrics.h), or NULL */
};

/* Active health checks of a backend's servers: `health tcp|http|grpc ...`
 * (src/health/).  kind HEALTH_NONE: no checks, servers stay UP. */
enum health_kind { HEALTH_NONE = 0, HEALTH_TCP, HEALTH_HTTP, HEALTH_GRPC };

/* Longest `health grpc service NAME`: its varint length stays two bytes. */
#define CFG_GRPC_SERVICE_MAX 1024

struct cfg_health {
	enum health_kind kind;
	char *method;                    /* http: default "GET" */
	char *path;                      /* http: e.g. "/healthz" */
	char *host;                      /* http, grpc: Host / :authority; NULL = the server's
					    address */
	char *service;                   /* grpc: HealthCheckRequest.service; NULL = "" (the
					    server as a whole) */
	uint16_t expect_lo, expect_hi;   /* http: passing statuses, default 200-399 */
	uint32_t interval_ms;            /* default 2s */
	uint32_t timeout_ms;             /* default 1s, or the interval if shorter */
	int rise, fall;                  /* default 2 and 3 consecutive checks */
	/* http, grpc: the protocol the check speaks (enum cfg_srv_proto).
	 * `proto h1|h2` on the health line, else, once cfg_check has seen
	 * the servers, theirs (grpc: always h2) */
	uint8_t proto;
	int proto_line, proto_col;       /* of the `proto` value, 0 = not written */
	int line, col;                   /* of the `health` line and of its kind word */
};

/* Passive checks (`outlier ...`): errors seen by live traffic eject a
 * server for a while (src/health/outlier.c). */
struct cfg_outlier {
	bool enabled;
	int consecutive_errors;          /* default 5 */
	uint32_t eject_ms;               /* first ejection, default 30s; doubles on repeat */
	uint32_t max_eject_ms;           /* backoff cap, default 10 x eject up to 300s */
	int max_ejected_pct;             /* of the backend's servers, default 50 */
	int line;
};

struct cfg_backend {
	char *name;
	enum px_mode mode;
	enum lb_algo balance;
	struct fetch *hash_fetch;        /* balance hash(<fetch>) */
	int random_choices;              /* balance random(N), default 2 */
	int hash_balance_factor;         /* balance hash: bounded load in % of the mean, default 125 */
	struct cfg_server **servers;
	int nservers;
	uint32_t timeout_connect_ms;     /* default 5s */
	uint32_t timeout_server_ms;      /* default 30s */
	uint32_t timeout_tunnel_ms;      /* default 1h */
	uint32_t timeout_stream_idle_ms; /* once the response head went to the client: the
					    server's silence allowed (long-lived gRPC or
					    event streams); 0 = timeout server */
	uint32_t timeout_queue_ms;       /* default 5s */
	int retries;                     /* default 2 */
	int retry_budget_pct;            /* retries at most this % of requests; default 20, 0 = off */
	char *sticky_cookie;             /* sticky cookie NAME: affinity cookie, NULL = off */
	struct fetch *sticky_fetch;      /* cookie(NAME), to read it back */
	struct cfg_health health;        /* `health`: active checks */
	struct cfg_outlier outlier;      /* `outlier`: passive checks */
	struct cfg_errorfile *errorfiles;
	int nerrorfiles;
	struct filter_chain *filters;    /* runtime: built by filters_init() */
	struct rule_list http_req;       /* http_request rules, after the frontend's */
	struct rule_list http_res;       /* http_response rules, after the frontend's */
	struct cfg_source source;        /* `source`: default of its servers */
	struct cfg_keepalive keepalive;  /* `tcp_keepalive`: server sockets */
	struct cfg_use_waf *use_waf;     /* `use_waf`: NULL = none */
	struct cfg_compress *compress;   /* `compress`: NULL = none (replaces the frontend's) */
	struct cfg_use_cache *use_cache; /* `use_cache`: NULL = none */
	struct mx_ent *mx;               /* runtime: its counters (admin/metrics.h), or NULL */
	int line;
	int index;                       /* position in cfg->backends */
};

struct cfg_use_backend {
	struct cond *cond;               /* never NULL */
	char *backend_name;
	struct cfg_backend *backend;     /* resolved after parsing */
	int line;
	int col;                         /* of the backend name */
};

/* Default limit of a request head: HAProxy's and nginx's order of size.  The
 * buffer (tune.bufsize, 32k) is larger so that a whole medium response
 * moves in one read and one write; a bigger head is for max_header_size. */
#define CFG_DEF_MAX_HEADER (15 * 1024)

/* Which forwarding headers a frontend adds (all on by default except
 * `forwarded`, the RFC 7239 header, which is opt-in as in HAProxy). */
#define FWD_XFF    0x01
#define FWD_XFP    0x02
#define FWD_XFH    0x04
#define FWD_RFC7239 0x08

/* Access log line format (`access_log ... format combined|json`,
 * src/config/cfg_log.c parses, src/log/access_log.h describes both). */
enum access_log_format { ACCESS_LOG_COMBINED = 0, ACCESS_LOG_JSON = 1 };

struct access_log;   /* log/access_log.h */

/* The defaults of struct cfg_h2 (max_header_list: the frontend's
 * max_header_size). */
#define CFG_H2_DEF_MAX_STREAMS  100
#define CFG_H2_DEF_HEADER_TABLE 4096
#define CFG_H2_DEF_MAX_RESETS   100
#define CFG_H2_DEF_MAX_CONTROL  1000

/* HTTP/2 to clients: a frontend's limits (cfg_frontend.c `h2_*`,
 * proxy/h2_client.c).  Every one has a safe default, set by cfg_check. */
struct cfg_h2 {
	uint32_t max_streams;        /* h2_max_streams N: concurrent streams per connection
					(SETTINGS_MAX_CONCURRENT_STREAMS), default 100 */
	uint32_t max_header_list;    /* h2_max_header_list SIZE: decoded header block
					bound, default the frontend's max_header_size */
	uint32_t header_table;       /* h2_header_table SIZE: HPACK dynamic table we
					allow the client, default 4096 */
	uint32_t max_resets;         /* h2_max_resets N: streams the client may reset
					per 10 s (rapid reset), default 100 */
	uint32_t max_control;        /* h2_max_control N: frames that move no stream
					(SETTINGS, PING, PRIORITY, WINDOW_UPDATE, empty
					DATA, CONTINUATION) per 10 s, default 1000 */
};

struct cfg_frontend {
	char *name;
	enum px_mode mode;
	struct cfg_addr *binds;
	int nbinds;
	uint32_t timeout_header_ms;      /* default 10s */
	uint32_t timeout_client_ms;      /* default 60s (idle keep-alive and I/O) */
	uint32_t timeout_tunnel_ms;      /* default 0 = use the backend's (1h) */
	/* Slow uploads (proxy/stream.c, "the request body's clock"): the time
	 * a request body may take, and the average rate it must keep after a
	 * grace period, both counted only while the proxy waits on the client
	 * (not while the server or a full buffer holds it back). */
	uint32_t timeout_body_ms;        /* `timeout body`, default 0 = off */
	uint64_t min_body_rate;          /* `min_body_rate RATE`: bytes/s, default 0 = off */
	uint32_t min_body_grace_ms;      /* its `grace DURATION`, default 5s */
	uint64_t max_body_size;          /* default 0 = unlimited */
	uint32_t max_header_size;        /* whole head, default CFG_DEF_MAX_HEADER or the room
					    the buffer leaves (bufsize - maxrewrite) */
	uint32_t max_target_size;        /* default 8k */
	unsigned forward_headers;        /* FWD_* */
	struct cfg_use_backend *rules;
	int nrules;
	char *default_backend_name;
	struct cfg_backend *default_backend;  /* resolved; may be NULL -> 503 */
	struct cfg_errorfile *errorfiles;
	int nerrorfiles;
	struct filter_chain *filters;    /* runtime: built by filters_init() */
	struct rule_list tcp_conn;       /* tcp_request connection rules: on accept */
	struct rule_list http_req;       /* http_request rules: before the backend's */
	struct rule_list http_res;       /* http_response rules: before the backend's */
	int line;
	/* `access_log stdout|stderr|PATH [format combined|json]` (cfg_log.c) */
	char *access_log_path;           /* "stdout", "stderr" or a file (a relative name is
					    joined to the config file's directory); NULL = off */
	enum access_log_format access_log_format;   /* default combined */
	struct access_log *access_log;   /* runtime: set by access_logs_open(), not owned */
	/* `request_id header NAME`: the header carrying the request id */
	char *request_id_header;         /* NULL = no request ids */
	struct cfg_keepalive keepalive;  /* `tcp_keepalive`: client sockets (cfg_deploy.c) */
	/* `trusted_proxies CIDR...` (cfg_proxy.c, filter/flt_realip.c) */
	struct cidr *trusted;
	int ntrusted;
	struct cfg_h2 h2;                /* HTTP/2 limits (h2_* directives) */
	struct cfg_use_waf *use_waf;     /* `use_waf`: NULL = none */
	struct cfg_compress *compress;   /* `compress`: NULL = none */
	struct cfg_use_cache *use_cache; /* `use_cache`: NULL = none */
	struct mx_ent *mx;               /* runtime: its counters (admin/metrics.h), or NULL */
};

/* `compress gzip|br|zstd... [types MIME...] [min_size SIZE] [level ALGO:N...]`
 * in a frontend or backend (cfg_compress.c, compress/flt_compress.c):
 * responses compressed on the fly for clients that accept it.  A
 * backend's line replaces its frontend's for the requests routed to it. */
#define CFG_COMPRESS_ALGOS 3             /* enum cz_algo (compress/compress.h) */
struct cfg_compress {
	uint8_t algos[CFG_COMPRESS_ALGOS];  /* in the order given: ties of q-values */
	int nalgos;
	char **types;                    /* lowercase "type/subtype", "type/" + star, or star; NULL = the
					    default list (compress/compress.h) */
	int ntypes;
	uint64_t min_size;               /* a known length below it is sent as is; default 1k */
	int level[CFG_COMPRESS_ALGOS];   /* per algorithm, 0 = its default */
	int line;
};

/* `limit NAME { key FETCH  rate N/s|N/m  [burst N]  [entries N] }`
 * (cfg_limit.c): a rate limit that `http_request limit NAME` rules apply.
 * The counters (limit/limit.h) are built at load and owned with the
 * configuration; a reload will move them to the registry (see
 * docs/architecture.md, "Where runtime state lives"). */
struct limit_table;      /* limit/limit.h */

struct cfg_limit {
	char *name;
	struct fetch *key;               /* what requests are counted by */
	uint64_t rate;                   /* requests per `per_s` seconds */
	uint32_t per_s;                  /* 1 (N/s) or 60 (N/m) */
	uint64_t burst;                  /* default: the rate per second, at least 1 */
	uint64_t delay;                  /* of the burst, how many pass at once; 0: all */
	uint64_t concurrent;             /* in flight per key at most; 0: not counted */
	uint64_t entries;                /* keys held at most, default 100k */
	int line, col;                   /* of the name */
	struct limit_table *table;       /* runtime: built at load, owned */
};

/* `waf NAME { ... }` (cfg_waf.c): a ModSecurity rule set (the OWASP CRS)
 * and how requests meet it; `use_waf NAME [if|unless COND]` in a frontend
 * or a backend applies it (waf/flt_waf.c).  The rules are loaded once per
 * configuration, at load, shared read-only by every thread (waf/waf.h). */
struct waf_rt;           /* waf/waf.h */

struct cfg_waf_file {
	char *path;                      /* as written, joined to the config's directory */
	int line, col;
};

/* `exclude ID[-ID]... [if|unless COND]`: rules that do not apply; with no
 * condition they are removed at load, else for the requests where COND
 * holds (waf/waf.c says how). */
struct cfg_waf_exclude {
	char **ids;                      /* "942100" or "942100-942199" */
	int nids;
	struct cond *cond;               /* NULL: always */
	int line, col;
};

#define CFG_WAF_MAX_EXCLUDES 32      /* conditional ones: a bit per request */

struct cfg_waf {
	char *name;
	struct cfg_waf_file *rules;      /* `rules PATH`, in order */
	int nrules;
	int paranoia;                    /* 1..4, default 1 */
	bool detect;                     /* `mode detect`: log, never block */
	uint64_t body_limit;             /* request bodies inspected up to this; default 16k */
	bool body_over_pass;             /* `body_over_limit pass` (default reject: 413) */
	uint16_t status;                 /* of a blocked request, default 403 */
	struct cfg_waf_exclude *excludes;
	int nexcludes;
	bool prefilter;                  /* `prefilter on|off`, default on */
	bool defaults;                   /* `defaults on|off`: gatehouse's default CRS
					    exclusions (waf/crs_defaults.c), default on */
	bool inspect_response;           /* `inspect_response on`: responses too (phases 3-4) */
	uint64_t response_body_limit;    /* response bodies held and inspected up to this */
	char *response_types;            /* `response_types`: the media types whose bodies are
					    inspected, space-separated, lowercase */
	bool strict;                     /* `strict on|off`: ambiguous encodings are a 400
					    (waf/strict.h), default on */
	bool strict_slash;               /* `strict_encoded_slash allow|reject`: %2f in a
					    path's segments admitted, default allow */
	char *allow_methods;             /* `allow_methods`: added to tx.allowed_methods,
					    space-separated; NULL: none */
	char *allow_types;               /* `allow_types`: added to
					    tx.allowed_request_content_type and their bodies
					    read whole as one string; lowercase,
					    space-separated; NULL: none */
	char *allow_types_raw;           /* `allow_types ... raw`: added to the list only,
					    their bodies read as an octet-stream's */
	int line, col;                   /* of the name */
	struct waf_rt *rt;               /* runtime: built at load (waf_load), owned */
};

/* `use_waf NAME [if|unless COND]` of a frontend or backend. */
struct cfg_use_waf {
	char *name;
	struct cfg_waf *waf;             /* resolved after parsing */
	struct cond *cond;               /* NULL: every request */
	int line, col;                   /* of the name */
};

/* `cache NAME { size SIZE  max_object SIZE ... }` (cfg_cache.c): an
 * RFC 9111 shared cache; `use_cache NAME [if|unless COND]` in a frontend
 * or a backend applies it (cache/flt_cache.c).  Its store (cache/store.h)
 * is built at load and owned with the configuration. */
struct cache_store;      /* cache/store.h */

struct cfg_cache {
	char *name;
	uint64_t size;                   /* memory for objects, headers included */
	uint64_t max_object;             /* larger bodies stream through uncached */
	int heuristic_pct;               /* `heuristic N%`: 0 = only explicit freshness */
	uint32_t heuristic_max_s;        /* cap of a heuristic lifetime, default 1 day */
	bool status_header;              /* Cache-Status (RFC 9211), default on */
	struct cidr *purge_from;         /* `purge_from CIDR...`: who may PURGE */
	int npurge_from;
	int line, col;
	struct cache_store *store;       /* runtime: built at load, owned */
};

struct cfg_use_cache {
	char *name;
	struct cfg_cache *cache;         /* resolved after parsing */
	struct cond *cond;               /* NULL: every request */
	int line, col;
};

/* `admin ADDR [token_file PATH]` in global (cfg_admin.c): the admin
 * listener (admin/admin.c: /metrics, /api/, the dashboard).  The token is
 * read from its file at load, so `gatehouse -t` reports a bad one. */
struct cfg_admin {
	struct cfg_addr addr;            /* loopback unless the address says otherwise */
	char *token_file;                /* as resolved (joined to the config's directory) */
	char *token;                     /* the file's token, trimmed; NULL: no token */
	size_t token_len;
	int line, col;
};

struct cfg_global {
	int workers;                     /* 0 = auto (one per CPU) */
	int max_connections;             /* per process, default 100000 */
	uint32_t bufsize;                /* tune.bufsize, default 32768 */
	uint32_t maxrewrite;             /* tune.maxrewrite, default 1024 */
	uint32_t timeout_drain_ms;       /* default 10s */
	uint32_t ocsp_check_ms;          /* tune.ocsp_check: OCSP files re-read when changed, default 60s */
	bool io_uring;                   /* tune.io_uring: batched sends (net/uring.c), default off */
	int log_level;                   /* 0 err, 1 warn, 2 info (default), 3 debug */
	/* `user` / `group` / `chroot` (cfg_deploy.c; main drops to them once
	 * every listener is bound, core/privs.c) */
	char *user, *group, *chroot;     /* as written; NULL = not set */
	int uid, gid;                    /* resolved at load; -1 = not set */
	int waf_threads;                 /* offload pool size (proxy/offload.h), default 2 */
	int waf_queue;                   /* jobs waiting at most, default 256 */
	struct cfg_admin *admin;         /* `admin`: NULL = no admin listener */
	char *pidfile;                   /* `pidfile PATH` (cfg_control.c): written once the
					    process serves, for `gatehouse -s`; NULL = none */
};

struct iplist;            /* net/iplist.h */
struct cfg_iplist {
	char *path;              /* the file's real path: one list per file */
	struct iplist *list;
};

struct cfg {
	char *file;
	struct cfg_global global;
	struct cfg_frontend **frontends;
	int nfrontends;
	struct cfg_backend **backends;
	int nbackends;
	struct cfg_limit **limits;       /* `limit` sections, in file order */
	int nlimits;
	/* The IP list files conditions name (`src in file(PATH)`), each read
	 * once per load (cfg_iplist.c); the conditions point into them. */
	struct cfg_iplist *iplists;
	int niplists;
	struct cfg_waf **wafs;           /* `waf` sections, in file order */
	int nwafs;
	struct cfg_cache **caches;       /* `cache` sections, in file order */
	int ncaches;
	char *warnings;   /* NULL, or newline-separated "FILE:LINE:COL: warning: ..."
			     lines of a successful load, for the caller to log */
	_Atomic int refs; /* references to this generation: 1 from cfg_load(),
			     cfg_get() / cfg_put() */
	unsigned generation;   /* 1 for the configuration started with, then one more
				  per reload applied (control/reload.c); 0 = not running */
};

/*
 * Loads and validates a configuration file.  On success returns a config
 * and leaves *errs NULL (warnings, if any, are in cfg->warnings).  On
 * failure returns NULL and sets *errs to a malloc'd, newline-separated list
 * of "FILE:LINE:COL: error: ..." lines, warnings included, in file order
 * (the caller frees it).  Parsing continues after an error where it can,
 * so one run reports several mistakes.
 */
struct cfg *cfg_load(const char *path, char **errs);

/* Same, from a string (tests, fuzzing); `name` is used in messages. */
struct cfg *cfg_load_string(const char *name, const char *text, size_t len, char **errs);

/* Frees c whatever its reference count: for the load and check paths,
 * where nobody else can hold it.  NULL is a no-op. */
void cfg_free(struct cfg *c);

/* Takes one more reference to generation c (any thread, lock-free) and
 * returns c.  The caller must already hold one, directly or through whoever
 * handed it c, so the count never climbs back from zero. */
struct cfg *cfg_get(struct cfg *c);

/* Drops one reference; the last one frees c (cfg_free()).  Any thread;
 * NULL is a no-op. */
void cfg_put(struct cfg *c);

/* How many workers to start: `workers N`, or for `workers auto` the CPUs
 * this process may run on (its affinity mask, so a container's cpuset
 * counts, not the host's), at most CFG_MAX_WORKERS. */
#define CFG_MAX_WORKERS 64
int cfg_workers_effective(const struct cfg *c);

struct cfg_backend *cfg_find_backend(const struct cfg *c, const char *name);
struct cfg_limit *cfg_find_limit(const struct cfg *c, const char *name);

/* Value parsers shared with other modules.  Return 0 on success, -1 on error. */
int cfg_parse_duration_ms(const char *s, uint32_t *out);  /* "250ms" "30s" "5m" "1h" "1d" */
int cfg_parse_size(const char *s, uint64_t *out);          /* "512" "16k" "1m" "1g" */
int cfg_parse_addr(const char *s, struct cfg_addr *out);   /* "127.0.0.1:80" "[::1]:80" "*:80" ":80" */

/* Every keyword the parser accepts, as (context, keyword) in table order:
 * context is a section name (global, frontend, ...) for the rows of its
 * keyword table, or `server` / `bind` for the options of those lines.
 * `gatehouse --keywords` prints them; tests/e2e/test_config_reference.py
 * checks docs/configuration.md against them, both ways. */
void cfg_keywords_each(void (*fn)(void *arg, const char *context, const char *keyword),
		       void *arg);

#endif
