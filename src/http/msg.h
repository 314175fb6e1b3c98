/*
 * msg.h - the protocol-neutral HTTP message model.
 *
 * Every codec (HTTP/1.1 today, HTTP/2 later) turns what it reads into a
 * struct http_msg, and every codec on the output side turns a struct http_msg
 * back into bytes.  Routing, balancing, header rules, caching and filtering
 * only ever see this structure, never wire bytes, so an HTTP/2 stream travels
 * the same path as an HTTP/1.1 request (HAProxy learned this late with HTX).
 *
 * Ownership: a message owns its bytes.  A codec parses a head where it
 * arrived (an input buffer), then msg_adopt() copies it into the message's
 * own store and points every slice at the copy, so the input buffer can
 * move on.  Values that were never in an input buffer (rule values,
 * X-Forwarded-For, later HPACK-decoded fields) are added with msg_store().
 * Slices may also point at static strings, or at bytes that outlive the
 * message in another way (a rule's literal value, owned by the
 * configuration the stream holds; the request id in the transaction): those
 * are counted against the bound with msg_charge() instead of being copied.
 * The store is bounded (st.max): a rule that would push a head past it gets
 * NULL back (or false from msg_charge), never a truncation.
 *
 * The body is not part of the message: it streams through the buffers and
 * the message only records how it is framed (body, content_length).
 *
 * Nothing about the wire is kept here: how far a codec got in its input,
 * and how many bytes a head took there, are the codec's own state (for
 * HTTP/1, struct h1_parser in h1.h, which the caller keeps next to the
 * message), so an HTTP/2 stream's message carries no HTTP/1 leftovers.
 */
#ifndef GH_HTTP_MSG_H
#define GH_HTTP_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* A borrowed string: pointer and length, not NUL-terminated. */
struct slice {
	const char *p;
	uint32_t len;
};

#define SLICE_LIT(s) ((struct slice){ (s), (uint32_t)(sizeof(s) - 1) })

static inline bool slice_eq(struct slice a, struct slice b)
{
	return a.len == b.len && (a.len == 0 || __builtin_memcmp(a.p, b.p, a.len) == 0);
}

/* ASCII case-insensitive equality, as field names and most tokens need. */
bool slice_ieq(struct slice a, struct slice b);
bool slice_ieq_cstr(struct slice a, const char *s);

enum http_meth {
	HTTP_METH_OTHER = 0,    /* a valid token we do not know; see msg->method */
	HTTP_METH_GET,
	HTTP_METH_HEAD,
	HTTP_METH_POST,
	HTTP_METH_PUT,
	HTTP_METH_DELETE,
	HTTP_METH_CONNECT,
	HTTP_METH_OPTIONS,
	HTTP_METH_TRACE,
	HTTP_METH_PATCH,
};

/* Header fields the codecs and the proxy must recognise.  The parser sets
 * hdr.id so nobody compares names twice on the hot path. */
enum http_hdr_id {
	HDR_OTHER = 0,
	HDR_HOST,
	HDR_CONTENT_LENGTH,
	HDR_TRANSFER_ENCODING,
	HDR_CONNECTION,
	HDR_KEEP_ALIVE,
	HDR_TE,
	HDR_TRAILER,
	HDR_PROXY_CONNECTION,
	HDR_UPGRADE,
	HDR_EXPECT,
	HDR_X_FORWARDED_FOR,
	HDR_X_FORWARDED_PROTO,
	HDR_X_FORWARDED_HOST,
	HDR_FORWARDED,
	HDR_COOKIE,
	HDR_SET_COOKIE,
	HDR_ID_COUNT
};

/* Per-header flags. */
#define HDR_F_DELETED 0x01  /* removed by the proxy; encoders skip it */
#define HDR_F_HOP     0x02  /* hop-by-hop: never forwarded (RFC 9110 7.6.1),
			       includes fields nominated by Connection */

struct http_hdr {
	struct slice name;
	struct slice value;      /* OWS trimmed on both sides */
	uint8_t id;              /* enum http_hdr_id */
	uint8_t flags;           /* HDR_F_* */
};

/* How the body that follows the head is delimited. */
enum http_body {
	BODY_NONE = 0,           /* no body at all (GET without CL, 204, 304, HEAD response) */
	BODY_LENGTH,             /* exactly content_length bytes */
	BODY_CHUNKED,            /* chunked transfer coding */
	BODY_UNTIL_CLOSE,        /* response only: delimited by the server closing */
	BODY_TUNNEL,             /* after 101 / 2xx to CONNECT: raw bytes both ways */
};

