/*
 * tls_load.c - TLS at configuration load (see tls.h): certificates, keys,
 * CAs and OCSP responses read and checked, and the SSL_CTXs built from
 * them, on the main thread from the config checker, which gets every
 * problem through struct tls_diag.  The handshake callbacks these contexts
 * are given and the transport that uses them are in tls.c; what the two
 * files share is in tls_internal.h.
 *
 * Where things are:
 *   binds        tls_bind_load(): per certificate one SSL_CTX (the first is
 *                the default one: SSL_new() starts there, and it keeps the
 *                session cache and the ticket callback for the whole bind;
 *                the SNI callback only swaps the certificate context in),
 *                the SNI name tables, OCSP responses, the client CA store.
 *   servers      tls_server_load(): a client SSL_CTX per TLS server.
 *   OCSP         read and checked at load; later re-read when the file
 *                changes, by tls_ocsp_refresh() on whichever worker staples
 *                first after tune.ocsp_check, or on SIGHUP (tls_ocsp_reload()).
 *
 * Defaults (nothing to configure for a safe setup): TLS 1.2 and 1.3,
 * ECDHE key exchange only (AEAD suites for 1.2, groups X25519/P-256/P-384),
 * server cipher preference, no compression, no renegotiation, no 0-RTT,
 * ALPN from the bind (config/cfg_tls.c: "h2,http/1.1" for an http bind of
 * proto auto, "http/1.1" for h1, "h2" for h2, none in tcp mode; http/1.1
 * towards servers), session tickets and a server-side session cache (5 min).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/log.h"
#include "core/loop.h"
#include "net/tls.h"
#include "net/tls_internal.h"

/* ---- diagnostics at load ------------------------------------------------------ */

static void diag(const struct tls_diag *d, bool warning, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void diag(const struct tls_diag *d, bool warning, int line, int col, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->report(d->arg, warning, line, col, msg);
}

static char *path_join(const char *base, const char *name)
{
	char *out;
	if (name[0] == '/' || !base || !base[0])
		return strdup(name);
	if (asprintf(&out, "%s/%s", base, name) < 0)
		return NULL;
	return out;
}

/* NULL if path is a readable regular file, else why not. */
static const char *file_problem(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return strerror(errno);
	if (S_ISDIR(st.st_mode))
		return "is a directory";
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if (access(path, R_OK) < 0)
		return strerror(errno);
	return NULL;
}

static void asn1_time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;
	if (t && ASN1_TIME_to_tm(t, &tm))
		strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
	else
		snprintf(buf, len, "(unknown date)");
}

static int no_password_cb(char *buf, int size, int rwflag, void *u)
{
	return -1;   /* never prompt: an encrypted key is a load error */
}

/* ---- bind loading ------------------------------------------------------------------ */

/* One certificate to load: from a `cert` line or found in `certs DIR`. */
struct cert_spec {
	char *cert, *key, *ocsp;     /* resolved paths (owned); key/ocsp may be NULL */
	int line, col, key_line, key_col, ocsp_line, ocsp_col;
	bool ocsp_optional;          /* found next to a directory entry: may be absent */
};

static void cert_specs_free(struct cert_spec *v, int n)
{
	for (int i = 0; i < n; i++) {
		free(v[i].cert);
		free(v[i].key);
		free(v[i].ocsp);
	}
	free(v);
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n > m && strcmp(s + n - m, suf) == 0;
}

static int cert_dirent_filter(const struct dirent *e)
{
	return e->d_name[0] != '.' &&
	       (has_suffix(e->d_name, ".pem") || has_suffix(e->d_name, ".crt"));
}

/* Adds the certificates of `certs DIR`: NAME.pem or NAME.crt (sorted by
 * name), each with its key inside or in NAME.key, and NAME.pem.ocsp (or
 * NAME.crt.ocsp) stapled if present. */
