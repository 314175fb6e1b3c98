/*
 * flt_access_log.c - the filter that writes one access log line per
 * transaction (`access_log` in a frontend), in its end phase: after the
 * response went out, or when the transaction was refused or cut.  It only
 * gathers what the stream recorded on its way (struct txn) into a struct
 * access_rec; formatting and writing are access_log.c's, off the worker.
 */
#include <string.h>
#include "log/access_log.h"
#include "net/tls.h"
#include "proxy/filter.h"
#include "proxy/stream.h"

static int64_t span(uint64_t from, uint64_t to)
{
	return from && to && to >= from ? (int64_t)(to - from) : -1;
}

static struct slice hdr_value(struct http_msg *m, struct slice name)
{
	int pos = 0;
	struct http_hdr *h = msg_hdr_find(m, name, &pos);
	return h ? h->value : (struct slice){ NULL, 0 };
}

static void access_log_end(struct stream *s, const void *conf)
{
	const struct cfg_frontend *fe = conf;
	struct txn *t = s->txn;
	struct sockaddr_storage ss;
	uint64_t now = mono_us();
	/* A head that never completed was not taken into the message: its
	 * slices point into a buffer that may be gone, so it logs as "-"
	 * (no request line, HTTP/1.1). */
	struct http_msg *m = t->req_head_len ? &t->req : NULL;
	struct slice none = { NULL, 0 };

	stream_src(s, &ss);
	struct access_rec r = {
		.start_us = t->start_us,
		.src = &ss,
		.method = m ? m->method : none,
		.target = m ? m->target : none,
		.version_major = m && m->version_major ? m->version_major : 1,
		.version_minor = m ? m->version_minor : 1,
		.status = t->res_head_sent ? t->status : 0,
		.bytes_in = t->bytes_in,
		.bytes_out = t->bytes_out,
		.frontend = fe->name,
		.backend = t->be ? t->be->cfg->name : NULL,
		.server = s->sv ? s->sv->cfg->name : t->server_name,
		.t_queue_us = span(t->mono_assign_us, t->mono_srv_us),
		.t_connect_us = span(t->mono_srv_us, t->mono_conn_us),
		.t_ttfb_us = span(t->mono_start_us, t->mono_ttfb_us),
		.t_total_us = span(t->mono_start_us, now),
		.retries = t->retries,
		.term = strm_term_name((enum strm_term)t->term),
		.req_id = (struct slice){ t->req_id, t->req_id_len },
		.tls_version = session_tls_version(s->sess),
		.sni = session_tls_sni(s->sess),
		.host = m ? m->authority : none,
		.referer = m ? hdr_value(m, SLICE_LIT("Referer")) : none,
		.user_agent = m ? hdr_value(m, SLICE_LIT("User-Agent")) : none,
	};
	access_log_write(access_log_of(fe), &r);
}

const struct filter_ops flt_access_log_ops = {
	.name = "access_log",
	.end = access_log_end,
};
