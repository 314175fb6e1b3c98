/*
 * errors.c - responses gatehouse writes itself: 400 for a bad request, 502
 * when a server fails, 503 when none is available, 504 on a server
 * timeout, and so on.  Bodies are short plain text; the connection is
 * always closed afterwards, since after an error we cannot be sure where
 * the next request would start.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include "core/log.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

static const char *status_reason(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

void http_reply_error(struct stream *s, int status, const char *why)
{
	struct txn *t = s->txn;
	char src[INET6_ADDRSTRLEN];

	log_warn("%s: %s \"%s\" %d %s", s->fe->name, stream_src_text(s, src, sizeof(src)),
		 t && t->line[0] ? t->line : "-", status, why);
	if (t && t->res_head_sent) {
		/* The client already has part of another response: all we can
		 * do is cut the connection so it sees the truncation. */
		stream_close(s);
		return;
	}
	if (s->srv || s->sv)
		backend_release(s, false);

	buf_release_force(&s->res);
	if (!buf_alloc(&s->res)) {
		stream_close(s);
		return;
	}
	const char *reason = status_reason(status);
	char body[64];
	int blen = snprintf(body, sizeof(body), "%d %s\n", status, reason);
	int n = snprintf(s->res.area, buf_size,
			 "HTTP/1.1 %d %s\r\n"
			 "Content-Type: text/plain\r\n"
			 "Content-Length: %d\r\n"
			 "Cache-Control: no-store\r\n"
			 "Connection: close\r\n"
			 "\r\n%s",
			 status, reason, blen, body);
	s->res.rd = 0;
	s->res.pr = s->res.wr = (uint32_t)n;
	if (t) {
		t->status = (uint16_t)status;
		t->res_head_sent = true;
	}
	/* Whatever the client sent that we did not forward is dropped; the
	 * stream lingers on it after the response (see stream.c). */
	buf_release_force(&s->req);
	s->flags &= (uint8_t)~STRM_F_REPLAY;
	s->req_sent = 0;
	if (s->rq != RQ_DONE)
		s->flags |= STRM_F_UNREAD;
	s->rq = RQ_DONE;
	s->rs = RS_DONE;
	s->flags |= STRM_F_CLOSE | STRM_F_SRV_CLOSE;
}

void stream_abort(struct stream *s, const char *why)
{
	char src[INET6_ADDRSTRLEN];
	log_warn("%s: %s \"%s\" aborted: %s", s->fe->name, stream_src_text(s, src, sizeof(src)),
		 s->txn && s->txn->line[0] ? s->txn->line : "-", why);
	stream_close(s);
}