static int cert_specs_from_dir(const struct cfg_tls_bind *tb, const char *base,
			       const struct tls_diag *d, struct cert_spec **v, int *n)
{
	char *dir = path_join(base, tb->certs_dir);
	struct dirent **ents = NULL;
	int rc = -1;

	if (!dir) {
		diag(d, false, tb->dir_line, tb->dir_col, "out of memory");
		return -1;
	}
	int k = scandir(dir, &ents, cert_dirent_filter, alphasort);
	if (k < 0) {
		diag(d, false, tb->dir_line, tb->dir_col, "cannot read certificate directory '%s': %s",
		     dir, strerror(errno));
		free(dir);
		return -1;
	}
	if (k == 0) {
		diag(d, false, tb->dir_line, tb->dir_col,
		     "no certificate in directory '%s'; expected NAME.pem or NAME.crt files", dir);
		goto out;
	}
	struct cert_spec *nv = realloc(*v, (size_t)(*n + k) * sizeof(*nv));
	if (!nv) {
		diag(d, false, tb->dir_line, tb->dir_col, "out of memory");
		goto out;
	}
	*v = nv;
	for (int i = 0; i < k; i++) {
		struct cert_spec *s = &nv[*n];
		const char *fn = ents[i]->d_name;
		size_t stem = strlen(fn) - 4;
		memset(s, 0, sizeof(*s));
		s->line = s->key_line = s->ocsp_line = tb->dir_line;
		s->col = s->key_col = s->ocsp_col = tb->dir_col;
		s->ocsp_optional = true;
		if (asprintf(&s->cert, "%s/%s", dir, fn) < 0) {
			s->cert = NULL;
			diag(d, false, tb->dir_line, tb->dir_col, "out of memory");
			goto out;
		}
		(*n)++;
		char *key = NULL, *ocsp = NULL;
		if (asprintf(&key, "%s/%.*s.key", dir, (int)stem, fn) >= 0 && access(key, F_OK) == 0)
			s->key = key;
		else
			free(key);
		if (asprintf(&ocsp, "%s.ocsp", s->cert) >= 0 && access(ocsp, F_OK) == 0)
			s->ocsp = ocsp;
		else
			free(ocsp);
	}
	rc = 0;
out:
	for (int i = 0; i < k; i++)
		free(ents[i]);
	free(ents);
	free(dir);
	return rc;
}

/* The settings every context of a bind shares.  Returns NULL after
 * reporting. */
