/*
 * cfg_proxy.c - where the client's address comes from and where it goes:
 *
 *   bind ADDR accept_proxy [from CIDR...]   connections start with a PROXY
 *                                           header (proxy/session_pp.c)
 *   server NAME ADDR send_proxy v1|v2       server connections start with one
 *                                           (proxy/srvconn.c, health/health.c)
 *   trusted_proxies CIDR...                 (frontend) X-Forwarded-For /
 *                                           Forwarded from these peers name
 *                                           the client (filter/flt_realip.c)
 */
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "net/cidr.h"

#define CIDR_HELP "expected an address with an optional prefix length, e.g. 10.0.0.0/8 or " \
		  "2001:db8::/32"

/* A token that is meant as an address range (and not the next option). */
static bool looks_like_cidr(const struct cfg_tok *t)
{
	return !t->quoted && ((t->s[0] >= '0' && t->s[0] <= '9') || strchr(t->s, ':'));
}

static int parse_cidrs(struct cfg_parser *p, const struct cfg_tok *t, int n, struct cidr **v,
		       int *nv)
{
	struct cidr *grown = realloc(*v, (size_t)(*nv + n) * sizeof(**v));
	int rc = 0;

	if (!grown) {
		cfg_oom(p);
		return -1;
	}
	*v = grown;
	for (int i = 0; i < n; i++) {
		if (cidr_parse(t[i].s, &grown[*nv]) < 0) {
			cfg_error(p, t[i].line, t[i].col, "invalid CIDR '%s'; " CIDR_HELP, t[i].s);
			rc = -1;
			continue;
		}
		(*nv)++;
	}
	return rc;
}

int cfg_bind_accept_proxy(struct cfg_parser *p, struct cfg_addr *a, const struct cfg_node *n,
			  struct cfg_node *rest)
{
	int rc = 0;

	*rest = *n;
	rest->toks = malloc((size_t)n->ntok * sizeof(*rest->toks));
	if (!rest->toks) {
		rest->ntok = 0;
		cfg_oom(p);
		return -1;
	}
	rest->ntok = 0;
	for (int i = 0; i < n->ntok; i++) {
		const struct cfg_tok *t = &n->toks[i];
		if (i < 2 || t->quoted || strcmp(t->s, "accept_proxy") != 0) {
			rest->toks[rest->ntok++] = *t;
			continue;
		}
		if (a->accept_proxy) {
			cfg_error(p, t->line, t->col,
				  "'accept_proxy' given twice on one bind; expected it once");
			rc = -1;
		} else if (!(a->accept_proxy = calloc(1, sizeof(*a->accept_proxy)))) {
			cfg_oom(p);
			return -1;
		}
		if (i + 1 >= n->ntok || n->toks[i + 1].quoted || strcmp(n->toks[i + 1].s, "from") != 0)
			continue;
		const struct cfg_tok *from = &n->toks[++i];
		int k = 0;
		while (i + 1 + k < n->ntok && looks_like_cidr(&n->toks[i + 1 + k]))
			k++;
		if (k == 0) {
			cfg_error(p, from->line, from->col,
				  "'from' needs at least one address range; " CIDR_HELP);
			rc = -1;
			continue;
		}
		if (parse_cidrs(p, &n->toks[i + 1], k, &a->accept_proxy->from,
				&a->accept_proxy->nfrom) < 0)
			rc = -1;
		i += k;
	}
	return rc;
}

int cfg_srv_send_proxy(struct cfg_parser *p, struct cfg_server *srv, const struct cfg_tok *arg)
{
	static const char *const versions[] = { "v1", "v2", NULL };
	int k = cfg_val_choice(p, arg, "PROXY protocol version", "send_proxy", versions);

	if (k < 0)
		return -1;
	srv->send_proxy = (uint8_t)(k + 1);
	return 0;
}

int cfg_fe_trusted_proxies(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;

	if (!fe->ntrusted)
		cfg_remember(p, &fe->trusted, &n->toks[0]);
	return parse_cidrs(p, &n->toks[1], n->ntok - 1, &fe->trusted, &fe->ntrusted);
}
