/*
 * cfg_value.c - the config's value types: durations, sizes, integers,
 * addresses and names.
 *
 * The cfg_parse_*() functions are public (other modules reuse them for
 * their own directives); the cfg_val_*() wrappers are what keyword handlers
 * call: they parse one token and, on failure, report an error at that token
 * saying what a valid value looks like.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"

enum cfg_verdict { CFG_V_OK = 0, CFG_V_BAD, CFG_V_NO_UNIT, CFG_V_RANGE };

/* Reads leading decimal digits; *overflow says the number did not fit in
 * 64 bits (the digits are still consumed so the caller sees where they end). */
static const char *cfg_digits(const char *s, uint64_t *out, bool *overflow)
{
	uint64_t v = 0;

	*overflow = false;
	for (; *s >= '0' && *s <= '9'; s++) {
		uint64_t d = (uint64_t)(*s - '0');
		if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			*overflow = true;
		else if (!*overflow)
			v = v * 10 + d;
	}
	*out = v;
	return s;
}

static enum cfg_verdict cfg_duration(const char *s, uint32_t *out)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	uint64_t v;
	bool ovf;
	const char *end = cfg_digits(s, &v, &ovf);

	if (end == s)
		return CFG_V_BAD;
	if (*end == '\0')
		return CFG_V_NO_UNIT;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (ovf || v > UINT32_MAX / units[i].ms)
			return CFG_V_RANGE;
		*out = (uint32_t)(v * units[i].ms);
		return CFG_V_OK;
	}
	return CFG_V_BAD;
}

int cfg_parse_duration_ms(const char *s, uint32_t *out)
{
	return cfg_duration(s, out) == CFG_V_OK ? 0 : -1;
}

static enum cfg_verdict cfg_size(const char *s, uint64_t *out)
{
	uint64_t v, mul = 1;
	bool ovf;
	const char *end = cfg_digits(s, &v, &ovf);

	if (end == s)
		return CFG_V_BAD;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mul = 1024;
		break;
	case 'm': case 'M':
		mul = 1024 * 1024;
		break;
	case 'g': case 'G':
		mul = 1024 * 1024 * 1024;
		break;
	default:
		return CFG_V_BAD;
	}
	if (*end && end[1])
		return CFG_V_BAD;
	if (ovf || v > UINT64_MAX / mul)
		return CFG_V_RANGE;
	*out = v * mul;
	return CFG_V_OK;
}

int cfg_parse_size(const char *s, uint64_t *out)
{
	return cfg_size(s, out) == CFG_V_OK ? 0 : -1;
}

/* "16k" rather than "16384" in messages, when it divides evenly. */
static const char *cfg_fmt_size(uint64_t v, char *buf, size_t len)
{
	if (v >= 1024 * 1024 * 1024 && v % (1024 * 1024 * 1024) == 0)
		snprintf(buf, len, "%llug", (unsigned long long)(v >> 30));
	else if (v >= 1024 * 1024 && v % (1024 * 1024) == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(v >> 20));
	else if (v >= 1024 && v % 1024 == 0)
		snprintf(buf, len, "%lluk", (unsigned long long)(v >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

static bool cfg_port(const char *s, in_port_t *port)
{
	uint64_t v;
	bool ovf;
	const char *end = cfg_digits(s, &v, &ovf);

	if (end == s || *end || ovf || v < 1 || v > 65535)
		return false;
	*port = htons((in_port_t)v);
	return true;
}

/* A DNS name as RFC 1123 allows it: letters, digits, '-' and '.', and a
 * last label that is not all digits (so "256.0.0.1" is a bad address, not
 * a name to look up). */
static bool cfg_hostname_ok(const char *h)
{
	bool digits_only = true;

	if (!*h || *h == '-' || *h == '.')
		return false;
	for (; *h; h++) {
		if (*h == '.') {
			digits_only = true;
			continue;
		}
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		      (*h >= '0' && *h <= '9') || *h == '-'))
			return false;
		if (!(*h >= '0' && *h <= '9'))
			digits_only = false;
	}
	return !digits_only;
}

/*
 * A host name is resolved once, here, at load (libc: /etc/hosts, then
 * DNS), as nginx and HAProxy do by default; an IPv4 answer is preferred.
 * Fuzzing builds (GH_NO_RESOLVE) never touch the resolver.
 */
static const char *cfg_resolve(const char *host, struct cfg_addr *out, in_port_t port)
{
	static _Thread_local char why[160];
#ifdef GH_NO_RESOLVE
	(void)host, (void)out, (void)port;
	return "host names are not resolved in this build";
#else
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *pick = NULL;
	int rc = getaddrinfo(host, NULL, &hints, &res);

	if (rc != 0) {
		snprintf(why, sizeof(why), "cannot resolve the host name (%s)", gai_strerror(rc));
		return why;
	}
	for (struct addrinfo *a = res; a; a = a->ai_next)
		if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) &&
		    (!pick || (pick->ai_family != AF_INET && a->ai_family == AF_INET)))
			pick = a;
	if (!pick) {
		freeaddrinfo(res);
		return "the host name has no IPv4 or IPv6 address";
	}
	memcpy(&out->ss, pick->ai_addr, pick->ai_addrlen);
	out->len = pick->ai_addrlen;
	if (pick->ai_family == AF_INET)
		((struct sockaddr_in *)&out->ss)->sin_port = port;
	else
		((struct sockaddr_in6 *)&out->ss)->sin6_port = port;
	freeaddrinfo(res);
	return NULL;
