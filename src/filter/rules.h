/*
 * rules.h - http_request / http_response / tcp_request rules: ordered
 * lists of "action [if|unless COND]" that deny, redirect, answer locally or
 * rewrite a message.
 *
 * Where they sit on a request's path:
 *   accept -> tcp_request connection rules (frontend; before any parsing,
 *             tcp mode too) -> parse the request head -> http_request rules
 *             (the frontend's, then the chosen backend's) -> forward ->
 *             parse the response head -> http_response rules (frontend's,
 *             then backend's) -> send it on.
 * The config parser (src/config/cfg_rules.c) builds the lists at load;
 * the pipeline calls rules_run() on each list with a struct rule_exec.
 * The runner only sees struct http_msg and struct cond_ctx, never wire
 * bytes, so HTTP/2 streams can take the same path later.
 *
 *   http_request deny [status 403] [body "text"]
 *   http_request allow
 *   http_request redirect location FMT | scheme https | prefix FMT [code 302]
 *   http_request return [status 200] [content_type "type"] [body "text"]
 *   http_request set_header NAME FMT | add_header NAME FMT | del_header NAME
 *   http_request set_path FMT | set_query FMT
 *   http_request limit NAME       (a `limit` section, cfg_limit.c: over its rate,
 *                                  429 + Retry-After; over its concurrency, 429;
 *                                  with `delay`, the request may wait its turn)
 *   http_request tarpit DURATION [status 500]
 *                                 (holds the request DURATION without a worker
 *                                  sleeping, then answers status (HAProxy's 500
 *                                  by default) and closes the connection)
 *   http_response deny | allow | return | set_header | add_header | del_header
 *   tcp_request connection reject | accept
 *   tcp_request connection limit NAME
 *                                 (over the limit the connection is closed
 *                                  unanswered; a concurrent limit counts the
 *                                  connection for its whole life, a rate the
 *                                  connection attempts; the key must be a
 *                                  connection fetch: src, peer, proxy_authority)
 * each optionally followed by `if COND` or `unless COND` (cond.h).  FMT is
 * a format (fmt.h): "%[src]", "/v2%[path]".
 */
#ifndef GH_FILTER_RULES_H
#define GH_FILTER_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filter/cond.h"
#include "filter/fmt.h"
#include "limit/limit.h"

enum rule_phase { RULE_TCP_CONN = 0, RULE_HTTP_REQ, RULE_HTTP_RES };

enum rule_action {
	RA_ALLOW = 0,        /* stop this list; the next list (backend's) still runs */
	RA_DENY,             /* answer status (403) [body] */
	RA_RETURN,           /* answer status (200) [content_type] [body] */
	RA_REDIRECT_LOCATION,/* answer code (302) with Location: FMT */
	RA_REDIRECT_SCHEME,  /* ... Location: SCHEME://host path[?query] */
	RA_REDIRECT_PREFIX,  /* ... Location: PREFIX path[?query] */
	RA_SET_HEADER,       /* delete every NAME field, add one */
	RA_ADD_HEADER,       /* append a NAME field */
	RA_DEL_HEADER,       /* delete every NAME field */
	RA_SET_PATH,         /* msg->path = FMT */
	RA_SET_QUERY,        /* msg->query = FMT (empty: no query at all) */
	RA_REJECT,           /* tcp_request: close the connection, no answer */
	RA_LIMIT,            /* count the request in a limit; over it, answer 429 */
	RA_TARPIT,           /* hold the request, then answer status (500) and close */
};

struct cfg_limit;        /* config/cfg.h */

/* One rule, built by the config parser and read-only afterwards (shared by
 * every worker thread).  Everything it points to is owned by it and freed
 * by rule_free(). */
struct rule {
	enum rule_action act;
	enum rule_phase phase;
	struct cond *cond;        /* NULL: always (unless already folded in) */
	int line, col;            /* of the action word, for logs and errors */
	uint16_t status;          /* deny/return status, redirect code */
	struct slice name;        /* header name (set/add/del_header), NUL-terminated;
				     messages point at it (the configuration outlives
				     the streams that hold it) */
	uint8_t hdr_id;           /* msg_hdr_id(name), resolved at load */
	struct fmt *value;        /* header value, path, query, location, prefix */
	struct slice scheme;      /* redirect scheme, NUL-terminated */
	struct slice content_type;/* return: len 0 when none */
	struct slice body;        /* deny/return: p NULL when none was written */
	char *limit_name;         /* limit: as written, owned */
	int limit_line, limit_col;/* limit: where the name was written */
	const struct cfg_limit *limit;   /* limit: resolved after parsing (cfg_limit.c) */
	uint32_t tarpit_ms;       /* tarpit: how long the request is held */
	uint64_t hits;            /* tarpit: requests tarpitted (relaxed atomic adds;
				     rule_hits()), runtime state owned with the rule */
};

