/*
 * cache_api.c - the caches' part of the runtime API (admin/api.h):
 *
 *   POST /api/caches/NAME/purge   {"url_prefix": "http://host/path"} or
 *                                 {"tag": "T"}: 200 {"cache": NAME, "purged": N}
 *
 * The purge itself is purge.c's walk of the store; this file only reads
 * the request and answers.  Registered from main before the admin thread
 * starts.
 */
#include <stdint.h>
#include <string.h>
#include "admin/api.h"
#include "admin/json.h"
#include "cache/cache_api.h"
#include "cache/purge.h"
#include "config/cfg.h"
#include "core/log.h"

/* POST /api/caches/NAME/purge with {"url_prefix": "http://host/path"} or
 * {"tag": "T"} (a Surrogate-Key the responses named): 200 {"purged": N}. */
static bool post_cache_purge(const struct admin_req *rq, struct admin_resp *rs,
			     const struct cfg_cache *k)
{
	static const char *const known[] = { "url_prefix", "tag", NULL };
	struct json_doc d;
	char kp[4096];
	int n = -1;

	if (!api_body_json(rq, rs, &d))
		return true;
	const struct json_val *r = json_root(&d);
	const struct json_val *ju = json_get(&d, r, "url_prefix");
	const struct json_val *jt = json_get(&d, r, "tag");
	if (!api_only_fields(rs, &d, r, known, "url_prefix or tag"))
		goto out;
	if (!ju == !jt) {
		api_error(rs, 400, "expected one of \"url_prefix\" and \"tag\"");
		goto out;
	}
	if (ju) {
		int kl = ju->type == JSON_STR ? cache_url_key_prefix(ju->s, kp, sizeof(kp)) : -1;
		if (kl < 0) {
			api_error(rs, 400, "\"url_prefix\" must be a string such as "
					     "\"http://www.example.com/images/\"");
			goto out;
		}
		n = cache_purge_prefix(k->store, kp, (size_t)kl);
	} else {
		if (jt->type != JSON_STR || !jt->len || strcspn(jt->s, " \t") != jt->len) {
			api_error(rs, 400, "\"tag\" must be a non-empty string without spaces");
			goto out;
		}
		n = cache_purge_tag(k->store, jt->s);
	}
	log_info("admin: cache %s: %d object%s purged by %s %s", k->name, n, n == 1 ? "" : "s",
		 ju ? "url_prefix" : "tag", ju ? ju->s : jt->s);
	struct jw w;
	jw_init(&w);
	jw_obj(&w);
	jw_kstr(&w, "cache", k->name);
	jw_kuint(&w, "purged", (uint64_t)n);
	jw_obj_end(&w);
	api_reply(rs, 200, &w);
out:
	json_free(&d);
	return true;
}

static bool api_caches(const struct admin_req *rq, struct admin_resp *rs, struct cfg *c,
		       char **seg, int n)
{
	if (n != 3 || strcmp(seg[2], "purge") != 0)
		return api_error(rs, 404, "no such endpoint: %.200s", rq->path);
	if (strcmp(rq->method, "POST") != 0)
		return api_method_not_allowed(rs, rq, "POST");
	for (int i = 0; c && i < c->ncaches; i++)
		if (strcmp(c->caches[i]->name, seg[1]) == 0 && c->caches[i]->store)
			return post_cache_purge(rq, rs, c->caches[i]);
	return api_error(rs, 404, "no cache %.100s", seg[1]);
}

int cache_api_register(void)
{
	return api_register("caches", api_caches);
}
