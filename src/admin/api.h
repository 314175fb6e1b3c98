/*
 * api.h - what a module needs to add endpoints to the runtime API under
 * /api/ (api.c serves /api/backends and /api/reload itself).
 *
 * A module registers a handler for its first path segment before the
 * admin thread starts (from main, as cache/cache_api.c does for
 * /api/caches), so the admin code names no feature.  The handler runs on
 * the admin thread (admin_http.h says what it may do there), receives the
 * path split into percent-decoded segments (seg[0] is its own name) and
 * answers with the helpers below: JSON bodies, errors as
 * {"error": "...", "status": N}.
 */
#ifndef GATEHOUSE_ADMIN_API_H
#define GATEHOUSE_ADMIN_API_H

#include <stdbool.h>
#include "admin/admin_http.h"

struct cfg;
struct jw;
struct json_doc;
struct json_val;

/* c is the generation current when the request arrived (may be NULL if
 * none is loaded yet); returns true, having filled rs. */
typedef bool (*api_handler)(const struct admin_req *rq, struct admin_resp *rs, struct cfg *c,
			    char **seg, int n);

/* 0, or -1 if the name is taken or the table (8 entries) is full. */
int api_register(const char *name, api_handler fn);

/* Answers: the writer's document with status; an error; a 405 naming
 * the allowed methods.  Each returns true (answered). */
bool api_reply(struct admin_resp *rs, int status, struct jw *w);
bool api_error(struct admin_resp *rs, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool api_method_not_allowed(struct admin_resp *rs, const struct admin_req *rq,
			    const char *allowed);

/* Request bodies: parses rq's body as JSON into doc (false after
 * answering 400); checks that object o has no member outside `known`
 * (NULL-terminated; false after answering 400 naming `expected`). */
bool api_body_json(const struct admin_req *rq, struct admin_resp *rs, struct json_doc *doc);
bool api_only_fields(struct admin_resp *rs, const struct json_doc *d, const struct json_val *o,
		     const char *const *known, const char *expected);

#endif