static SSL_CTX *bind_ctx_new(const struct cfg_tls_bind *tb, struct tls_bind_rt *rt,
			     X509_STORE *ca_store, STACK_OF(X509_NAME) *ca_names,
			     const struct tls_diag *d, bool report_lists)
{
	char why[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		diag(d, false, tb->line, tb->col, "cannot create a TLS context: %s",
		     tls_err_reason(why, sizeof(why)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, tb->min_version ? tb->min_version : TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, tb->max_version ? tb->max_version : TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE |
					 SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Partial writes: SSL_write returns after each record, so the
	 * transport can report how far it got when the socket fills up.
	 * Released buffers: an idle keep-alive connection holds none. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	/* Read whole socket contents into OpenSSL's buffer, not a record
	 * header and then its body: one read() where there were two. */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_default_passwd_cb(ctx, no_password_cb);
	SSL_CTX_set_max_early_data(ctx, 0);

	bool bad = false;
	if (!SSL_CTX_set_cipher_list(ctx, tb->ciphers ? tb->ciphers : TLS_DEFAULT_CIPHERS)) {
		ERR_clear_error();
		if (report_lists)
			diag(d, false, tb->line, tb->col,
			     "invalid 'ciphers %s': no cipher OpenSSL knows; expected a list such "
			     "as ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
			     tb->ciphers);
		bad = true;
	} else {
		/* ECDHE only: a TLS 1.2 suite with RSA or DHE key exchange
		 * has no forward secrecy (or costs a DH group to configure). */
		STACK_OF(SSL_CIPHER) *cl = SSL_CTX_get_ciphers(ctx);
		for (int i = 0; i < sk_SSL_CIPHER_num(cl); i++) {
			const SSL_CIPHER *c = sk_SSL_CIPHER_value(cl, i);
			int kx = SSL_CIPHER_get_kx_nid(c);
			if (kx == NID_kx_ecdhe || kx == NID_kx_any)   /* any: TLS 1.3 */
				continue;
			if (report_lists)
				diag(d, false, tb->line, tb->col,
				     "cipher %s in 'ciphers' does not use ECDHE key exchange; "
				     "expected ECDHE suites only (e.g. ECDHE-RSA-AES128-GCM-SHA256)",
				     SSL_CIPHER_get_name(c));
			bad = true;
			break;
		}
	}
	if (tb->ciphersuites && !SSL_CTX_set_ciphersuites(ctx, tb->ciphersuites)) {
		ERR_clear_error();
		if (report_lists)
			diag(d, false, tb->line, tb->col,
			     "invalid 'ciphersuites %s'; expected TLS 1.3 suites such as "
			     "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256",
			     tb->ciphersuites);
		bad = true;
	}
	if (!SSL_CTX_set1_groups_list(ctx, TLS_GROUPS)) {
		diag(d, false, tb->line, tb->col, "cannot set key exchange groups: %s",
		     tls_err_reason(why, sizeof(why)));
		bad = true;
	}

	/* Sessions: the cache and the tickets of the first context serve
	 * the whole bind (OpenSSL keeps using the context SSL_new() got). */
	char sid[32];
	int sidlen = snprintf(sid, sizeof(sid), "gh:%d:%d:%d", tb->line, tb->col, (int)tb->verify);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)sid,
				       (unsigned)(sidlen < (int)sizeof(sid) ? sidlen : 31));
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ctx, TLS_SESSION_CACHE_SIZE);
	SSL_CTX_set_timeout(ctx, TLS_SESSION_TIMEOUT_S);
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tls_ticket_cb);

	SSL_CTX_set_tlsext_servername_callback(ctx, tls_sni_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx, rt);
	SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_cb, rt);

	if (tb->verify != TLS_VERIFY_NONE) {
		SSL_CTX_set_verify(ctx,
				   SSL_VERIFY_PEER | (tb->verify == TLS_VERIFY_REQUIRED ?
							      SSL_VERIFY_FAIL_IF_NO_PEER_CERT :
							      0),
				   NULL);
		if (ca_store)
			SSL_CTX_set1_cert_store(ctx, ca_store);
		STACK_OF(X509_NAME) *dup = ca_names ? SSL_dup_CA_list(ca_names) : NULL;
		if (dup)
			SSL_CTX_set_client_CA_list(ctx, dup);
	}
	if (bad) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int add_name(struct tls_bind_rt *rt, const char *s, size_t len, int cert)
{
	bool wild = len > 2 && s[0] == '*' && s[1] == '.';
	if (wild) {
		s += 2;
		len -= 2;
	}
	if (len == 0 || memchr(s, '\0', len) || memchr(s, '*', len))
		return 0;   /* not a usable host name (partial wildcards are ignored) */
	struct tls_name **v = wild ? &rt->wild : &rt->exact;
	int *n = wild ? &rt->nwild : &rt->nexact;
	struct tls_name *nv = realloc(*v, (size_t)(*n + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	*v = nv;
	char *name = strndup(s, len);
	if (!name)
		return -1;
	for (char *p = name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	nv[*n].name = name;
	nv[*n].cert = cert;
	(*n)++;
	return 0;
}

/* The DNS names of a certificate (subjectAltName, else the CN) go into the
 * SNI tables.  Returns how many, or -1 when out of memory. */
static int add_cert_names(struct tls_bind_rt *rt, X509 *x, int cert)
{
	int count = 0;
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		if (g->type != GEN_DNS)
			continue;
		const ASN1_IA5STRING *s = g->d.dNSName;
		if (add_name(rt, (const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s),
			     cert) < 0) {
			GENERAL_NAMES_free(sans);
			return -1;
		}
		count++;
	}
	GENERAL_NAMES_free(sans);
	if (count)
		return count;
	const X509_NAME *subj = X509_get_subject_name(x);
	int pos = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	if (pos >= 0) {
		const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, pos));
		if (add_name(rt, (const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s),
			     cert) < 0)
			return -1;
		count++;
	}
	return count;
}

static int name_cmp(const void *a, const void *b)
{
	const struct tls_name *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : x->cert - y->cert;
}

/* Keeps, for each name, the certificate listed first. */
static void names_sort_dedup(struct tls_name *v, int *n)
{
	if (*n == 0)
		return;
	qsort(v, (size_t)*n, sizeof(*v), name_cmp);
	int o = 1;
	for (int i = 1; i < *n; i++) {
		if (strcmp(v[i].name, v[o - 1].name) == 0) {
			free(v[i].name);
			continue;
		}
		v[o++] = v[i];
	}
	*n = o;
}