/* The bytes a message owns (see "Ownership" above). */
struct msg_store {
	char *area;       /* malloc'd on first use; NULL until then */
	uint32_t used;
	uint32_t size;
	uint32_t max;     /* bound on `used` + `charged`; 0 = MSG_STORE_MAX */
	uint32_t charged; /* bytes the head refers to outside the store (msg_charge) */
};
#define MSG_STORE_MAX (64 * 1024)

/* Message-level flags (msg->flags). */
#define MSG_F_RESPONSE        0x0001
#define MSG_F_CONN_CLOSE      0x0002  /* peer asked to close after this message */
#define MSG_F_CONN_KEEPALIVE  0x0004  /* Connection: keep-alive seen (HTTP/1.0) */
#define MSG_F_CONN_UPGRADE    0x0008  /* Connection: upgrade seen */
#define MSG_F_EXPECT_CONTINUE 0x0010  /* Expect: 100-continue */
#define MSG_F_HAS_UPGRADE     0x0020  /* an Upgrade header is present */
#define MSG_F_ABSOLUTE_FORM   0x0040  /* request target was absolute-form */
#define MSG_F_TE_TRAILERS     0x0080  /* TE: trailers seen */
#define MSG_F_KEEP_CL         0x0100  /* response to HEAD, or 304, with a body == BODY_NONE
					 but a Content-Length (in content_length) that
					 describes the representation: encoders re-emit it */
#define MSG_F_TE_OTHER        0x0200  /* Transfer-Encoding lists codings besides chunked
					 (e.g. "gzip, chunked"): encoders forward them */

#define HTTP_MAX_HDRS 100     /* fields accepted from a peer */
#define HTTP_HDRS_ADDED 16    /* room for the fields the proxy adds (X-Forwarded-*, ...) */
#define HTTP_HDRS_INLINE 16   /* fields held in the message itself (struct http_msg) */

struct http_msg {
	uint32_t flags;             /* MSG_F_* */
	uint8_t version_major;      /* 1 for HTTP/1.x; 2 once HTTP/2 lands */
	uint8_t version_minor;      /* 0 or 1 */

	/* request line (requests only) */
	uint8_t meth;               /* enum http_meth */
	struct slice method;
	struct slice target;        /* as received */
	struct slice path;          /* path part of the target, no query; "*" for OPTIONS * */
	struct slice query;         /* after '?', without it; len 0 if none (p is NULL
				       when there was no '?' at all) */
	struct slice authority;     /* Host header, or the absolute-form authority */

	/* status line (responses only) */
	uint16_t status;
	struct slice reason;

	/* framing */
	uint8_t body;               /* enum http_body */
	uint64_t content_length;    /* valid when body == BODY_LENGTH */

	uint16_t nhdrs;
	int16_t hdr_idx[HDR_ID_COUNT]; /* first index of each known header, -1 if absent */
	/* A 64-bit Bloom filter of the names of hdrs[0..names_n) (msg_hdr_bit),
	 * built on the first lookup by name and kept up by msg_hdr_add(), so a
	 * rule asking for an absent field does not walk the table.  Deleted
	 * fields stay in it (a false "maybe" only costs the walk).  nhdrs only
	 * shrinks through msg_reset(), which clears it (a smaller nhdrs than
	 * names_n also rebuilds it). */
	uint64_t names;
	uint16_t names_n;

	/* The field table: hdrs[0..nhdrs).  It starts in hdrs_in (HTTP_HDRS_INLINE
	 * fields, enough for most heads) and moves to a malloc'd table that
	 * grows up to HTTP_MAX_HDRS + HTTP_HDRS_ADDED fields only for a head
	 * with more (msg_hdr_reserve), so a transaction in flight does not
	 * carry two 4.6 KB tables it rarely uses (issue 15).  hdrs is NULL
	 * until the first field (a zeroed message is valid); a message must
	 * never be copied by value (hdrs may point into itself).  Like the
	 * store, it is kept by msg_reset() and freed by msg_free(). */
	struct http_hdr *hdrs;
	uint16_t hdrs_cap;
	struct http_hdr hdrs_in[HTTP_HDRS_INLINE];

