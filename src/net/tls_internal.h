/*
 * tls_internal.h - what net/tls.c (handshake callbacks, transport) and
 * net/tls_load.c (certificates, contexts and OCSP at load) share: the
 * defaults, the runtime state the load builds and handshakes read, and
 * the few functions one file calls in the other.  Nothing outside
 * src/net/tls*.c includes this; the public face is tls.h.
 */
#ifndef GH_NET_TLS_INTERNAL_H
#define GH_NET_TLS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/ssl.h>

/* TLS 1.2 suites: ECDHE only (forward secrecy), AEAD only. */
#define TLS_DEFAULT_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_GROUPS "X25519:P-256:P-384"
#define TLS_SESSION_TIMEOUT_S 300     /* session cache entries and tickets */
#define TLS_SESSION_CACHE_SIZE 20480  /* per bind */
#define TLS_MAX_OCSP_SIZE (1 << 20)

/* ---- runtime state built at load ------------------------------------------ */

/* The OCSP response stapled for one certificate.  Handshakes copy it
 * under `lock`; it is replaced when the file changes (tls_ocsp_refresh). */
struct tls_ocsp {
	pthread_mutex_t lock;        /* guards der, len, expires */
	unsigned char *der;          /* DER response stapled as is */
	size_t len;
	time_t expires;              /* its nextUpdate (0: none given) */
	char *path;                  /* the file, re-read when it changes */
	struct stat st;              /* identity of what was last read (or tried) */
	uint32_t check_ms;           /* how often to look at the file; 0 never */
	_Atomic uint64_t next_check; /* loop_clock_ms() of the next look */
	pthread_mutex_t refresh;     /* one thread looks at a time (trylock) */
};

struct tls_cert_rt {
	SSL_CTX *ctx;
	char *file;                  /* the certificate file, for messages */
	struct tls_ocsp *ocsp;       /* NULL: nothing to staple */
};

struct tls_name {
	char *name;                  /* lowercase; for wildcards the part after "*." */
	int cert;                    /* index in certs[] */
};

struct tls_bind_rt {
	struct tls_cert_rt *certs;   /* [0] is the default */
	int ncerts;
	struct tls_name *exact, *wild;
	int nexact, nwild;
	unsigned char alpn[64];      /* wire format: length-prefixed names */
	unsigned alpn_len;
};

struct tls_server_rt {
	SSL_CTX *ctx;
	pthread_mutex_t lock;
	SSL_SESSION *sess;           /* the last session the server gave us */
};

/* ---- tls.c ----------------------------------------------------------------- */

/* Process-wide setup (ex_data indexes, ticket key period), done once;
 * tls_bind_load() and tls_server_load() call it before building a context. */
void tls_init(void);

/* The reason of OpenSSL's most recent error ("no start line"), and clears
 * the queue. */
const char *tls_err_reason(char *buf, size_t len);

/* Handshake callbacks, given to the contexts at load. */
int tls_ticket_cb(SSL *ssl, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *ectx,
		  EVP_MAC_CTX *hctx, int enc);
int tls_sni_cb(SSL *ssl, int *alert, void *arg);
int tls_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		const unsigned char *in, unsigned int inlen, void *arg);
int tls_ocsp_cb(SSL *ssl, void *arg);
int tls_new_session_cb(SSL *ssl, SSL_SESSION *sess);

/* ---- tls_load.c ------------------------------------------------------------ */

/* Re-reads cr's OCSP file if it changed (the staple callback, every
 * tune.ocsp_check; tls_ocsp_reload() on SIGHUP). */
void tls_ocsp_refresh(struct tls_cert_rt *cr, uint64_t now_ms);

#endif