static unsigned char *read_small_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	unsigned char *buf = malloc(max);
	size_t n = buf ? fread(buf, 1, max, f) : 0;
	bool too_big = n == max;
	fclose(f);
	if (!buf || too_big || n == 0) {
		free(buf);
		errno = too_big ? EFBIG : (buf ? ENODATA : ENOMEM);
		return NULL;
	}
	*len = n;
	return buf;
}

/* The issuer of the leaf among the chain the certificate file brought. */
static X509 *find_issuer(SSL_CTX *ctx, X509 *leaf)
{
	STACK_OF(X509) *chain = NULL;
	SSL_CTX_get0_chain_certs(ctx, &chain);
	for (int i = 0; chain && i < sk_X509_num(chain); i++)
		if (X509_check_issued(sk_X509_value(chain, i), leaf) == X509_V_OK)
			return sk_X509_value(chain, i);
	return NULL;
}

/*
 * Reads and checks the OCSP response in `path` for certificate cr: an
 * unusable file is an error (-1); a response that is stale, says REVOKED
 * or cannot be matched to the certificate is a warning.  Problems go to d
 * at (line, col).  On success out, outlen and expires hold the response.
 */
static int ocsp_read(struct tls_cert_rt *cr, const char *path, const struct tls_diag *d, int line,
		     int col, unsigned char **out, size_t *outlen, time_t *expires)
{
	const char *why = file_problem(path);
	if (why) {
		diag(d, false, line, col, "cannot read OCSP response '%s': %s", path, why);
		return -1;
	}
	size_t len = 0;
	unsigned char *der = read_small_file(path, TLS_MAX_OCSP_SIZE, &len);
	if (!der) {
		diag(d, false, line, col, "cannot read OCSP response '%s': %s", path, strerror(errno));
		return -1;
	}
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	OCSP_BASICRESP *bs = NULL;
	OCSP_CERTID *id = NULL;
	int rc = -1;

	*expires = 0;
	if (!resp) {
		diag(d, false, line, col,
		     "'%s' is not an OCSP response; expected a DER file (openssl ocsp -respout)", path);
		goto out;
	}
	int st = OCSP_response_status(resp);
	if (st != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		diag(d, false, line, col, "OCSP response '%s' has status '%s'; expected 'successful'",
		     path, OCSP_response_status_str(st));
		goto out;
	}
	bs = OCSP_response_get1_basic(resp);
	X509 *leaf = SSL_CTX_get0_certificate(cr->ctx);
	X509 *issuer = leaf ? find_issuer(cr->ctx, leaf) : NULL;
	if (!bs) {
		diag(d, false, line, col, "OCSP response '%s' has no basic response", path);
		goto out;
	}
	if (!issuer) {
		diag(d, true, line, col,
		     "cannot match OCSP response '%s' to certificate '%s': its issuer is not in "
		     "the file's chain; stapled unchecked",
		     path, cr->file);
	} else {
		int status, reason;
		ASN1_GENERALIZEDTIME *rev, *thisupd, *nextupd;
		id = OCSP_cert_to_id(NULL, leaf, issuer);
		if (!id || !OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd)) {
			diag(d, false, line, col, "OCSP response '%s' is not about certificate '%s'",
			     path, cr->file);
			goto out;
		}
		if (status == V_OCSP_CERTSTATUS_REVOKED)
			diag(d, true, line, col, "OCSP response '%s' says certificate '%s' is REVOKED",
			     path, cr->file);
		if (nextupd) {
			struct tm tm;
			char when[64];
			asn1_time_text(nextupd, when, sizeof(when));
			if (ASN1_TIME_to_tm(nextupd, &tm))
				*expires = timegm(&tm);
			if (X509_cmp_current_time(nextupd) < 0)
				diag(d, true, line, col,
				     "OCSP response '%s' expired on %s; not stapled until it is "
				     "replaced",
				     path, when);
		}
	}
	*out = der;
	*outlen = len;
	der = NULL;
	rc = 0;
out:
	ERR_clear_error();
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	free(der);
	return rc;
}

