/*
 * admin_http.h - the contract between the admin listener (admin.c: the
 * socket, the thread, the token, HTTP/1.1 framing) and what it serves
 * (metrics.c: /metrics; api.c: /api/...; dashboard.c: /).
 *
 * The listener reads one whole request (head and a body bounded by
 * ADMIN_BODY_MAX), checks the bearer token, then offers it to each handler
 * in turn: metrics, api, dashboard.  A handler that does not serve the
 * path returns false; the first to return true has filled the response.
 * A HEAD request reaches the handlers as "GET"; the listener sends the
 * head of their answer only.
 * Handlers run on the admin thread, never on a worker's loop: they may
 * take registry locks, sum per-worker counters, or wait for main (a
 * reload), but must not block for long on the network.
 */
#ifndef GATEHOUSE_ADMIN_HTTP_H
#define GATEHOUSE_ADMIN_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define ADMIN_BODY_MAX (64 * 1024)

struct admin_req {
	const char *method;      /* "GET", "PUT", ... NUL-terminated */
	const char *path;        /* "/api/backends/app", no query, NUL-terminated */
	const char *query;       /* after '?', or "" */
	const char *body;        /* NUL-terminated copy; body_len bytes */
	size_t body_len;
};

struct admin_resp {
	int status;              /* 200, 400, 404, ... */
	const char *ctype;       /* static string, e.g. "application/json" */
	char *body;              /* malloc'd, freed by the listener; may be NULL */
	size_t len;
	bool body_static;        /* body points to static memory: not freed */
};

struct cfg;

/* Each returns true when it served the request (rs filled). `c` is the
 * generation current when the request arrived (a reference held by the
 * listener for the call). */
bool admin_metrics(const struct admin_req *rq, struct admin_resp *rs, struct cfg *c);
bool admin_api(const struct admin_req *rq, struct admin_resp *rs, struct cfg *c);
bool admin_dashboard(const struct admin_req *rq, struct admin_resp *rs, struct cfg *c);

/* Whether method and target (query included) name the one thing served
 * without the token: the dashboard's page, static and holding no data (a
 * browser cannot add a bearer token to a page load; the page asks for the
 * token and sends it with every /api/ call).  dashboard.c. */
bool admin_public(const char *method, const char *target);

#endif