	/* Last, so msg_reset() (which clears everything before hdrs) leaves
	 * the allocations alone; msg_reset() only empties them. */
	struct msg_store st;
};

/* Zeroes a message that was never used (store included), then resets it. */
void msg_init(struct http_msg *m, uint32_t store_max);

/* Frees the store; the message is then like msg_init()'s. */
void msg_free(struct http_msg *m);

/*
 * Copies p[0..len) into the message's store and returns a slice of the
 * copy, or { NULL, 0 } when it would pass st.max (or memory is short).
 * The store may move when it grows: every slice of the message that pointed
 * into it follows, so callers keep slices in the message, not elsewhere.
 */
struct slice msg_store(struct http_msg *m, const char *p, size_t len);

/* Points every slice of m that pointed into [old, old + len] at the same
 * offset from `now` (the bytes moved there).  Addresses are compared, never
 * read. */
void msg_rebase(struct http_msg *m, const char *old, uint32_t len, const char *now);


/* Formats into the store (printf); { NULL, 0 } when it does not fit. */
struct slice msg_storef(struct http_msg *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Takes ownership of a parsed head: copies base[0..len) into the store and
 * moves every slice that pointed into it to the copy.  Returns 0, or -1
 * when the store cannot hold it.
 */
int msg_adopt(struct http_msg *m, const char *base, uint32_t len);

/* Counts len bytes that a slice of the head refers to outside the store
 * (bytes that outlive the message: see "Ownership") against the store's
 * bound, as msg_store() would; false when they would pass it.  (used +
 * charged never passes the bound, so the subtraction cannot wrap.) */
static inline bool msg_charge(struct http_msg *m, size_t len)
{
	uint32_t max = m->st.max ? m->st.max : MSG_STORE_MAX;

	if (len > max - m->st.used - m->st.charged)
		return false;
	m->st.charged += (uint32_t)len;
	return true;
}

/* Resets a message to empty (no headers, hdr_idx all -1).  The message
 * must have been zeroed or msg_init()ed once. */
void msg_reset(struct http_msg *m);

/* Makes room in the field table for one more field (hdrs[nhdrs]); false
 * out of memory or past HTTP_MAX_HDRS + HTTP_HDRS_ADDED fields. */
bool msg_hdr_grow(struct http_msg *m);
static inline bool msg_hdr_reserve(struct http_msg *m)
{
	return (m->hdrs && m->nhdrs < m->hdrs_cap) || msg_hdr_grow(m);
}

/* Returns the first header with this id, or NULL. */
static inline struct http_hdr *msg_hdr_by_id(struct http_msg *m, enum http_hdr_id id)
{
	int i = m->hdr_idx[id];
	return i < 0 ? (struct http_hdr *)0 : &m->hdrs[i];
}

/* Finds the next live header named `name` (case-insensitive) at or after
 * index *pos; returns it and sets *pos past it, or returns NULL. */
struct http_hdr *msg_hdr_find(struct http_msg *m, struct slice name, int *pos);

/* Appends a header.  Both slices must outlive the message (the stream's
 * arena owns them).  Returns -1 if the header table is full. */
int msg_hdr_add(struct http_msg *m, struct slice name, struct slice value);

/* msg_hdr_add() for a name whose id the caller resolved once (at config
 * load) with msg_hdr_id(): nothing is compared per call. */
int msg_hdr_add_id(struct http_msg *m, struct slice name, struct slice value,
		   enum http_hdr_id id);

/* Marks every header with this id deleted. */
void msg_hdr_del_id(struct http_msg *m, enum http_hdr_id id);

/* Marks every header named `name` deleted (case-insensitive). */
void msg_hdr_del(struct http_msg *m, struct slice name);

/* msg_hdr_del() with the name's id resolved once (msg_hdr_id()). */
void msg_hdr_del_named(struct http_msg *m, struct slice name, enum http_hdr_id id);

/* Maps a lowercase-insensitive field name to its id (HDR_OTHER if unknown). */
enum http_hdr_id msg_hdr_id(struct slice name);

/* Maps a method token to enum http_meth. */
enum http_meth msg_meth(struct slice method);

/* Safe and idempotent methods (RFC 9110 9.2.1/9.2.2) - retries depend on it. */
bool msg_meth_idempotent(enum http_meth m);

#endif