static void ocsp_free(struct tls_ocsp *o)
{
	if (!o)
		return;
	pthread_mutex_destroy(&o->lock);
	pthread_mutex_destroy(&o->refresh);
	free(o->der);
	free(o->path);
	free(o);
}

/* Loads the OCSP response to staple for certificate cr (tls_bind_load). */
static int load_ocsp(struct tls_cert_rt *cr, const struct cert_spec *s, uint32_t check_ms,
		     const struct tls_diag *d)
{
	struct tls_ocsp *o = calloc(1, sizeof(*o));
	if (!o || !(o->path = strdup(s->ocsp))) {
		free(o);
		diag(d, false, s->ocsp_line, s->ocsp_col, "out of memory");
		return -1;
	}
	pthread_mutex_init(&o->lock, NULL);
	pthread_mutex_init(&o->refresh, NULL);
	/* The identity first: a file replaced while we read it is re-read. */
	if (stat(s->ocsp, &o->st) < 0)
		memset(&o->st, 0, sizeof(o->st));
	if (ocsp_read(cr, s->ocsp, d, s->ocsp_line, s->ocsp_col, &o->der, &o->len, &o->expires) < 0) {
		ocsp_free(o);
		return -1;
	}
	o->check_ms = check_ms;
	atomic_store(&o->next_check, loop_clock_ms() + check_ms);
	cr->ocsp = o;
	SSL_CTX_set_tlsext_status_cb(cr->ctx, tls_ocsp_cb);
	SSL_CTX_set_tlsext_status_arg(cr->ctx, cr);
	return 0;
}

/* At run time, problems with a new OCSP file go to the log. */
static void ocsp_log_report(void *arg, bool warning, int line, int col, const char *msg)
{
	(void)arg, (void)line, (void)col;
	if (warning)
		log_warn("%s", msg);
	else
		log_err("%s; still stapling the previous response", msg);
}

void tls_ocsp_reload(const struct cfg *cfg)
{
	uint64_t now = loop_clock_ms();

	for (int f = 0; f < cfg->nfrontends; f++)
		for (int b = 0; b < cfg->frontends[f]->nbinds; b++) {
			const struct cfg_tls_bind *tb = cfg->frontends[f]->binds[b].tls;
			struct tls_bind_rt *rt = tb ? tb->rt : NULL;
			for (int i = 0; rt && i < rt->ncerts; i++)
				if (rt->certs[i].ocsp)
					tls_ocsp_refresh(&rt->certs[i], now);
		}
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * Every tune.ocsp_check, the first handshake that wants a staple looks at
 * the OCSP file; if it changed (an updater such as a cron job with `openssl
 * ocsp` wrote a fresh one), it is read, checked like at load, and replaces
 * the response.  A bad file is logged once and the old response kept.
 * One small file read a minute at most per certificate, on whichever
 * worker gets there first; the others go on without waiting.
 */
void tls_ocsp_refresh(struct tls_cert_rt *cr, uint64_t now_ms)
{
	struct tls_ocsp *o = cr->ocsp;
	struct stat st;

	if (pthread_mutex_trylock(&o->refresh) != 0)
		return;
	atomic_store_explicit(&o->next_check, now_ms + o->check_ms, memory_order_relaxed);
	if (stat(o->path, &st) < 0) {
		if (o->st.st_ino != 0)
			log_err("OCSP response '%s': %s; still stapling the previous response",
				o->path, strerror(errno));
		memset(&o->st, 0, sizeof(o->st));
	} else if (!same_file(&st, &o->st)) {
		struct tls_diag d = { ocsp_log_report, NULL };
		unsigned char *der = NULL;
		size_t len = 0;
		time_t expires = 0;
		o->st = st;
		if (ocsp_read(cr, o->path, &d, 0, 0, &der, &len, &expires) == 0) {
			pthread_mutex_lock(&o->lock);
			unsigned char *old = o->der;
			o->der = der;
			o->len = len;
			o->expires = expires;
			pthread_mutex_unlock(&o->lock);
			free(old);
			log_info("OCSP response '%s' reloaded for certificate '%s'", o->path, cr->file);
		}
	}
	pthread_mutex_unlock(&o->refresh);
}

static void check_validity(X509 *x, const struct cert_spec *s, const struct tls_diag *d)
{
	char when[64];
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
		asn1_time_text(X509_get0_notAfter(x), when, sizeof(when));
		diag(d, true, s->line, s->col, "certificate '%s' expired on %s", s->cert, when);
	} else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
		asn1_time_text(X509_get0_notBefore(x), when, sizeof(when));
		diag(d, true, s->line, s->col, "certificate '%s' is not valid before %s", s->cert,
		     when);
	}
}

