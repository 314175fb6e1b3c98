/*
 * test_stream_wake.c - two seams of proxy/stream.h, in-process
 * (pipe_harness.h): a parked stream woken from another thread through its
 * waker (stream_waker, the worker's mailbox), a waker that outlives its
 * stream, and a request with no client (stream_detached).
 */
#include <pthread.h>
#include "unit.h"
#include "pipe_harness.h"
#include "core/log.h"
#include "proxy/filter.h"
#include "proxy/stream.h"

#define WAIT_MS 2000

static const char *CFG =
	"frontend web {\n"
	"    bind 127.0.0.1:1\n"
	"    mode http\n"
	"    default_backend app\n"
	"}\n"
	"backend app {\n"
	"    server s1 @SRV@\n"
	"}\n";

static const char GET_A[] = "GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n";
static const char RES_HI[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

static bool start(struct ph *h)
{
	if (ph_open(h, CFG) < 0) {
		CHECK(!"ph_open");
		return false;
	}
	CHECK(ph_client(h));
	return true;
}

static void finish(struct ph *h)
{
	CHECK(ph_hangup(h, 20));
	ph_close(h);
	CHECK_EQ_INT(atomic_load(&g_conns), 0);
}

/* ---- a filter that parks until another thread says so ---- */

static struct {
	struct stream *parked;
	struct stream_waker *k;
	_Atomic bool ready;
	int calls;
	bool spawn;                 /* the detached test: copy the request once */
	struct stream *child;
} wf;

static enum flt_verdict wait_req_head(struct stream *s, const void *conf)
{
	(void)conf;
	wf.calls++;
	if (wf.spawn) {
		if (!wf.child)
			wf.child = stream_detached(s, &s->txn->req);
		return FLT_CONTINUE;
	}
	if (!atomic_load(&wf.ready)) {
		if (!wf.k)
			wf.k = stream_waker(s);
		wf.parked = s;
		return FLT_WAIT;
	}
	return FLT_CONTINUE;
}

static const struct filter_ops wait_ops = { .name = "test-wake", .req_head = wait_req_head };

static void add_filter(struct ph *h, bool spawn)
{
	struct filter_chain *c = h->cfg->frontends[0]->filters;
	memmove(&c->v[1], &c->v[0], (size_t)c->n * sizeof(c->v[0]));
	c->v[0] = (struct filter){ &wait_ops, h->cfg };
	c->n++;
	c->phases |= 1u << FLT_REQ_HEAD;
	memset(&wf, 0, sizeof(wf));
	wf.spawn = spawn;
}

static void *other_thread(void *arg)
{
	(void)arg;
	atomic_store(&wf.ready, true);
	stream_waker_post(wf.k);
	stream_waker_post(wf.k);   /* before the first is run: one message */
	return NULL;
}

/* A stream parked by a filter is woken by a post from another thread: the
 * request goes on; events alone never resumed it. */
TEST(waker_from_another_thread)
{
	struct ph h;
	if (!start(&h))
		return;
	add_filter(&h, false);
	CHECK(ph_send_str(&h, &h.cli, GET_A));
	ph_pump(&h, 50);
	CHECK(wf.parked != NULL && wf.k != NULL);
	CHECK_EQ_INT(wf.calls, 1);
	ph_pump(&h, 50);
	CHECK_EQ_INT(wf.calls, 1);
	CHECK_EQ_INT(h.nsrv, 0);

	pthread_t th;
	CHECK(pthread_create(&th, NULL, other_thread, NULL) == 0);
	pthread_join(th, NULL);
	CHECK_EQ_INT((int)h.w.mb.len, 1);
	struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	CHECK_EQ_INT(wf.calls, 2);
	if (srv) {
		CHECK(ph_recv_until(&h, srv, "\r\n\r\n", WAIT_MS) > 0);
		CHECK(ph_send_str(&h, srv, RES_HI));
		CHECK(ph_recv_n(&h, &h.cli, strlen(RES_HI), WAIT_MS));
		CHECK(memcmp(h.cli.in, RES_HI, strlen(RES_HI)) == 0);
	}
	/* the keep-alive stream went back to the pool: the waker we still
	 * hold is detached, a post is harmless */
	ph_pump(&h, 20);
	stream_waker_post(wf.k);
	ph_pump(&h, 20);
	stream_waker_put(wf.k);
	finish(&h);
}

/* A waker posted with its stream still parked, the message left in the
 * mailbox when the worker leaves (its sessions killed first): the message
 * is dropped with its reference, the closed stream is not run. */
TEST(waker_outlives_its_stream)
{
	struct ph h;
	if (!start(&h))
		return;
	add_filter(&h, false);
	CHECK(ph_send_str(&h, &h.cli, GET_A));
	ph_pump(&h, 50);
	CHECK(wf.k != NULL);
	stream_waker_post(wf.k);       /* left in the mailbox for worker_leave */
	stream_waker_put(wf.k);
	ph_close(&h);
	CHECK_EQ_INT(atomic_load(&g_conns), 0);
}

/* stream_detached: a copy of the request goes to the server on its own
 * (no client), its response is read and dropped, its session closes; the
 * client's own exchange is untouched. */
TEST(detached_request)
{
	struct ph h;
	if (!start(&h))
		return;
	add_filter(&h, true);
	CHECK(ph_send_str(&h, &h.cli, GET_A));
	struct ph_end *a = ph_srv_accept(&h, WAIT_MS);
	struct ph_end *b = ph_srv_accept(&h, WAIT_MS);
	CHECK(wf.child != NULL);
	CHECK(a != NULL && b != NULL);
	CHECK_EQ_INT((int)h.w.nsessions, 2);
	if (a && b) {
		CHECK(ph_recv_until(&h, a, "\r\n\r\n", WAIT_MS) > 0);
		CHECK(ph_recv_until(&h, b, "\r\n\r\n", WAIT_MS) > 0);
		CHECK(strncmp(a->in, "GET /a HTTP/1.1\r\n", 17) == 0);
		CHECK(strncmp(b->in, "GET /a HTTP/1.1\r\n", 17) == 0);
		CHECK(ph_send_str(&h, a, RES_HI));
		CHECK(ph_send_str(&h, b, RES_HI));
		CHECK(ph_recv_n(&h, &h.cli, strlen(RES_HI), WAIT_MS));
		CHECK(memcmp(h.cli.in, RES_HI, strlen(RES_HI)) == 0);
		ph_pump(&h, 50);
		/* the detached one ended: only the client's session is left */
		CHECK_EQ_INT((int)h.w.nsessions, 1);
		CHECK_EQ_INT(h.cli.len, strlen(RES_HI));   /* nothing else reached the client */
	}
	finish(&h);
}

int main(void)
{
	log_level = LOG_ERR;
	RUN(waker_from_another_thread);
	RUN(waker_outlives_its_stream);
	RUN(detached_request);
	return UNIT_SUMMARY("test_stream_wake");
}
