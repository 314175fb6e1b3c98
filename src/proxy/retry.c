/*
 * retry.c - what happens when a server fails a request: the retry budget
 * shared by all threads, whether one more attempt is allowed, and where it
 * goes (backend_srv_failed).
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

/* ---- the retry budget ---- */

/*
 * A token bucket per backend, shared by all threads: every request adds
 * budget% of a token, every retry takes one.  It starts full
 * (RETRY_BUDGET_CAP_MILLI, when registry_sync() first sees the backend's
 * name) so a burst of failures right after a quiet period still retries,
 * but a sustained failure rate above the budget cannot turn into a retry
 * storm.  Milli-tokens keep it in integers.  The bucket is the backend's
 * registry entry, reached through the worker's cached be->sh.
 */
void backend_budget_deposit(struct backend_rt *be)
{
	const struct cfg_backend *cb = be->cfg;
	struct backend_shared *bs = be->sh;
	if (!bs || !cb->retry_budget_pct)
		return;
	int64_t add = (int64_t)cb->retry_budget_pct * 10;
	int64_t cur = atomic_load_explicit(&bs->retry_tokens_milli, memory_order_relaxed);
	int64_t next;
	do {
		if (cur >= RETRY_BUDGET_CAP_MILLI)
			return;
		next = cur + add > RETRY_BUDGET_CAP_MILLI ? RETRY_BUDGET_CAP_MILLI : cur + add;
	} while (!atomic_compare_exchange_weak_explicit(&bs->retry_tokens_milli, &cur, next,
							memory_order_relaxed, memory_order_relaxed));
}

static bool budget_withdraw(struct backend_rt *be)
{
	struct backend_shared *bs = be->sh;
	if (!bs || !be->cfg->retry_budget_pct)
		return true;
	int64_t cur = atomic_load_explicit(&bs->retry_tokens_milli, memory_order_relaxed);
	do {
		if (cur < 1000)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&bs->retry_tokens_milli, &cur, cur - 1000,
							memory_order_relaxed, memory_order_relaxed));
	return true;
}

/*
 * Whether one more attempt is allowed: `retries` left and, if `charge`,
 * the budget.  A refused connect is not charged: it costs the server
 * nothing, and while a dead server is still "up" (before health checks or
 * outlier detection notice) a third of the traffic may need exactly that
 * retry - the budget is there to stop retries that add load.
 */
bool may_retry(struct stream *s, struct backend_rt *be, bool charge)
{
	if (s->retries_left <= 0)
		return false;
	if (charge && !budget_withdraw(be)) {
		log_warn("backend %s: retry budget exhausted (%d%% of requests), not retrying",
			 be->cfg->name, be->cfg->retry_budget_pct);
		return false;
	}
	s->retries_left--;
	if (s->txn)
		s->txn->retries++;
	return true;
}

/*
 * What can be retried, and where:
 *  - a connect that failed sent nothing: another server (`retries`);
 *  - a request kept whole for replay (STRM_F_REPLAY) that got no response
 *    byte, if its method is idempotent: on a reused keep-alive connection
 *    the server most likely closed it as we wrote (a race, not a server
 *    fault), so it is sent again on a fresh connection without spending a
 *    retry; on a fresh connection it goes to another server, as a retry.
 *  - a non-idempotent request is never sent twice (RFC 9110 9.2.2: "A
 *    proxy MUST NOT automatically retry non-idempotent requests"), even
 *    after that race; srv_connect() keeps the race unlikely for it.
 * Anything else becomes a 502/504, or a cut if the response had started.
 */
void backend_srv_failed(struct stream *s, const char *why, bool timeout)
{
	struct srvconn *sc = s->srv;
	struct server_rt *sv = s->sv;
	struct backend_rt *be = sv ? sv->be : (s->txn ? s->txn->be : s->tcp_be);
	/* unseen by the server (HTTP/2 REFUSED_STREAM, past a GOAWAY): as good
	 * as never connected, if what was sent is still here to send again */
	bool never_connected = (sc && !sc->connected) ||
			       ((s->flags & STRM_F_UNSEEN) && !(s->flags & STRM_F_SENT));
	bool refused = never_connected && sc->c.err == ECONNREFUSED;
	bool reused = sc && sc->reused;
	bool replay = (s->flags & STRM_F_REPLAY) && s->rs == RS_WAIT && !timeout &&
		      (!s->res.area || buf_in_len(&s->res) == 0) &&
		      !(s->txn && s->txn->res_head_sent);
	bool idempotent = s->txn && msg_meth_idempotent(s->txn->meth);
	/* A pooled connection the server closed as we wrote: a race, not a
	 * fault of the server, so no log line, health or ewma penalty. */
	bool race = reused && replay;

	if (!race)
		log_warn("server %s/%s: %s", be ? be->cfg->name : "-", sv ? sv->cfg->name : "-", why);
	else if (!idempotent)
		log_warn("server %s/%s: %s on a reused connection; not sent again, the method "
			 "is not idempotent (%s)", be ? be->cfg->name : "-",
			 sv ? sv->cfg->name : "-", why, txn_line(s->txn));
	/* Outlier detection: the end of a tunnel is no failure either. */
	if (sv && !race && (never_connected || s->rs != RS_TUNNEL))
		health_observe(sv, false, why);
	/* balance ewma: a failure counts as a slow answer (lb_observe floors it). */
	if (sv && !race && lb_wants_latency(sv) && (s->sent_ns || never_connected))
		lb_observe(sv, s->sent_ns ? lb_mono_ns() - s->sent_ns : 0, true);
	backend_release(s, false);
	s->req_sent = 0;
	s->flags &= (uint16_t)~(STRM_F_UNSEEN | STRM_F_SENT);
	/* A request kept for replay outside its buffer goes back into it,
	 * whatever follows (sent again, or dropped for an error reply). */
	if (!stream_replay_restore(s)) {
		s->flags &= (uint16_t)~STRM_F_REPLAY;
		stream_abort(s, "out of memory");
		return;
	}

	if (be && race && idempotent) {
		backend_assign(s, be, NULL);   /* the caller runs stream_process() */
		return;
	}
	if (be && (never_connected || (replay && idempotent)) && may_retry(s, be, !refused)) {
		backend_assign(s, be, sv);
		return;
	}
	s->flags &= (uint16_t)~STRM_F_REPLAY;
	if (!(s->flags & STRM_F_HTTP)) {
		stream_close(s);
		return;
	}
	if (s->txn)
		s->txn->term = timeout ? TERM_SERVER_TIMEOUT :
			       !never_connected ? TERM_SERVER_RESET :
			       strstr(why, "timeout") ? TERM_CONNECT_TIMEOUT : TERM_CONNECT_ERROR;
	if (s->txn && s->txn->res_head_sent) {
		stream_abort(s, why);
		return;
	}
	http_reply_error(s, timeout ? 504 : 502, why);
}