/* Loads one certificate with its key into a fresh context. */
static int load_cert(const struct cfg_tls_bind *tb, struct tls_bind_rt *rt, int idx,
		     const struct cert_spec *s, X509_STORE *ca_store, STACK_OF(X509_NAME) *ca_names,
		     const struct tls_diag *d)
{
	struct tls_cert_rt *cr = &rt->certs[idx];
	char why[256];
	const char *keyfile = s->key ? s->key : s->cert;
	const char *prob;

	cr->file = strdup(s->cert);
	if ((prob = file_problem(s->cert))) {
		diag(d, false, s->line, s->col, "cannot read certificate '%s': %s", s->cert, prob);
		return -1;
	}
	if (s->key && (prob = file_problem(s->key))) {
		diag(d, false, s->key_line, s->key_col, "cannot read key '%s': %s", s->key, prob);
		return -1;
	}
	cr->ctx = bind_ctx_new(tb, rt, ca_store, ca_names, d, false);
	if (!cr->ctx)
		return -1;
	if (!SSL_CTX_use_certificate_chain_file(cr->ctx, s->cert)) {
		diag(d, false, s->line, s->col,
		     "cannot load certificate '%s': %s; expected PEM (BEGIN CERTIFICATE)", s->cert,
		     tls_err_reason(why, sizeof(why)));
		return -1;
	}
	if (!SSL_CTX_use_PrivateKey_file(cr->ctx, keyfile, SSL_FILETYPE_PEM)) {
		unsigned long e = ERR_peek_last_error();
		tls_err_reason(why, sizeof(why));
		if (ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
			diag(d, false, s->key ? s->key_line : s->line, s->key ? s->key_col : s->col,
			     "private key '%s' does not match certificate '%s'", keyfile, s->cert);
		else if (s->key)
			diag(d, false, s->key_line, s->key_col,
			     "cannot load private key '%s': %s; expected an unencrypted PEM key",
			     s->key, why);
		else
			diag(d, false, s->line, s->col,
			     "cannot load a private key from '%s': %s; expected the key in the "
			     "same PEM file, or 'key FILE' after the cert",
			     s->cert, why);
		return -1;
	}
	if (!SSL_CTX_check_private_key(cr->ctx)) {
		ERR_clear_error();
		diag(d, false, s->key ? s->key_line : s->line, s->key ? s->key_col : s->col,
		     "private key '%s' does not match certificate '%s'", keyfile, s->cert);
		return -1;
	}
	X509 *x = SSL_CTX_get0_certificate(cr->ctx);
	check_validity(x, s, d);
	int n = add_cert_names(rt, x, idx);
	if (n < 0) {
		diag(d, false, s->line, s->col, "out of memory");
		return -1;
	}
	if (n == 0 && idx > 0)
		diag(d, true, s->line, s->col,
		     "certificate '%s' has no DNS name (subjectAltName or CN); only the default "
		     "certificate is useful without one",
		     s->cert);
	if (s->ocsp && load_ocsp(cr, s, tb->ocsp_check_ms, d) < 0)
		return -1;
	return 0;
}

static int alpn_wire(struct tls_bind_rt *rt, const char *list)
{
	unsigned o = 0;
	/* NULL only for a bind the config checker did not see (it sets the
	 * proto's default): the list gatehouse always spoke */
	const char *p = list ? list : "http/1.1";
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0 || n > 255 || o + 1 + n > sizeof(rt->alpn))
			return -1;
		rt->alpn[o++] = (unsigned char)n;
		memcpy(rt->alpn + o, p, n);
		o += (unsigned)n;
		p += n + (e ? 1 : 0);
	}
	rt->alpn_len = o;
	return 0;
}

