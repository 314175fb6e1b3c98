/*
 * cfg_iplist.c - the IP list files conditions name (`src in
 * file(PATH)`, filter/cond.c; the lists are net/iplist.h): each file is
 * read once per configuration load, however many conditions name it (by
 * whatever path: the key is the real path), and the configuration owns
 * the list, so it lives as long as the streams that started under it.  A
 * relative name is joined to the configuration file's directory.  A
 * reload loads a new configuration, which reads the files again.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "net/iplist.h"

static const struct iplist *cfg_iplist_get(void *arg, const char *name, char *err, size_t errlen)
{
	struct cfg_parser *p = arg;
	struct cfg *c = p->cfg;
	char base[PATH_MAX], path[2 * PATH_MAX + 2];

	cfg_base_dir(p, base, sizeof(base));
	if (name[0] == '/' || !base[0])
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", base, name);
	char *real = realpath(path, NULL);
	const char *key = real ? real : path;
	for (int i = 0; i < c->niplists; i++) {
		if (strcmp(c->iplists[i].path, key) == 0) {
			free(real);
			return c->iplists[i].list;
		}
	}
	struct iplist *l = iplist_load(path, err, errlen);
	struct cfg_iplist *v = l ? cfg_grow(c->iplists, c->niplists, sizeof(*v)) : NULL;
	char *k = v ? strdup(key) : NULL;
	free(real);
	if (!l)
		return NULL;
	if (!v || !k) {
		if (v)
			c->iplists = v;
		free(k);
		iplist_free(l);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->iplists = v;
	c->iplists[c->niplists++] = (struct cfg_iplist){ .path = k, .list = l };
	return l;
}

struct cond_loader cfg_cond_loader(struct cfg_parser *p)
{
	return (struct cond_loader){ .iplist = cfg_iplist_get, .arg = p };
}

void cfg_iplists_free(struct cfg *c)
{
	for (int i = 0; i < c->niplists; i++) {
		free(c->iplists[i].path);
		iplist_free(c->iplists[i].list);
	}
	free(c->iplists);
	c->iplists = NULL;
	c->niplists = 0;
}