/* A rule list of a frontend or backend (cfg.h): tcp_conn (frontend only),
 * http_req, http_res.  The all-zero value is an empty list. */
struct rule_list {
	struct rule *v;
	int n;
};

enum rule_verdict {
	RULE_CONTINUE = 0,   /* every rule ran (or none matched): go on */
	RULE_ALLOW,          /* an allow/accept fired: skip the rest of this list */
	RULE_RESPOND,        /* answer locally with x->status, location, body ... */
	RULE_REJECT,         /* tcp_request reject: close, no answer */
	RULE_ERROR,          /* a rewrite did not fit (x->why): answer 500, log */
	RULE_WAIT,           /* a limit's delay: wait x->wait_ns, then run the list
				again from x->resume (x->start) */
	RULE_TARPIT,         /* hold the request x->wait_ns, then answer x->status
				and close */
};

/* Minimum scratch space a caller provides. */
#define RULE_SCRATCH_MIN (8 * 1024)

struct rule_exec {
	/* in */
	const struct cond_ctx *ctx;   /* what fetches read (the request in ctx->msg,
					 the response in ctx->res for http_response) */
	struct http_msg *msg;         /* the message rules edit: the request
					 (http_request) or the response (http_response);
					 NULL for tcp_request */
	char *scratch;                /* caller's space for rendering, >= RULE_SCRATCH_MIN */
	size_t scratch_len;
	int start;                    /* the rule to start at (after a RULE_WAIT) */
	/* Where concurrency places taken by `limit` rules go (the caller
	 * gives them back with limit_release() when the request or the
	 * connection ends); NULL: the list has no concurrent limit. */
	struct limit_slot *slots;
	uint8_t *nslots;
	uint8_t slots_max;

	/* out, when RULE_RESPOND */
	uint16_t status;
	struct slice location;        /* redirect: rendered, points into scratch; len 0
					 if none */
	struct slice content_type;    /* return: as configured; len 0 if none */
	struct slice body;            /* as configured (owned by the rule); p NULL when no
					 body was written to a deny (the caller then serves
					 an errorfile or its default page); a `return`
					 without a body gives an empty, non-NULL body */
	/* out, always when not RULE_CONTINUE */
	const struct rule *rule;      /* the deciding rule (for logs: rule_line) */
	const char *why;              /* RULE_ERROR: a static string for the log */
	uint32_t retry_after;         /* RULE_RESPOND of a limit: seconds, else 0 */
	uint8_t limit_verdict;        /* a limit's refusal: enum limit_verdict (why) */
	uint64_t wait_ns;             /* RULE_WAIT, RULE_TARPIT: how long */
	int resume;                   /* RULE_WAIT: the rule to start at next time */
};

/* Concurrency places one rule list may take (config error beyond):
 * a transaction holds its frontend's and its backend's. */
#define RULE_LIST_SLOTS 4

/*
 * Runs the rules of l in order on x->msg: each whose condition holds acts;
 * rewrites go on to the next rule, the others stop the list and return
 * their verdict.  Values are rendered into x->scratch and copied into the
 * message's store with msg_store(), so the message owns them; header names
 * and literal values are the rule's own bytes, which the message points at
 * (they count against the store's bound all the same: msg_charge()), and a
 * value already in the store (%[path]) is not copied again.  A value that
 * does not fit the store (or the scratch, or the header table) stops with
 * RULE_ERROR and x->why; it is never truncated, and the message keeps the
 * rewrites of the earlier rules.  Safe from any number of threads on
 * different messages; never allocates except through msg_store().
 */
enum rule_verdict rules_run(const struct rule_list *l, struct rule_exec *x);

/* The line of the rule in the config file, and its action as a short word
 * ("deny", "redirect", "set_header"...), for log lines. */
int rule_line(const struct rule *r);
const char *rule_action_name(const struct rule *r);

/* Requests a tarpit rule held so far (the metrics endpoint to come). */
uint64_t rule_hits(const struct rule *r);

/* Frees what a rule owns (not r itself); r is left zeroed. */
void rule_free(struct rule *r);

/* Frees every rule of l and the array; l is left empty. */
void rule_list_free(struct rule_list *l);

#endif