static void bind_rt_free(struct tls_bind_rt *rt)
{
	if (!rt)
		return;
	for (int i = 0; i < rt->ncerts; i++) {
		SSL_CTX_free(rt->certs[i].ctx);
		free(rt->certs[i].file);
		ocsp_free(rt->certs[i].ocsp);
	}
	free(rt->certs);
	for (int i = 0; i < rt->nexact; i++)
		free(rt->exact[i].name);
	for (int i = 0; i < rt->nwild; i++)
		free(rt->wild[i].name);
	free(rt->exact);
	free(rt->wild);
	free(rt);
}

int tls_bind_load(struct cfg_tls_bind *tb, const char *base, const struct tls_diag *d)
{
	struct tls_bind_rt *rt = calloc(1, sizeof(*rt));
	struct cert_spec *specs = NULL;
	X509_STORE *ca_store = NULL;
	STACK_OF(X509_NAME) *ca_names = NULL;
	int nspecs = 0, rc = 0;
	char why[256];

	tls_init();
	tls_bind_unload(tb);
	if (!rt || (tb->ncerts && !(specs = calloc((size_t)tb->ncerts, sizeof(*specs))))) {
		diag(d, false, tb->line, tb->col, "out of memory");
		free(rt);
		return -1;
	}
	if (alpn_wire(rt, tb->alpn) < 0) {
		diag(d, false, tb->line, tb->col, "invalid alpn list '%s'", tb->alpn);
		rc = -1;
	}
	for (int i = 0; i < tb->ncerts; i++) {
		const struct cfg_tls_cert *c = &tb->certs[i];
		struct cert_spec *s = &specs[nspecs++];
		s->cert = path_join(base, c->cert);
		s->key = c->key ? path_join(base, c->key) : NULL;
		s->ocsp = c->ocsp ? path_join(base, c->ocsp) : NULL;
		s->line = c->line, s->col = c->col;
		s->key_line = c->key_line, s->key_col = c->key_col;
		s->ocsp_line = c->ocsp_line, s->ocsp_col = c->ocsp_col;
		if (!s->cert || (c->key && !s->key) || (c->ocsp && !s->ocsp)) {
			diag(d, false, c->line, c->col, "out of memory");
			rc = -1;
		}
	}
	if (tb->certs_dir && cert_specs_from_dir(tb, base, d, &specs, &nspecs) < 0)
		rc = -1;

	if (tb->verify != TLS_VERIFY_NONE && tb->ca) {
		char *ca = path_join(base, tb->ca);
		const char *prob = ca ? file_problem(ca) : "out of memory";
		if (prob) {
			diag(d, false, tb->ca_line, tb->ca_col, "cannot read CA file '%s': %s",
			     ca ? ca : tb->ca, prob);
			rc = -1;
		} else if (!(ca_store = X509_STORE_new()) || !X509_STORE_load_file(ca_store, ca) ||
			   !(ca_names = SSL_load_client_CA_file(ca))) {
			diag(d, false, tb->ca_line, tb->ca_col,
			     "cannot load CA file '%s': %s; expected PEM certificates", ca,
			     tls_err_reason(why, sizeof(why)));
			rc = -1;
		}
		free(ca);
	}

	/* The cipher lists are checked once, on a context of their own, so
	 * a bad list is one message rather than one per certificate. */
	SSL_CTX *probe = bind_ctx_new(tb, rt, ca_store, ca_names, d, true);
	if (!probe)
		rc = -1;
	SSL_CTX_free(probe);

	if (rc == 0 && nspecs > 0) {
		rt->certs = calloc((size_t)nspecs, sizeof(*rt->certs));
		if (!rt->certs) {
			diag(d, false, tb->line, tb->col, "out of memory");
			rc = -1;
		}
		for (int i = 0; rt->certs && i < nspecs; i++) {
			rt->ncerts++;
			if (load_cert(tb, rt, i, &specs[i], ca_store, ca_names, d) < 0)
				rc = -1;
		}
		names_sort_dedup(rt->exact, &rt->nexact);
		names_sort_dedup(rt->wild, &rt->nwild);
	}
	cert_specs_free(specs, nspecs);
	X509_STORE_free(ca_store);   /* the contexts hold their own reference */
	sk_X509_NAME_pop_free(ca_names, X509_NAME_free);
	ERR_clear_error();
	if (rc < 0 || rt->ncerts == 0) {
		bind_rt_free(rt);
		return -1;
	}
	tb->rt = rt;
	return 0;
}