#endif
}

/* Parses into `out` without allocating; NULL on success, else why not. */
static const char *cfg_addr_parse(const char *s, struct cfg_addr *out)
{
	char host[256];
	const char *colon, *h = s;
	size_t hlen;

	memset(&out->ss, 0, sizeof(out->ss));
	if (strncmp(s, "unix@", 5) == 0)
		return cfg_unix_addr_parse(s + 5, &out->ss, &out->len);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb)
			return "missing ']' after the IPv6 address";
		if (rb[1] != ':')
			return "missing port after the IPv6 address";
		h = s + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return "missing port";
		if (memchr(s, ':', (size_t)(colon - s)))
			return "an IPv6 address needs brackets, as in [::1]:8080";
		hlen = (size_t)(colon - s);
	}
	in_port_t port;
	if (!cfg_port(colon + 1, &port))
		return "invalid port; expected 1 to 65535";
	if (hlen >= sizeof(host))
		return "host name too long";
	memcpy(host, h, hlen);
	host[hlen] = '\0';

	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
	if (s[0] == '[') {
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return "not an IPv6 address";
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = port;
		out->len = sizeof(*sin6);
		return NULL;
	}
	/* "*:80" and ":80" both mean every IPv4 address, as in HAProxy */
	if (hlen == 0 || strcmp(host, "*") == 0)
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return cfg_hostname_ok(host) ? cfg_resolve(host, out, port) :
					       "not an IP address or a host name";
	sin->sin_family = AF_INET;
	sin->sin_port = port;
	out->len = sizeof(*sin);
	return NULL;
}

int cfg_parse_addr(const char *s, struct cfg_addr *out)
{
	if (cfg_addr_parse(s, out))
		return -1;
	out->text = strdup(s);
	return out->text ? 0 : -1;
}

void cfg_addr_free(struct cfg_addr *a)
{
	free(a->text);
	a->text = NULL;
	if (a->accept_proxy)
		free(a->accept_proxy->from);
	free(a->accept_proxy);
	a->accept_proxy = NULL;
}

bool cfg_addr_is_any(const struct cfg_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
	return false;
}

/* ---- reporting wrappers for keyword handlers --------------------------- */

int cfg_val_duration(struct cfg_parser *p, const struct cfg_tok *t, uint32_t *out)
{
	switch (cfg_duration(t->s, out)) {
	case CFG_V_OK:
		return 0;
	case CFG_V_NO_UNIT:
		cfg_error(p, t->line, t->col,
			  "missing unit in '%s'; expected a duration with a unit, e.g. 250ms or 30s",
			  t->s);
		break;
	case CFG_V_RANGE:
		cfg_error(p, t->line, t->col, "duration '%s' is too long; expected at most 49d",
			  t->s);
		break;
	default:
		cfg_error(p, t->line, t->col,
			  "invalid duration '%s'; expected a number with a unit (ms, s, m, h, d), "
			  "e.g. 250ms or 30s",
			  t->s);
		break;
	}
	return -1;
}

int cfg_val_size(struct cfg_parser *p, const struct cfg_tok *t, uint64_t min, uint64_t max,
		 uint64_t *out)
{
	char a[32], b[32];
	uint64_t v;
	enum cfg_verdict r = cfg_size(t->s, &v);

	if (r == CFG_V_BAD) {
		cfg_error(p, t->line, t->col,
			  "invalid size '%s'; expected a number of bytes with an optional unit k, "
			  "m or g, e.g. 512, 16k or 1m",
			  t->s);
		return -1;
	}
	if (r == CFG_V_RANGE || v < min || v > max) {
		cfg_error(p, t->line, t->col, "size '%s' is out of range; expected %s to %s", t->s,
			  cfg_fmt_size(min, a, sizeof(a)), cfg_fmt_size(max, b, sizeof(b)));
		return -1;
	}
	*out = v;
	return 0;
}

