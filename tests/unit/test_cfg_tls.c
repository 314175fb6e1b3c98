/*
 * test_cfg_tls.c - unit tests of TLS configuration and the TLS transport:
 * bind and server options (values, defaults, every error with its
 * FILE:LINE:COL), certificate/key/CA/OCSP loading errors naming the file,
 * the session ticket key ring with a fake clock, and both ends of xprt_tls
 * over real loopback TCP with tiny socket buffers on an edge-triggered
 * epoll, so the handshake has to wait for writability inside a read (and
 * for readability inside a write) and stalls if a readiness flag is wrong.
 *
 * Certificates are generated in-process with the OpenSSL API into a
 * temporary directory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "config/cfg.h"
#include "net/conn.h"
#include "net/tls.h"
#include "net/tls_ticket.h"
#include "unit.h"

/* ---- certificates ------------------------------------------------------------ */

static char dir[64];
static EVP_PKEY *ca_key;
static X509 *ca_cert;

static char *P(const char *name)
{
	static char bufs[8][256];
	static int i;
	char *b = bufs[i++ % 8];
	snprintf(b, 256, "%s/%s", dir, name);
	return b;
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *san, bool ca, long from_s,
		       long to_s)
{
	X509 *x = X509_new();
	X509V3_CTX v3;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(rand() & 0x7fffffff));
	X509_gmtime_adj(X509_getm_notBefore(x), from_s);
	X509_gmtime_adj(X509_getm_notAfter(x), to_s);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, ca ? n : X509_get_subject_name(ca_cert));
	X509V3_set_ctx(&v3, ca ? x : ca_cert, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
						ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (san) {
		e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	X509_sign(x, ca ? key : ca_key, EVP_sha256());
	return x;
}

/* Writes cert (+ `chain_copies` copies of the CA cert) and key to name. */
static void write_pem(const char *name, X509 *x, int chain_copies, EVP_PKEY *k)
{
	FILE *f = fopen(P(name), "w");
	PEM_write_X509(f, x);
	for (int i = 0; i < chain_copies; i++)
		PEM_write_X509(f, ca_cert);
	if (k)
		PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

static void write_key(const char *name, EVP_PKEY *k)
{
	FILE *f = fopen(P(name), "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

static void write_text(const char *name, const char *text)
{
	FILE *f = fopen(P(name), "w");
	fputs(text, f);
	fclose(f);
}

static void make_pki(void)
{
	snprintf(dir, sizeof(dir), "/tmp/gh-tls-unit-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	ca_key = EVP_EC_gen("P-256");
	ca_cert = make_cert(ca_key, "Unit CA", NULL, true, -3600, 86400);
	write_pem("ca.pem", ca_cert, 0, NULL);

	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = make_cert(k, "a.test", "DNS:a.test,DNS:alias.test", false, -3600, 86400);
	write_pem("a.pem", x, 0, k);
	/* a long chain: the server's first flight no longer fits tiny buffers */
	write_pem("a-long.pem", x, 48, k);
	X509_free(x);
	EVP_PKEY_free(k);

	k = EVP_EC_gen("P-256");
	x = make_cert(k, "b.test", "DNS:b.test", false, -3600, 86400);
	write_pem("b.crt", x, 0, NULL);
	write_key("b.key", k);
	X509_free(x);
	EVP_PKEY_free(k);

	k = EVP_EC_gen("P-256");
	x = make_cert(k, "*.wild.test", "DNS:*.wild.test", false, -3600, 86400);
	write_pem("wild.pem", x, 0, k);
	X509_free(x);
	EVP_PKEY_free(k);

	k = EVP_EC_gen("P-256");
	x = make_cert(k, "old.test", "DNS:old.test", false, -86400 * 30, -86400 * 2);
	write_pem("expired.pem", x, 0, k);
	X509_free(x);
	write_key("other.key", k);   /* matches nothing else */
	EVP_PKEY_free(k);

	k = EVP_EC_gen("P-256");
	x = make_cert(k, "alice", NULL, false, -3600, 86400);
	write_pem("alice.pem", x, 0, k);
	X509_free(x);
	EVP_PKEY_free(k);

	write_text("garbage.pem", "this is not PEM\n");
	mkdir(P("certs"), 0700);
	mkdir(P("empty"), 0700);
	x = NULL;
}

static void rm_pki(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  could not remove %s\n", dir);
	X509_free(ca_cert);
	EVP_PKEY_free(ca_key);
}

/* ---- config helpers ------------------------------------------------------------- */

static struct cfg *L(const char *text)
{
	char *errs = NULL;
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);
	if (!c)
		fprintf(stderr, "  unexpected errors:\n%s\n", errs ? errs : "(none)");
	free(errs);
	return c;
}

/* The config must fail with `want` starting one of its error lines. */
static bool ERR(const char *text, const char *want)
{
	char *errs = NULL;
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);
	bool ok = false;
	size_t n = strlen(want);

	if (c) {
		fprintf(stderr, "  config loaded but should not:\n%s\n", text);
		cfg_free(c);
		return false;
	}
	for (const char *l = errs; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, want, n) == 0)
			ok = true;
	if (!ok)
		fprintf(stderr, "  want a line starting: %s\n  got:\n%s\n", want, errs);
	free(errs);
	return ok;
}

static char cfgbuf[4096];

/* A frontend whose bind line ends with `opts`, and a plain backend. */
static const char *FE(const char *opts)
{
	snprintf(cfgbuf, sizeof(cfgbuf),
		 "frontend web {\n bind 127.0.0.1:8443 %s\n default_backend app\n}\n"
		 "backend app {\n server s 127.0.0.1:9001\n}\n",
		 opts);
	return cfgbuf;
}

/* A backend whose server line ends with `opts`. */
static const char *BE(const char *opts)
{
	snprintf(cfgbuf, sizeof(cfgbuf),
		 "frontend web {\n bind 127.0.0.1:8443\n default_backend app\n}\n"
		 "backend app {\n server s 127.0.0.1:9001 %s\n}\n",
		 opts);
	return cfgbuf;
}

static char optbuf[2048];

/* printf into one of a few rotating buffers: two F() in one call's
 * arguments (evaluated in any order) do not overwrite each other. */
static const char *F(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *F(const char *fmt, ...)
{
	static char bufs[4][2048];
	static int i;
	char *b = bufs[i++ % 4];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof(bufs[0]), fmt, ap);
	va_end(ap);
	return b;
}

/* Column of the first occurrence of `what` on line 2 of cfgbuf. */
static int col_of(const char *what)
{
	const char *l2 = strchr(cfgbuf, '\n') + 1;
	return (int)(strstr(l2, what) - l2) + 1;
}

/* ---- bind options ----------------------------------------------------------------- */

TEST(test_bind_values)
{
	struct cfg *c = L(FE(F("tls cert %s cert %s key %s tls_min 1.3 tls_max 1.3 "
			       "ciphers ECDHE-RSA-AES128-GCM-SHA256 ciphersuites TLS_AES_128_GCM_SHA256 "
			       "alpn http/1.1,http/1.0 verify optional ca %s",
			       P("a.pem"), P("b.crt"), P("b.key"), P("ca.pem"))));
	CHECK(c != NULL);
	if (!c)
		return;
	const struct cfg_addr *a = &c->frontends[0]->binds[0];
	const struct cfg_tls_bind *tb = a->tls;
	CHECK(tb != NULL && tb->enabled);
	CHECK_EQ_INT(tb->ncerts, 2);
	CHECK(strcmp(tb->certs[0].cert, P("a.pem")) == 0 && tb->certs[0].key == NULL);
	CHECK(strcmp(tb->certs[1].key, P("b.key")) == 0);
	CHECK_EQ_INT(tb->min_version, TLS1_3_VERSION);
	CHECK_EQ_INT(tb->max_version, TLS1_3_VERSION);
	CHECK(strcmp(tb->ciphers, "ECDHE-RSA-AES128-GCM-SHA256") == 0);
	CHECK(strcmp(tb->alpn, "http/1.1,http/1.0") == 0);
	CHECK_EQ_INT(tb->verify, TLS_VERIFY_OPTIONAL);
	CHECK(tb->rt != NULL);
	CHECK_EQ_INT(tb->line, 2);
	CHECK_EQ_INT(tb->col, 22);
	cfg_free(c);

	/* defaults; a plain bind has no TLS at all */
	c = L(FE(F("tls cert %s", P("a.pem"))));
	CHECK(c && c->frontends[0]->binds[0].tls->min_version == 0 &&
	      c->frontends[0]->binds[0].tls->verify == TLS_VERIFY_NONE &&
	      strcmp(c->frontends[0]->binds[0].tls->alpn, "h2,http/1.1") == 0);
	cfg_free(c);
	c = L(FE(""));
	CHECK(c && c->frontends[0]->binds[0].tls == NULL);
	cfg_free(c);

	/* a certificate directory: every *.pem / *.crt, keys beside them */
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cp %s %s/certs/1-a.pem && cp %s %s/certs/2-b.crt && "
		 "cp %s %s/certs/2-b.key", P("a.pem"), dir, P("b.crt"), dir, P("b.key"), dir);
	CHECK(system(cmd) == 0);
	c = L(FE(F("tls certs %s", P("certs"))));
	CHECK(c && c->frontends[0]->binds[0].tls->rt != NULL);
	cfg_free(c);
	/* relative names are read from the config file's directory */
	snprintf(cmd, sizeof(cmd), "%s/rel.conf", dir);
	FILE *f = fopen(cmd, "w");
	fputs(FE("tls cert a.pem verify required ca ca.pem"), f);
	fclose(f);
	char *errs = NULL;
	c = cfg_load(cmd, &errs);
	CHECK(c != NULL && errs == NULL);
	if (errs)
		fprintf(stderr, "  %s\n", errs);
	free(errs);
	cfg_free(c);
}

TEST(test_bind_errors)
{
	char want[512];

	FE("cert x.pem");
	snprintf(want, sizeof(want), "t.conf:2:%d: error: bind option 'cert' needs 'tls' on the "
		 "same bind; expected bind ADDRESS tls cert FILE ...", col_of("cert"));
	CHECK(ERR(cfgbuf, want));
	FE("tls");
	CHECK(ERR(cfgbuf, "t.conf:2:22: error: bind with 'tls' needs a certificate; expected "
			  "'cert FILE' (PEM with the key) or 'certs DIR'"));
	FE("tls key k.pem");
	CHECK(ERR(cfgbuf, "t.conf:2:26: error: 'key' must follow the 'cert FILE' it belongs to; "
			  "expected cert FILE key FILE"));
	FE("tls ocsp x.der");
	CHECK(ERR(cfgbuf, "t.conf:2:26: error: 'ocsp' must follow the 'cert FILE'"));
	FE(F("tls cert %s key %s key %s", P("a.pem"), P("b.key"), P("b.key")));
	CHECK(ERR(cfgbuf, F("t.conf:2:%d: error: 'key' given twice on one bind; expected it once",
			    col_of("key /") + (int)strlen(P("b.key")) + 5)));
	FE(F("tls cert %s tls_min 1.1", P("a.pem")));
	CHECK(ERR(cfgbuf,
		  F("t.conf:2:%d: error: TLS 1.1 is not supported (deprecated by RFC 8996); "
		    "expected tls_min 1.2 or 1.3", col_of("1.1"))));
	FE(F("tls cert %s tls_max 2", P("a.pem")));
	CHECK(ERR(cfgbuf,
		  F("t.conf:2:%d: error: invalid TLS version '2'; expected tls_max 1.2 or 1.3",
		    col_of(" 2") + 1)));
	CHECK(ERR(FE(F("tls cert %s tls_min 1.3 tls_max 1.2", P("a.pem"))),
		  "t.conf:2:22: error: tls_min is above tls_max; expected tls_min <= tls_max"));
	FE(F("tls cert %s alpn h2c,http/1.1", P("a.pem")));
	CHECK(ERR(cfgbuf,
		  F("t.conf:2:%d: error: unsupported ALPN protocol 'h2c' (h2c is HTTP/2 without "
		    "TLS; over TLS it is h2); expected h2, http/1.1 and/or http/1.0, "
		    "comma-separated", col_of("h2c"))));
	FE(F("tls cert %s alpn h2,spdy/3", P("a.pem")));
	CHECK(ERR(cfgbuf,
		  F("t.conf:2:%d: error: unsupported ALPN protocol 'spdy/3'; expected h2, http/1.1 "
		    "and/or http/1.0, comma-separated", col_of("h2,"))));
	FE(F("tls cert %s alpn http/1.1,", P("a.pem")));
	CHECK(ERR(cfgbuf,
		  F("t.conf:2:%d: error: empty protocol at the end of alpn", col_of("http/"))));
	FE(F("tls cert %s verify sometimes", P("a.pem")));
	CHECK(ERR(cfgbuf,
		  F("t.conf:2:%d: error: unknown verify mode 'sometimes' in a bind; expected one "
		    "of: none, optional, required", col_of("sometimes"))));
	CHECK(ERR(FE(F("tls cert %s verify required", P("a.pem"))),
		  "t.conf:2:22: error: 'verify required' needs 'ca FILE' (the CA that signs client "
		  "certificates)"));
	FE(F("tls cert %s sni x", P("a.pem")));
	CHECK(ERR(cfgbuf,
		  F("t.conf:2:%d: error: unknown bind option 'sni'; expected one of: tls, cert, "
		    "key, ocsp, certs, tls_min, tls_max, ciphers, ciphersuites, alpn, verify, ca",
		    col_of("sni"))));
	CHECK(ERR(FE("tls cert"), "t.conf:2:30: error: expected a value after 'cert'"));
	CHECK(ERR(FE(F("tls cert %s ciphers AES128-GCM-SHA256", P("a.pem"))),
		  "t.conf:2:22: error: cipher AES128-GCM-SHA256 in 'ciphers' does not use ECDHE "
		  "key exchange"));
	CHECK(ERR(FE(F("tls cert %s ciphers NOPE", P("a.pem"))),
		  "t.conf:2:22: error: invalid 'ciphers NOPE': no cipher OpenSSL knows"));
	CHECK(ERR(FE(F("tls cert %s ciphersuites NOPE", P("a.pem"))),
		  "t.conf:2:22: error: invalid 'ciphersuites NOPE'"));
	/* a warning only: the CA is unused */
	char *errs = NULL;
	FE(F("tls cert %s ca %s", P("a.pem"), P("ca.pem")));
	struct cfg *c = cfg_load_string("t.conf", cfgbuf, strlen(cfgbuf), &errs);
	CHECK(c && c->warnings && strstr(c->warnings, "'ca' is unused without 'verify"));
	cfg_free(c);
	free(errs);
}

/* The ALPN list of a bind: the default follows `proto` in http mode, none
 * in tcp mode, a written list wins unless it offers what proto refuses. */
static const char *alpn_of(const char *cfg_text)
{
	static char got[64];
	struct cfg *c = L(cfg_text);
	snprintf(got, sizeof(got), "%s", c ? c->frontends[0]->binds[0].tls->alpn : "(failed)");
	cfg_free(c);
	return got;
}

TEST(test_bind_alpn)
{
	CHECK_STR(alpn_of(FE(F("tls cert %s", P("a.pem")))), "h2,http/1.1");
	CHECK_STR(alpn_of(FE(F("proto auto tls cert %s", P("a.pem")))), "h2,http/1.1");
	CHECK_STR(alpn_of(FE(F("proto h1 tls cert %s", P("a.pem")))), "http/1.1");
	CHECK_STR(alpn_of(FE(F("tls cert %s proto h2", P("a.pem")))), "h2");
	CHECK_STR(alpn_of(FE(F("tls cert %s proto h2c", P("a.pem")))), "h2");
	/* written out: kept as written (the order is the server's preference) */
	CHECK_STR(alpn_of(FE(F("tls cert %s alpn http/1.1", P("a.pem")))), "http/1.1");
	CHECK_STR(alpn_of(FE(F("tls cert %s alpn http/1.1,h2", P("a.pem")))), "http/1.1,h2");
	CHECK_STR(alpn_of(FE(F("proto h1 tls cert %s alpn http/1.1,http/1.0", P("a.pem")))),
		  "http/1.1,http/1.0");
	CHECK_STR(alpn_of(FE(F("proto h2 tls cert %s alpn h2", P("a.pem")))), "h2");
	/* tcp mode: no ALPN unless asked for, and then anything we know */
	snprintf(optbuf, sizeof(optbuf),
		 "frontend t {\n bind 127.0.0.1:8443 tls cert %s\n mode tcp\n default_backend b\n}\n"
		 "backend b {\n mode tcp\n server s 127.0.0.1:9001\n}\n", P("a.pem"));
	CHECK_STR(alpn_of(optbuf), "");
	snprintf(optbuf, sizeof(optbuf),
		 "frontend t {\n bind 127.0.0.1:8443 tls cert %s alpn h2\n mode tcp\n"
		 " default_backend b\n}\nbackend b {\n mode tcp\n server s 127.0.0.1:9001\n}\n",
		 P("a.pem"));
	CHECK_STR(alpn_of(optbuf), "h2");

	FE(F("proto h1 tls cert %s alpn h2,http/1.1", P("a.pem")));
	CHECK(ERR(cfgbuf, F("t.conf:2:%d: error: alpn 'h2,http/1.1' offers h2 on a 'proto h1' "
			    "bind; expected http/1.1 (and/or http/1.0), or proto auto",
			    col_of("h2,"))));
	FE(F("proto h2 tls cert %s alpn h2,http/1.1", P("a.pem")));
	CHECK(ERR(cfgbuf, F("t.conf:2:%d: error: alpn 'h2,http/1.1' offers HTTP/1 on a 'proto "
			    "h2' bind; expected alpn h2, or proto auto",
			    col_of("h2,"))));
}

TEST(test_bind_file_errors)
{
	/* every message names the file and points at it */
	CHECK(ERR(FE(F("tls cert %s", P("missing.pem"))),
		  F("t.conf:2:31: error: cannot read certificate '%s': No such file or directory",
		    P("missing.pem"))));
	CHECK(ERR(FE(F("tls cert %s", dir)),
		  F("t.conf:2:31: error: cannot read certificate '%s': is a directory", dir)));
	CHECK(ERR(FE(F("tls cert %s", P("garbage.pem"))),
		  F("t.conf:2:31: error: cannot load certificate '%s': ", P("garbage.pem"))));
	CHECK(ERR(FE(F("tls cert %s", P("b.crt"))),
		  F("t.conf:2:31: error: cannot load a private key from '%s': ", P("b.crt"))));
	FE(F("tls cert %s key %s", P("b.crt"), P("other.key")));
	CHECK(ERR(cfgbuf, F("t.conf:2:%d: error: private key '%s' does not match certificate "
			    "'%s'", col_of("key /") + 4, P("other.key"), P("b.crt"))));
	FE(F("tls cert %s key %s", P("b.crt"), P("nokey.pem")));
	CHECK(ERR(cfgbuf, F("t.conf:2:%d: error: cannot read key '%s': No such file or directory",
			    col_of("key /") + 4, P("nokey.pem"))));
	FE(F("tls cert %s ocsp %s", P("a.pem"), P("garbage.pem")));
	CHECK(ERR(cfgbuf, F("t.conf:2:%d: error: '%s' is not an OCSP response", col_of("ocsp /") + 5,
			    P("garbage.pem"))));
	FE(F("tls cert %s verify required ca %s", P("a.pem"), P("noca.pem")));
	CHECK(ERR(cfgbuf, F("t.conf:2:%d: error: cannot read CA file '%s'", col_of("ca /") + 3,
			    P("noca.pem"))));
	FE(F("tls cert %s verify required ca %s", P("a.pem"), P("garbage.pem")));
	CHECK(ERR(cfgbuf, F("t.conf:2:%d: error: cannot load CA file '%s'", col_of("ca /") + 3,
			    P("garbage.pem"))));
	CHECK(ERR(FE(F("tls certs %s", P("empty"))),
		  F("t.conf:2:32: error: no certificate in directory '%s'", P("empty"))));
	CHECK(ERR(FE(F("tls certs %s", P("nodir"))),
		  F("t.conf:2:32: error: cannot read certificate directory '%s': No such file",
		    P("nodir"))));
	/* expired: a warning, the config loads */
	char *errs = NULL;
	FE(F("tls cert %s", P("expired.pem")));
	struct cfg *c = cfg_load_string("t.conf", cfgbuf, strlen(cfgbuf), &errs);
	CHECK(c != NULL);
	CHECK(c && c->warnings &&
	      strstr(c->warnings, F("t.conf:2:31: warning: certificate '%s' expired on ",
				    P("expired.pem"))));
	cfg_free(c);
	free(errs);
	/* several errors in one run */
	char *all = NULL;
	FE(F("tls cert %s cert %s", P("missing.pem"), P("garbage.pem")));
	c = cfg_load_string("t.conf", cfgbuf, strlen(cfgbuf), &all);
	CHECK(!c && all && strstr(all, "missing.pem") && strstr(all, "garbage.pem"));
	cfg_free(c);
	free(all);
}

/* ---- server options ----------------------------------------------------------------- */

TEST(test_server_options)
{
	struct cfg *c = L(BE(F("weight 3 tls verify required ca %s sni api.internal",
			       P("ca.pem"))));
	CHECK(c != NULL);
	if (c) {
		const struct cfg_server *s = c->backends[0]->servers[0];
		CHECK(s->weight == 3 && s->tls && s->tls->enabled);
		CHECK_EQ_INT(s->tls->verify, TLS_VERIFY_REQUIRED);
		CHECK(strcmp(s->tls->sni, "api.internal") == 0 && s->tls->rt != NULL);
		CHECK(strcmp(s->tls->label, "app/s") == 0);
	}
	cfg_free(c);
	c = L(BE(F("tls verify ca %s weight 2", P("ca.pem"))));   /* bare verify = required */
	CHECK(c && c->backends[0]->servers[0]->tls->verify == TLS_VERIFY_REQUIRED &&
	      c->backends[0]->servers[0]->weight == 2);
	cfg_free(c);
	c = L(BE("tls verify none"));
	CHECK(c && c->backends[0]->servers[0]->tls->verify == TLS_VERIFY_NONE);
	cfg_free(c);
	c = L(BE("verify none sni x.internal tls"));   /* any order */
	CHECK(c && c->backends[0]->servers[0]->tls->enabled);
	cfg_free(c);
	c = L(BE("weight 1"));
	CHECK(c && c->backends[0]->servers[0]->tls == NULL);
	cfg_free(c);

	CHECK(ERR(BE("tls"), "t.conf:6:26: error: server 's' uses tls without verify; expected "
			     "'verify required ca FILE' or, to accept any certificate, 'verify "
			     "none' written out"));
	CHECK(ERR(BE("tls sni api.internal"), "t.conf:6:26: error: server 's' uses tls without "
					      "verify"));
	CHECK(ERR(BE("verify none"), "t.conf:6:26: error: server 's' has TLS options but no "
				     "'tls'"));
	CHECK(ERR(BE("tls verify optional"), "t.conf:6:37: error: 'verify optional' is for client "
					     "certificates on a bind"));
	CHECK(ERR(BE("tls verify none sni bad_name"), "t.conf:6:46: error: invalid sni 'bad_name'"));
	CHECK(ERR(BE("tls verify none sni"), "t.conf:6:45: error: expected a value after 'sni'"));
	CHECK(ERR(BE(F("tls verify ca %s", P("noca.pem"))),
		  F("t.conf:6:40: error: cannot read CA file '%s': No such file or directory",
		    P("noca.pem"))));
	CHECK(ERR(BE("tls verify none bogus"),
		  "t.conf:6:42: error: unknown server option 'bogus'; expected one of: weight, "));
	CHECK(ERR(BE(F("tls verify none cert %s", P("b.crt"))),
		  F("t.conf:6:47: error: cannot load certificate and key from '%s'", P("b.crt"))));
	char *errs = NULL;
	BE(F("tls verify none ca %s", P("ca.pem")));
	c = cfg_load_string("t.conf", cfgbuf, strlen(cfgbuf), &errs);
	CHECK(c && c->warnings && strstr(c->warnings, "'ca' is unused with 'verify none'"));
	cfg_free(c);
	free(errs);
}

/* ---- ticket keys -------------------------------------------------------------------- */

TEST(test_ticket_ring)
{
	struct tls_tkey k0, k1, k2, k3, f;
	bool cur;

	tls_tkeys_set_period(100);
	CHECK(tls_tkeys_current(1000, &k0));
	CHECK(tls_tkeys_current(1099, &f) && memcmp(&f, &k0, sizeof(f)) == 0);   /* same period */
	CHECK(tls_tkeys_find(k0.name, 1050, &f, &cur) && cur);
	CHECK(tls_tkeys_current(1100, &k1) && memcmp(k1.name, k0.name, 16) != 0);   /* rotated */
	CHECK(tls_tkeys_find(k0.name, 1100, &f, &cur) && !cur &&
	      memcmp(f.aes, k0.aes, sizeof(f.aes)) == 0);   /* old key still decrypts */
	CHECK(tls_tkeys_current(1200, &k2));
	CHECK(tls_tkeys_find(k0.name, 1200, &f, &cur) && !cur);   /* two periods back */
	CHECK(tls_tkeys_current(1300, &k3));
	CHECK(!tls_tkeys_find(k0.name, 1300, &f, &cur));   /* retired */
	CHECK(tls_tkeys_find(k1.name, 1300, &f, &cur) && !cur);
	CHECK(tls_tkeys_find(k3.name, 1300, &f, &cur) && cur);
	unsigned char unknown[16] = { 0 };
	CHECK(!tls_tkeys_find(unknown, 1300, &f, &cur));
	/* a long pause rotates once, not once per missed period */
	CHECK(tls_tkeys_current(5000, &f) && tls_tkeys_find(k3.name, 5000, &f, &cur) && !cur);
	tls_tkeys_set_period(300);
}

/* ---- the transport, both ends ------------------------------------------------------- */

struct end {
	struct conn c;
	const char *out;        /* what this end sends */
	size_t out_len, sent;
	char *in;               /* what it received */
	size_t in_len, in_cap;
	uint16_t seen;          /* CONN_F_* flags ever set, to show the paths ran */
	bool hold_reads;        /* do not read yet: let the peer's writes block */
	size_t send_after;      /* bytes to receive before sending (a server answers) */
};

static void end_io(struct end *e)
{
	for (int rounds = 0; rounds < 64; rounds++) {
		bool progress = false;
		if (e->sent < e->out_len && e->in_len >= e->send_after &&
		    (e->c.flags & CONN_F_SEND_READY)) {
			ssize_t n = conn_send(&e->c, e->out + e->sent, e->out_len - e->sent);
			if (n > 0) {
				e->sent += (size_t)n;
				progress = true;
			}
		}
		e->seen |= e->c.flags;
		if ((e->c.flags & CONN_F_RECV_READY) && !e->hold_reads &&
		    !(e->c.flags & (CONN_F_RD_EOF | CONN_F_ERROR))) {
			if (e->in_cap - e->in_len < 4096) {
				e->in_cap = e->in_cap * 2 + 65536;
				e->in = realloc(e->in, e->in_cap);
			}
			/* small reads: records stay buffered in OpenSSL */
			ssize_t n = conn_recv(&e->c, e->in + e->in_len, 1000);
			if (n > 0) {
				e->in_len += (size_t)n;
				progress = true;
			}
		}
		e->seen |= e->c.flags;
		if (!progress)
			return;
	}
}

static int tcp_pair(int *cli, int *srv)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), small = 2048, one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) < 0)
		return -1;
	*cli = socket(AF_INET, SOCK_STREAM, 0);
	/* tiny buffers on both sides, before the connection exists */
	setsockopt(*cli, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	setsockopt(*cli, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	setsockopt(l, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	if (connect(*cli, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	*srv = accept(l, NULL, NULL);
	close(l);
	setsockopt(*cli, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(*srv, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(*cli, F_SETFL, O_NONBLOCK);
	fcntl(*srv, F_SETFL, O_NONBLOCK);
	return *srv < 0 ? -1 : 0;
}

/* Runs both ends on one edge-triggered epoll until each has received what
 * the other sends.  A readiness flag left wrong shows up as a stall: no
 * event for a second while something is still owed. */
static bool run_pair(struct end *s, struct end *c)
{
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };
	ev.data.ptr = s;
	epoll_ctl(ep, EPOLL_CTL_ADD, s->c.io.fd, &ev);
	ev.data.ptr = c;
	epoll_ctl(ep, EPOLL_CTL_ADD, c->c.io.fd, &ev);
	bool ok = false;
	for (;;) {
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, c->hold_reads ? 100 : 1000);
		if (n <= 0 && c->hold_reads) {
			/* the server has written all it could: now read */
			c->hold_reads = false;
			end_io(c);
			end_io(s);
			continue;
		}
		if (n <= 0) {
			fprintf(stderr, "  stalled: server got %zu/%zu, client got %zu/%zu, flags %x/%x\n",
				s->in_len, c->out_len, c->in_len, s->out_len, s->c.flags, c->c.flags);
			break;
		}
		for (int i = 0; i < n; i++)
			conn_on_events(&((struct end *)evs[i].data.ptr)->c.io == &s->c.io ? &s->c : &c->c,
				       evs[i].events);
		end_io(c);
		end_io(s);
		end_io(c);
		if ((s->c.flags | c->c.flags) & CONN_F_ERROR) {
			fprintf(stderr, "  error: %s / %s\n", strerror(s->c.err), strerror(c->c.err));
			break;
		}
		if (s->in_len == c->out_len && c->in_len == s->out_len) {
			ok = true;
			break;
		}
	}
	close(ep);
	return ok;
}

static char *payload(size_t n, unsigned seed)
{
	char *p = malloc(n);
	for (size_t i = 0; i < n; i++)
		p[i] = (char)((i * 31 + seed) & 0xff);
	return p;
}

/* Client: our xprt too (re-encryption to a server), with SNI `sni`. */
static bool handshake_pair(const struct cfg_tls_bind *tb, struct cfg_tls_server *ts, bool hold,
			   size_t up, size_t down, char *cn_out, size_t cn_len,
			   uint16_t *srv_seen, uint16_t *cli_seen, const char **dn)
{
	struct end s = { 0 }, c = { 0 };
	int cfd, sfd;
	bool ok = false;

	if (tcp_pair(&cfd, &sfd) < 0)
		return false;
	conn_init(&s.c, sfd, NULL);
	conn_init(&c.c, cfd, NULL);
	CHECK(tls_conn_accept(&s.c, tb) == 0);
	CHECK(tls_conn_connect(&c.c, ts, false) == 0);
	CHECK(conn_is_tls(&s.c) && conn_is_tls(&c.c));
	c.out = payload(up, 1);
	c.out_len = up;
	s.out = payload(down, 2);
	s.out_len = down;
	s.send_after = up;   /* like the proxy: the server side reads first */
	c.c.flags |= CONN_F_SEND_READY;
	s.c.flags |= CONN_F_SEND_READY;
	c.hold_reads = hold;
	if (run_pair(&s, &c)) {
		ok = memcmp(s.in, c.out, up) == 0 && memcmp(c.in, s.out, down) == 0;
		X509 *peer = SSL_get0_peer_certificate(c.c.xprt_ctx);
		if (cn_out && peer)
			X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn_out,
						  (int)cn_len);
		if (dn) {
			const char *d = tls_conn_client_dn(&s.c);
			*dn = d ? strdup(d) : NULL;
		}
		CHECK(strcmp(tls_conn_version(&s.c), "TLSv1.3") == 0);
	}
	if (srv_seen)
		*srv_seen = s.seen;
	if (cli_seen)
		*cli_seen = c.seen;
	free((void *)c.out);
	free((void *)s.out);
	free(s.in);
	free(c.in);
	s.c.xprt->close(&s.c);
	c.c.xprt->close(&c.c);
	return ok;
}

/* Server: bind tb; client: our xprt offering `offer` (wire format) by ALPN.
 * Sets *h2 / *h11 to what tls_conn_alpn_is() says on the server end once
 * the handshake is done; checks it says no before. */
static bool alpn_pair(const struct cfg_tls_bind *tb, struct cfg_tls_server *ts,
		      const char *offer, unsigned offer_len, bool *h2, bool *h11)
{
	struct end s = { 0 }, c = { 0 };
	int cfd, sfd;
	bool ok = false;

	if (tcp_pair(&cfd, &sfd) < 0)
		return false;
	conn_init(&s.c, sfd, NULL);
	conn_init(&c.c, cfd, NULL);
	CHECK(!tls_conn_alpn_is(&s.c, "http/1.1"));   /* plain so far */
	CHECK(tls_conn_accept(&s.c, tb) == 0);
	CHECK(tls_conn_connect(&c.c, ts, false) == 0);
	if (offer)
		CHECK(SSL_set_alpn_protos(c.c.xprt_ctx, (const unsigned char *)offer,
					  offer_len) == 0);
	CHECK(!tls_conn_alpn_is(&s.c, "h2") && !tls_conn_alpn_is(&s.c, "http/1.1"));
	c.out = "ping";
	c.out_len = 4;
	s.out = "pong";
	s.out_len = 4;
	s.send_after = 4;
	c.c.flags |= CONN_F_SEND_READY;
	s.c.flags |= CONN_F_SEND_READY;
	if (run_pair(&s, &c)) {
		ok = true;
		*h2 = tls_conn_alpn_is(&s.c, "h2");
		*h11 = tls_conn_alpn_is(&s.c, "http/1.1");
		/* exact, not a prefix */
		CHECK(!tls_conn_alpn_is(&s.c, "h") && !tls_conn_alpn_is(&s.c, "http/1.10"));
		CHECK(!tls_conn_alpn_is(&s.c, ""));
	}
	free(s.in);
	free(c.in);
	s.c.xprt->close(&s.c);
	c.c.xprt->close(&c.c);
	return ok;
}

#define OFFER(lit) (lit), (unsigned)(sizeof(lit) - 1)

TEST(test_alpn_negotiation)
{
	struct cfg *cb = L(BE("tls verify none"));
	struct cfg *def = L(FE(F("tls cert %s", P("a.pem"))));
	struct cfg *h1 = L(FE(F("tls cert %s proto h1", P("a.pem"))));
	struct cfg *pin = L(FE(F("tls cert %s alpn http/1.1,h2", P("a.pem"))));
	CHECK(cb && def && h1 && pin);
	if (cb && def && h1 && pin) {
		struct cfg_tls_server *ts = cb->backends[0]->servers[0]->tls;
		const struct cfg_tls_bind *d = def->frontends[0]->binds[0].tls;
		bool h2 = false, h11 = false;
		/* the server's order wins, whatever the client's */
		CHECK(alpn_pair(d, ts, OFFER("\x02h2\x08http/1.1"), &h2, &h11) && h2 && !h11);
		CHECK(alpn_pair(d, ts, OFFER("\x08http/1.1\x02h2"), &h2, &h11) && h2 && !h11);
		CHECK(alpn_pair(d, ts, OFFER("\x08http/1.1"), &h2, &h11) && !h2 && h11);
		/* our upstream offer (http/1.1) as it is */
		CHECK(alpn_pair(d, ts, NULL, 0, &h2, &h11) && !h2 && h11);
		/* nothing in common: no ALPN, the handshake goes on */
		CHECK(alpn_pair(d, ts, OFFER("\x06spdy/3"), &h2, &h11) && !h2 && !h11);
		const struct cfg_tls_bind *b1 = h1->frontends[0]->binds[0].tls;
		CHECK(alpn_pair(b1, ts, OFFER("\x02h2\x08http/1.1"), &h2, &h11) && !h2 && h11);
		CHECK(alpn_pair(b1, ts, OFFER("\x02h2"), &h2, &h11) && !h2 && !h11);
		const struct cfg_tls_bind *bp = pin->frontends[0]->binds[0].tls;
		CHECK(alpn_pair(bp, ts, OFFER("\x02h2\x08http/1.1"), &h2, &h11) && !h2 && h11);
	}
	cfg_free(cb);
	cfg_free(def);
	cfg_free(h1);
	cfg_free(pin);
}

TEST(test_transport_readiness)
{
	/* the long chain makes the server's flight overflow the tiny buffers:
	 * its read must wait for writability inside the handshake */
	struct cfg *c = L(FE(F("tls cert %s", P("a-long.pem"))));
	struct cfg *cb = L(BE(F("tls verify ca %s sni a.test", P("ca.pem"))));
	CHECK(c && cb);
	if (!c || !cb) {
		cfg_free(c);
		cfg_free(cb);
		return;
	}
	const struct cfg_tls_bind *tb = c->frontends[0]->binds[0].tls;
	struct cfg_tls_server *ts = cb->backends[0]->servers[0]->tls;
	char cn[64] = "";
	uint16_t sseen = 0, cseen = 0;
	CHECK(handshake_pair(tb, ts, true, 300 * 1000, 1000 * 1000, cn, sizeof(cn), &sseen, &cseen, NULL));
	CHECK(strcmp(cn, "a.test") == 0);
	CHECK(sseen & CONN_F_RD_WANT_WR);   /* a read waited for writability */
	CHECK(cseen & CONN_F_WR_WANT_RD);   /* a write waited for the server's answer */
	/* resumed on the next connection: the client kept the session */
	CHECK(handshake_pair(tb, ts, false, 10, 10, NULL, 0, NULL, NULL, NULL));
	cfg_free(c);
	cfg_free(cb);
}

/* Which certificate a client asking for `sni` gets from a bind. */
static void sni_case(const struct cfg_tls_bind *tb, const char *sni, const char *want_cn)
{
	snprintf(optbuf, sizeof(optbuf), "tls verify none%s%s", sni ? " sni " : "", sni ? sni : "");
	struct cfg *cb = L(BE(optbuf));
	char cn[64] = "";
	CHECK(cb && handshake_pair(tb, cb->backends[0]->servers[0]->tls, false, 10, 10, cn, sizeof(cn),
				   NULL, NULL, NULL));
	if (strcmp(cn, want_cn) != 0) {
		unit_failed_checks++;
		fprintf(stderr, "  SNI %s: got %s, want %s\n", sni ? sni : "(none)", cn, want_cn);
	}
	cfg_free(cb);
}

TEST(test_sni_and_client_dn)
{
	struct cfg *c = L(FE(F("tls cert %s cert %s key %s cert %s verify optional ca %s",
			       P("a.pem"), P("b.crt"), P("b.key"), P("wild.pem"), P("ca.pem"))));
	CHECK(c != NULL);
	if (!c)
		return;
	const struct cfg_tls_bind *tb = c->frontends[0]->binds[0].tls;
	sni_case(tb, "a.test", "a.test");
	sni_case(tb, "alias.test", "a.test");
	sni_case(tb, "b.test", "b.test");
	sni_case(tb, "B.TEST", "b.test");
	sni_case(tb, "x.wild.test", "*.wild.test");
	sni_case(tb, "wild.test", "a.test");          /* the wildcard needs a label */
	sni_case(tb, "y.x.wild.test", "a.test");      /* and only one */
	sni_case(tb, "unknown.test", "a.test");
	sni_case(tb, NULL, "a.test");

	/* no client certificate: no DN (verify optional) */
	struct cfg *cb = L(BE("tls verify none"));
	const char *dn = "unset";
	CHECK(cb && handshake_pair(tb, cb->backends[0]->servers[0]->tls, false, 10, 10, NULL, 0, NULL,
				   NULL, &dn));
	CHECK(dn == NULL);
	cfg_free(cb);
	/* with one: the server option `cert` presents it */
	cb = L(BE(F("tls verify none cert %s", P("alice.pem"))));
	CHECK(cb && handshake_pair(tb, cb->backends[0]->servers[0]->tls, false, 10, 10, NULL, 0, NULL,
				   NULL, &dn));
	CHECK(dn && strcmp(dn, "CN=alice") == 0);
	free((void *)dn);
	cfg_free(cb);
	cfg_free(c);
}

int main(void)
{
	make_pki();
	RUN(test_bind_values);
	RUN(test_bind_errors);
	RUN(test_bind_alpn);
	RUN(test_bind_file_errors);
	RUN(test_server_options);
	RUN(test_ticket_ring);
	RUN(test_transport_readiness);
	RUN(test_alpn_negotiation);
	RUN(test_sni_and_client_dn);
	rm_pki();
	return UNIT_SUMMARY("test_cfg_tls");
}