void tls_bind_unload(struct cfg_tls_bind *tb)
{
	if (!tb)
		return;
	bind_rt_free(tb->rt);
	tb->rt = NULL;
}

/* ---- server (client-side) contexts ------------------------------------------------- */

int tls_server_load(struct cfg_tls_server *ts, const char *base, const struct tls_diag *d)
{
	char why[256];
	struct tls_server_rt *rt = calloc(1, sizeof(*rt));
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	tls_init();
	tls_server_unload(ts);
	if (!rt || !ctx) {
		diag(d, false, ts->line, ts->col, "cannot create a TLS context: %s",
		     tls_err_reason(why, sizeof(why)));
		free(rt);
		SSL_CTX_free(ctx);
		return -1;
	}
	pthread_mutex_init(&rt->lock, NULL);
	rt->ctx = ctx;
	SSL_CTX_set_app_data(ctx, rt);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	/* Read whole socket contents into OpenSSL's buffer, not a record
	 * header and then its body: one read() where there were two. */
	SSL_CTX_set_read_ahead(ctx, 1);
	if (ts->h2)   /* `proto h2`: the server must agree to speak it */
		SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x02h2", 3);
	else
		SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x08http/1.1", 9);
	/* Resumption towards the server: the newest session it gave us is
	 * offered by the next connection (any thread). */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, tls_new_session_cb);

	int rc = 0;
	if (ts->verify == TLS_VERIFY_REQUIRED) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (ts->ca) {
			char *ca = path_join(base, ts->ca);
			const char *prob = ca ? file_problem(ca) : "out of memory";
			if (prob) {
				diag(d, false, ts->ca_line, ts->ca_col, "cannot read CA file '%s': %s",
				     ca ? ca : ts->ca, prob);
				rc = -1;
			} else if (!SSL_CTX_load_verify_file(ctx, ca)) {
				diag(d, false, ts->ca_line, ts->ca_col,
				     "cannot load CA file '%s': %s; expected PEM certificates", ca,
				     tls_err_reason(why, sizeof(why)));
				rc = -1;
			}
			free(ca);
		} else if (!SSL_CTX_set_default_verify_paths(ctx)) {
			diag(d, false, ts->line, ts->col, "cannot load the system CA store: %s",
			     tls_err_reason(why, sizeof(why)));
			rc = -1;
		}
		if (ts->sni) {
			X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(ctx);
			X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			if (!X509_VERIFY_PARAM_set1_host(vp, ts->sni, 0)) {
				diag(d, false, ts->line, ts->col, "invalid sni '%s'", ts->sni);
				rc = -1;
			}
		}
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	if (ts->cert) {
		char *cert = path_join(base, ts->cert);
		const char *prob = cert ? file_problem(cert) : "out of memory";
		SSL_CTX_set_default_passwd_cb(ctx, no_password_cb);
		if (prob) {
			diag(d, false, ts->cert_line, ts->cert_col, "cannot read certificate '%s': %s",
			     cert ? cert : ts->cert, prob);
			rc = -1;
		} else if (!SSL_CTX_use_certificate_chain_file(ctx, cert) ||
			   !SSL_CTX_use_PrivateKey_file(ctx, cert, SSL_FILETYPE_PEM) ||
			   !SSL_CTX_check_private_key(ctx)) {
			diag(d, false, ts->cert_line, ts->cert_col,
			     "cannot load certificate and key from '%s': %s; expected one PEM file "
			     "with both",
			     cert, tls_err_reason(why, sizeof(why)));
			rc = -1;
		}
		free(cert);
	}
	ERR_clear_error();
	ts->rt = rt;
	if (rc < 0)
		tls_server_unload(ts);
	return rc;
}

void tls_server_unload(struct cfg_tls_server *ts)
{
	struct tls_server_rt *rt = ts ? ts->rt : NULL;
	if (!rt)
		return;
	SSL_SESSION_free(rt->sess);
	SSL_CTX_free(rt->ctx);
	pthread_mutex_destroy(&rt->lock);
	free(rt);
	ts->rt = NULL;
}
