/*
 * filter.h - the pipeline's filter seam: how a feature sees and changes a
 * stream without living in src/proxy/.
 *
 * A filter is a small table of callbacks, one per phase (Envoy's
 * decodeHeaders/encodeHeaders, HAProxy's flt_ops).  Each frontend and
 * backend has a chain of filter instances, built once per configuration
 * from the registry in filter.c; a feature adds one row there and one file
 * of its own.  Phases, in the order a transaction meets them:
 *
 *   req_head   the request head is decoded (t->req); frontend filters run
 *              before routing, backend filters after it
 *   req_data   request body bytes on their way to the server (read-only;
 *              today Content-Length bodies only, and the verdict is not
 *              yet honoured: holding and transforming bodies, and chunked
 *              ones, come with the protocol-neutral body events that
 *              HTTP/2 needs)
 *   res_head   the response head is decoded (t->res); frontend filters,
 *              then the backend's
 *   res_data   response body bytes on their way to the client (read-only;
 *              Content-Length and close-delimited bodies, as req_data)
 *   end        the transaction is over (delivered, refused or aborted):
 *              logs, counters; cannot fail
 *
 * Verdicts:
 *   FLT_CONTINUE  go on with the next filter, then the next step
 *   FLT_WAIT      park the stream: nothing of its steps runs (the filter is
 *                 not asked again) until the filter calls stream_wake() with
 *                 its verdict ready; then the same callback is called again
 *                 for the same phase.  The filter must hold the stream only
 *                 until its end phase (the stream may close while parked).
 *   FLT_STOP      the filter answered (local_reply(): deny, redirect, 429,
 *                 a cache hit) or closed the stream; the rest of the chain
 *                 is skipped
 *   FLT_ALLOW     stop this chain (rules' `allow`), the next chain still runs
 */
#ifndef GH_PROXY_FILTER_H
#define GH_PROXY_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/cfg.h"

struct stream;

enum flt_verdict { FLT_CONTINUE = 0, FLT_WAIT, FLT_STOP, FLT_ALLOW };

enum flt_phase { FLT_REQ_HEAD = 0, FLT_REQ_DATA, FLT_RES_HEAD, FLT_RES_DATA, FLT_END,
		 FLT_PHASE_COUNT };

struct filter_ops {
	const char *name;
	/* conf: what the registry's conf function returned for this scope. */
	enum flt_verdict (*req_head)(struct stream *s, const void *conf);
	enum flt_verdict (*req_data)(struct stream *s, const void *conf, const char *p, size_t len);
	enum flt_verdict (*res_head)(struct stream *s, const void *conf);
	enum flt_verdict (*res_data)(struct stream *s, const void *conf, const char *p, size_t len);
	void (*end)(struct stream *s, const void *conf);
};

struct filter {
	const struct filter_ops *ops;
	const void *conf;
};

#define FLT_MAX 16

/* The filters of one frontend or backend, in order, and which phases any
 * of them handles (so an empty phase costs one test). */
struct filter_chain {
	struct filter v[FLT_MAX];
	int n;
	unsigned phases;            /* 1u << enum flt_phase */
};

/* Builds the chain of every frontend and backend of c (cfg_frontend.filters,
 * cfg_backend.filters).  Returns 0, or -1 with *err set (static text). */
int filters_init(struct cfg *c, const char **err);
void filters_free(struct cfg *c);

/*
 * Runs a head phase (FLT_REQ_HEAD or FLT_RES_HEAD) of chain c from filter
 * *pos on; *pos is where to resume after FLT_WAIT and is reset to 0 when
 * the chain ends.  Returns FLT_CONTINUE (chain done, or ended by allow),
 * FLT_WAIT or FLT_STOP.
 */
enum flt_verdict filters_head(struct stream *s, const struct filter_chain *c,
			      enum flt_phase ph, uint8_t *pos);

/* Shows body bytes to a data phase; FLT_WAIT holds them back. */
enum flt_verdict filters_data(struct stream *s, const struct filter_chain *c,
			      enum flt_phase ph, const char *p, size_t len);

/* The end phase of both chains of s (frontend, then backend). */
void filters_end(struct stream *s);

/* Built-in filters (their files say what they do). */
extern const struct filter_ops flt_reqid_ops;       /* filter/flt_reqid.c */
extern const struct filter_ops flt_rules_fe_ops;    /* filter/flt_rules.c */
extern const struct filter_ops flt_rules_be_ops;    /* filter/flt_rules.c */
extern const struct filter_ops flt_forward_ops;     /* filter/flt_forward.c */
extern const struct filter_ops flt_sticky_ops;      /* filter/flt_forward.c */
extern const struct filter_ops flt_access_log_ops;  /* log/flt_access_log.c */

/* tcp_request connection rules of the session's frontend, at accept
 * (flt_rules.c): false when the connection is to be closed unanswered. */
struct session;
bool rules_tcp_accept(struct session *ss);

#endif
