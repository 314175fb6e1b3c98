/*
 * backend.c - from "this request goes to backend X" to a server: the sticky
 * cookie's pin or the balancer's pick (lb/), the server's slot under
 * `maxconn` (counted process-wide), then a connection (srvconn.c), a retry
 * elsewhere when connecting fails (retry.c), or the queue (queue.c).
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include "core/log.h"
#include "filter/cond.h"
#include "health/health.h"
#include "net/tls.h"
#include "proxy/backend.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

/*
 * Counts a request in flight on sv, in this thread and process-wide.  The
 * process-wide count is what `maxconn` limits, so it is reserved with a
 * compare-and-swap: two threads can never both take the last slot.
 */
bool server_try_take(struct stream *s, struct server_rt *sv)
{
	struct server_shared *sh = sv->sh;
	if (sh) {
		uint32_t max = sv->cfg->maxconn > 0 ? (uint32_t)sv->cfg->maxconn : UINT32_MAX;
		uint32_t cur = atomic_load_explicit(&sh->active, memory_order_relaxed);
		do {
			if (cur >= max)
				return false;
		} while (!atomic_compare_exchange_weak_explicit(&sh->active, &cur, cur + 1,
								memory_order_relaxed,
								memory_order_relaxed));
		atomic_fetch_add_explicit(&sh->requests, 1, memory_order_relaxed);
	}
	s->sv = sv;
	sv->active++;
	if (s->txn)
		s->txn->server_name = sv->cfg->name;
	return true;
}


void server_put(struct stream *s)
{
	struct server_rt *sv = s->sv;
	sv->active--;
	if (sv->sh)
		atomic_fetch_sub_explicit(&sv->sh->active, 1, memory_order_relaxed);
	s->sv = NULL;
	if (sv->be->nqueued)
		queue_kick(sv->be);
	worker_slot_freed(s->w, sv->be->cfg->index);
}

void reply_or_close(struct stream *s, int status, const char *why)
{
	if (s->flags & STRM_F_HTTP)
		http_reply_error(s, status, why);
	else
		stream_close(s);
}

/* ---- assignment ---- */

/*
 * `sticky cookie NAME`: the cookie holds the name of the server that served
 * the client before.  Returns that server if it can take the request now
 * (its slot already reserved), else NULL and the balancer decides.
 */
static struct server_rt *sticky_pick(struct stream *s, struct backend_rt *be,
				     const struct cond_ctx *ctx, bool *had_cookie)
{
	char scratch[64];
	struct slice v;

	*had_cookie = false;
	if (!be->cfg->sticky_fetch || !ctx->msg ||
	    !fetch_value(be->cfg->sticky_fetch, ctx, &v, scratch, sizeof(scratch)))
		return NULL;
	for (int i = 0; i < be->nservers; i++) {
		struct server_rt *sv = &be->servers[i];
		if (!slice_eq(v, (struct slice){ sv->cfg->name, (uint32_t)strlen(sv->cfg->name) }))
			continue;
		*had_cookie = true;
		if (lb_server_usable(sv) && server_try_take(s, sv))
			return sv;
		return NULL;
	}
	return NULL;
}

int backend_assign(struct stream *s, struct backend_rt *be, const struct server_rt *avoid)
{
	struct sockaddr_storage ss;

	for (int attempt = 0;; attempt++) {
		struct cond_ctx ctx;
		stream_cond_ctx(s, &ctx, &ss);
		bool had_cookie = false;
		struct server_rt *sv = NULL;
		if (!avoid && s->txn && be->cfg->sticky_fetch) {
			sv = sticky_pick(s, be, &ctx, &had_cookie);
			/* No valid pin: whoever the balancer picks gets pinned. */
			s->txn->sticky_set = !sv;
			if (sv)
				goto connect;
		}
		sv = lb_pick(be, &ctx, avoid);
		if (!sv) {
			if (lb_backend_any_up(be))
				return queue_add(s, be);
			log_warn("backend %s: no server available", be->cfg->name);
			reply_or_close(s, 503, "no server available");
			return -1;
		}
		if (!server_try_take(s, sv)) {
			/* Another thread took the last slot since the pick. */
			if (attempt < be->nservers) {
				avoid = sv;
				continue;
			}
			return queue_add(s, be);
		}
		if (s->txn && be->cfg->sticky_fetch)
			s->txn->sticky_set = true;
connect:
		(void)had_cookie;
		if (srv_connect(s, sv) == 0)
			return 0;
		int err = errno;
		const char *why = strerror(err);
		if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
			/* Our shortage, not the server's fault: no health
			 * penalty, and no retry that would only fail the same. */
			log_err("server %s/%s: cannot open a connection: %s", be->cfg->name,
				sv->cfg->name, why);
			server_put(s);
			reply_or_close(s, 503, "out of local resources (descriptors or memory)");
			return -1;
		}
		log_warn("server %s/%s: connect failed: %s", be->cfg->name, sv->cfg->name, why);
		health_observe(sv, false, why);
		if (lb_wants_latency(sv))
			lb_observe(sv, 0, true);
		server_put(s);
		if (!may_retry(s, be, err != ECONNREFUSED)) {
			if (s->txn)
				s->txn->term = TERM_CONNECT_ERROR;
			reply_or_close(s, 502, "cannot connect to server");
			return -1;
		}
		avoid = sv;
	}
}