int cfg_val_int(struct cfg_parser *p, const struct cfg_tok *t, long min, long max, int *out)
{
	uint64_t v;
	bool ovf;
	const char *end = cfg_digits(t->s, &v, &ovf);

	if (end == t->s || *end) {
		cfg_error(p, t->line, t->col, "invalid number '%s'; expected an integer from %ld to %ld",
			  t->s, min, max);
		return -1;
	}
	if (ovf || v < (uint64_t)min || v > (uint64_t)max) {
		cfg_error(p, t->line, t->col, "%s is out of range; expected an integer from %ld to %ld",
			  t->s, min, max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int cfg_val_addr(struct cfg_parser *p, const struct cfg_tok *t, bool for_bind,
		 struct cfg_addr *out)
{
	const char *why = cfg_addr_parse(t->s, out);

	if (why) {
		cfg_error(p, t->line, t->col,
			  "invalid address '%s': %s; expected IP:PORT or unix@PATH, e.g. %s",
			  t->s, why,
			  for_bind ? "127.0.0.1:8080, [::1]:8080, *:8080 or unix@/run/gh.sock" :
				     "127.0.0.1:9001, [::1]:9001 or unix@/run/app.sock");
		return -1;
	}
	if (!for_bind && cfg_addr_is_any(out)) {
		cfg_error(p, t->line, t->col,
			  "a server needs an address to connect to, got '%s'; expected e.g. "
			  "127.0.0.1:9001",
			  t->s);
		return -1;
	}
	out->text = strdup(t->s);
	if (!out->text) {
		cfg_oom(p);
		return -1;
	}
	out->line = t->line;
	out->col = t->col;
	return 0;
}

/* Names end up in logs, stats and the admin API: keep them to characters
 * that need no quoting anywhere (HAProxy's rule). */
int cfg_val_name(struct cfg_parser *p, const struct cfg_tok *t, const char *what)
{
	const char *s = t->s;

	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':'))
			break;
	}
	if (*s || !t->s[0]) {
		cfg_error(p, t->line, t->col,
			  "invalid %s name '%s'; expected letters, digits, '-', '_', '.' or ':'",
			  what, t->s);
		return -1;
	}
	return 0;
}

int cfg_val_choice(struct cfg_parser *p, const struct cfg_tok *t, const char *what, const char *in,
		   const char *const *words)
{
	char list[256] = "";
	size_t len = 0;

	for (int i = 0; words[i]; i++) {
		if (strcmp(t->s, words[i]) == 0)
			return i;
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
					words[i]);
		if (len >= sizeof(list))
			len = sizeof(list) - 1;
	}
	cfg_error(p, t->line, t->col, "unknown %s '%s'%s%s; expected one of: %s", what, t->s,
		  in ? " in " : "", in ? in : "", list);
	return -1;
}

int cfg_val_timeout(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n,
		    const struct cfg_timeout_kw *kinds)
{
	const struct cfg_tok *kind = &n->toks[1];
	const char *names[8];
	int i;

	for (i = 0; kinds[i].name && i < 7; i++)
		names[i] = kinds[i].name;
	names[i] = NULL;
	i = cfg_val_choice(p, kind, "timeout", s->what, names);
	if (i < 0)
		return -1;
	return cfg_val_duration(p, &n->toks[2], (uint32_t *)((char *)s->obj + kinds[i].off));
}

int cfg_val_mode(struct cfg_parser *p, const struct cfg_tok *t, enum px_mode *out)
{
	static const char *const modes[] = { "http", "tcp", NULL };
	int i = cfg_val_choice(p, t, "mode", NULL, modes);

	if (i < 0)
		return -1;
	*out = i == 0 ? MODE_HTTP : MODE_TCP;
	return 0;
}

int cfg_val_percent(struct cfg_parser *p, const struct cfg_tok *t, long min, long max,
		    bool sign_required, int *out)
{
	size_t len = strlen(t->s);
	bool sign = len >= 2 && t->s[len - 1] == '%';
	char num[32];

	if (sign_required && (!sign || len >= sizeof(num))) {
		cfg_error(p, t->line, t->col, "invalid percentage '%s'; expected e.g. 50%%", t->s);
		return -1;
	}
	if (!sign || len >= sizeof(num))
		return cfg_val_int(p, t, min, max, out);
	memcpy(num, t->s, len - 1);
	num[len - 1] = '\0';
	struct cfg_tok nt = *t;
	nt.s = num;
	return cfg_val_int(p, &nt, min, max, out);
}
