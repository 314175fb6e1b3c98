/*
 * purge.c - purges by URL prefix and by Surrogate-Key tag (purge.h).
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include "cache/cc.h"
#include "cache/purge.h"
#include "cache/store.h"
#include "http/msg.h"

int cache_url_key_prefix(const char *url, char *out, size_t cap)
{
	bool tls;
	if (strncasecmp(url, "http://", 7) == 0)
		tls = false, url += 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		tls = true, url += 8;
	else
		return -1;
	size_t hl = strcspn(url, "/?#");
	if (!hl || strcspn(url, " \t\r\n@") < strlen(url))
		return -1;   /* no host, or spaces / userinfo: not a URL we key by */
	const char *target = url + hl;
	if (*target == '#')
		return -1;
	return cache_key(out, cap, tls, (struct slice){ url, (uint32_t)hl },
			 (struct slice){ target, (uint32_t)strlen(target) });
}

struct prefix { const char *p; size_t n; };

static bool match_prefix(const struct cache_obj *o, void *arg)
{
	const struct prefix *x = arg;
	return o->key_len >= x->n && memcmp(o->key, x->p, x->n) == 0;
}

int cache_purge_prefix(struct cache_store *st, const char *kp, size_t n)
{
	struct prefix x = { kp, n };
	return cache_purge_match(st, match_prefix, &x);
}

/* Whether the space-separated list v[0..len) has the token tag. */
static bool list_has(const char *v, size_t len, const char *tag, size_t tl)
{
	size_t i = 0;
	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		size_t j = i;
		while (j < len && v[j] != ' ' && v[j] != '\t')
			j++;
		if (j - i == tl && memcmp(v + i, tag, tl) == 0)
			return true;
		i = j;
	}
	return false;
}

static bool match_tag(const struct cache_obj *o, void *arg)
{
	const char *tag = arg;
	size_t tl = strlen(tag);
	for (uint16_t i = 0; i < o->nfields; i++) {
		const struct cache_field *f = &o->fields[i];
		if (f->name_len == 13 && strncasecmp(o->head + f->name, "Surrogate-Key", 13) == 0 &&
		    list_has(o->head + f->value, f->value_len, tag, tl))
			return true;
	}
	return false;
}

int cache_purge_tag(struct cache_store *st, const char *tag)
{
	return cache_purge_match(st, match_tag, (void *)tag);
}
