/*
 * seclang.c - reads ModSecurity configuration (SecLang) into the rule model
 * of pf_int.h, for the pre-filter only: SecRule, SecAction, SecMarker,
 * Include / IncludeOptional (globs), backslash line continuations and
 * quoting as ModSecurity's own parser reads them.  Directives that only
 * remove or tune detections (SecRuleRemoveById, ctl:ruleRemove...) are
 * ignored: keeping a rule ModSecurity removed can only make the pre-filter
 * say "might match" more often, never less.  SecRuleUpdateTargetById with
 * exclusions only ("!ARGS:name|!ARGS:/re/", gatehouse's default exclusions
 * for free-text fields) is followed: the exclusions join the rule's first
 * link, whether the directive comes before the rule (libmodsecurity 3 keeps
 * such updates for rules read later) or after it; with a target to add, or
 * an id range, it is not (see directive()).
 */
#include "waf/pf_int.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *xstrndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static char *lower_dup(const char *s, size_t n)
{
	char *d = xstrndup(s, n);

	for (size_t i = 0; d && i < n; i++)
		d[i] = (char)tolower((unsigned char)d[i]);
	return d;
}

/* ---- tokens -------------------------------------------------------------- */

/* Splits a logical line into at most 4 arguments; a double-quoted argument
 * loses its quotes and \" becomes " (other backslashes stay: they belong
 * to the regex or the action text). */
static size_t split_args(char *s, char **argv, size_t max)
{
	size_t n = 0;

	while (*s && n < max) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		if (*s == '"') {
			char *d = ++s;
			argv[n++] = d;
			while (*s && *s != '"') {
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\') && s[1]) {
					if (s[1] == '"') {
						*d++ = '"';
						s += 2;
						continue;
					}
					*d++ = *s++;
					*d++ = *s++;
					continue;
				}
				*d++ = *s++;
			}
			if (*s)
				s++;
			*d = '\0';
			if (*s && !isspace((unsigned char)*s)) {
				/* "abc"def: keep going as one word */
			}
		} else {
			argv[n++] = s;
			while (*s && !isspace((unsigned char)*s))
				s++;
			if (*s)
				*s++ = '\0';
		}
	}
	return n;
}

/* ---- variables ----------------------------------------------------------- */

static const struct {
	const char *name;
	uint32_t mask;
} coll_names[] = {
	{ "ARGS", 1u << PF_C_ARGS_GET | 1u << PF_C_ARGS_POST | 1u << PF_C_ARGS_JSON },
	{ "ARGS_NAMES", 1u << PF_C_ARGS_GET_NAMES | 1u << PF_C_ARGS_POST_NAMES |
			1u << PF_C_ARGS_JSON_NAMES },
	{ "ARGS_GET", 1u << PF_C_ARGS_GET },
	{ "ARGS_POST", 1u << PF_C_ARGS_POST },
	{ "ARGS_GET_NAMES", 1u << PF_C_ARGS_GET_NAMES },
	{ "ARGS_POST_NAMES", 1u << PF_C_ARGS_POST_NAMES },
	{ "REQUEST_COOKIES", 1u << PF_C_COOKIES },
	{ "REQUEST_COOKIES_NAMES", 1u << PF_C_COOKIES_NAMES },
	{ "REQUEST_HEADERS", 1u << PF_C_HEADERS },
	{ "REQUEST_HEADERS_NAMES", 1u << PF_C_HEADERS_NAMES },
	{ "REQUEST_URI", 1u << PF_C_URI },
	{ "REQUEST_URI_RAW", 1u << PF_C_URI_RAW },
	{ "REQUEST_FILENAME", 1u << PF_C_FILENAME },
	{ "PATH_INFO", 1u << PF_C_FILENAME },
	{ "REQUEST_BASENAME", 1u << PF_C_BASENAME },
	{ "REQUEST_LINE", 1u << PF_C_LINE },
	{ "QUERY_STRING", 1u << PF_C_QS },
	{ "REQUEST_BODY", 1u << PF_C_BODY },
	{ "REQUEST_METHOD", 1u << PF_C_METHOD },
	{ "REQUEST_PROTOCOL", 1u << PF_C_PROTOCOL },
	{ "REQBODY_PROCESSOR", 1u << PF_C_REQBODY_PROCESSOR },
	{ "ARGS_COMBINED_SIZE", 1u << PF_C_ARGS_COMBINED_SIZE },
	{ "REQBODY_ERROR", 1u << PF_C_REQBODY_ERROR },
	{ "FILES", 1u << PF_C_FILES },
	{ "FILES_NAMES", 1u << PF_C_FILES_NAMES },
	{ "FILES_SIZES", 1u << PF_C_FILES_SIZES },
	{ "FILES_TMP_CONTENT", 1u << PF_C_FILES_TMP_CONTENT },
	{ "FILES_COMBINED_SIZE", 1u << PF_C_FILES_COMBINED_SIZE },
	{ "MULTIPART_NAME", 1u << PF_C_MULTIPART_NAME },
	{ "MULTIPART_FILENAME", 1u << PF_C_MULTIPART_FILENAME },
	{ "MULTIPART_PART_HEADERS", 1u << PF_C_MULTIPART_PART_HEADERS },
};

/* Empty whenever the scanner can say "cannot match": XML bodies are not
 * parsed (it answers "might match" for them), and no upload is written to
 * a temporary file (SecUploadKeepFiles and SecTmpSaveUploadedFiles are
 * off), so FILES_TMPNAMES is empty.  The multipart collections are
 * computed (coll_names above). */
static const char *const empty_names[] = {
	"XML", "FILES_TMPNAMES",
};

static int parse_var(const char *s, size_t n, struct sl_var *v)
{
	memset(v, 0, sizeof(*v));
	v->name = xstrndup(s, n);
	if (!v->name)
		return -1;
	if (n && *s == '!') {
		v->exclude = true;
		s++, n--;
	}
	if (n && *s == '&') {
		v->count = true;
		s++, n--;
	}
	const char *colon = memchr(s, ':', n);
	size_t nl = colon ? (size_t)(colon - s) : n;
	if (colon) {
		const char *sel = colon + 1;
		size_t sl = n - nl - 1;
		if (sl >= 2 && sel[0] == '\'' && sel[sl - 1] == '\'')
			sel++, sl -= 2;
		if (sl >= 2 && sel[0] == '/' && sel[sl - 1] == '/') {
			v->sel_regex = true;
			sel++, sl -= 2;
		}
		v->sel = xstrndup(sel, sl);
		if (!v->sel)
			return -1;
	}
	v->kind = PF_V_UNKNOWN;
	for (size_t i = 0; i < sizeof(coll_names) / sizeof(coll_names[0]); i++)
		if (strlen(coll_names[i].name) == nl && !strncasecmp(coll_names[i].name, s, nl)) {
			v->kind = PF_V_COLL;
			v->coll_mask = coll_names[i].mask;
		}
	for (size_t i = 0; i < sizeof(empty_names) / sizeof(empty_names[0]); i++)
		if (strlen(empty_names[i]) == nl && !strncasecmp(empty_names[i], s, nl))
			v->kind = PF_V_EMPTY;
	if (nl == 2 && !strncasecmp(s, "TX", 2)) {
		v->kind = PF_V_TX;
		if (v->sel)
			for (char *p = v->sel; *p; p++)
				*p = (char)tolower((unsigned char)*p);
	}
	if ((nl == 11 && !strncasecmp(s, "MATCHED_VAR", 11)) ||
	    (nl == 12 && !strncasecmp(s, "MATCHED_VARS", 12)))
		v->kind = PF_V_MATCHED;
	return 0;
}

/* VAR|VAR:sel|VAR:/re|ex/|'VAR:/re/' */
static int parse_vars(const char *s, struct sl_link *l)
{
	size_t cap = 4;

	l->vars = calloc(cap, sizeof(*l->vars));
	if (!l->vars)
		return -1;
	while (*s) {
		const char *b = s;
		bool in_re = false;
		char q = 0;
		while (*s) {
			if (q) {
				if (*s == q)
					q = 0;
			} else if (*s == '\'') {
				q = '\'';
			} else if (in_re) {
				if (*s == '\\' && s[1])
					s++;
				else if (*s == '/')
					in_re = false;
			} else if (*s == '/' && s > b && (s[-1] == ':' || s[-1] == '\'')) {
				in_re = true;
			} else if (*s == '|') {
				break;
			}
			s++;
		}
		size_t n = (size_t)(s - b);
		if (n && *b == '\'' && b[n - 1] == '\'' && n >= 2)
			b++, n -= 2;
		if (n) {
			if (l->nvars == cap) {
				void *p = realloc(l->vars, 2 * cap * sizeof(*l->vars));
				if (!p)
					return -1;
				l->vars = p;
				cap *= 2;
			}
			if (parse_var(b, n, &l->vars[l->nvars]) < 0)
				return -1;
			l->nvars++;
		}
		if (*s == '|')
			s++;
	}
	return 0;
}

/* ---- operators ----------------------------------------------------------- */

static const struct {
	const char *name;
	enum sl_op op;
} op_names[] = {
	{ "rx", SL_OP_RX }, { "pm", SL_OP_PM }, { "pmFromFile", SL_OP_PMF },
	{ "pmf", SL_OP_PMF }, { "contains", SL_OP_CONTAINS },
	{ "containsWord", SL_OP_CONTAINSWORD }, { "beginsWith", SL_OP_BEGINSWITH },
	{ "endsWith", SL_OP_ENDSWITH }, { "streq", SL_OP_STREQ },
	{ "within", SL_OP_WITHIN }, { "eq", SL_OP_EQ }, { "lt", SL_OP_LT },
	{ "gt", SL_OP_GT }, { "ge", SL_OP_GE }, { "le", SL_OP_LE },
	{ "detectSQLi", SL_OP_DETECTSQLI }, { "detectXSS", SL_OP_DETECTXSS },
	{ "validateByteRange", SL_OP_VALIDATEBYTERANGE },
	{ "validateUrlEncoding", SL_OP_VALIDATEURLENC },
	{ "validateUtf8Encoding", SL_OP_VALIDATEUTF8 },
	{ "unconditionalMatch", SL_OP_UNCONDITIONAL }, { "noMatch", SL_OP_NOMATCH },
};

static int add_phrase(struct sl_link *l, const char *s, size_t n, size_t *cap)
{
	if (!n)
		return 0;
	if (l->npm == *cap) {
		size_t nc = *cap ? 2 * *cap : 16;
		void *p = realloc(l->pm, nc * sizeof(*l->pm));
		if (!p)
			return -1;
		l->pm = p;
		*cap = nc;
	}
	l->pm[l->npm] = xstrndup(s, n);
	return l->pm[l->npm++] ? 0 : -1;
}

/* @pm phrases: whitespace separated; |68 65| hex runs decoded.  A phrase
 * the pre-filter reads shorter than ModSecurity does only widens "might
 * match" (a substring of a phrase occurs wherever the phrase does). */
static int parse_pm(struct sl_link *l, const char *s)
{
	size_t cap = 0;
	char *buf = malloc(strlen(s) + 1);
	size_t n = 0;
	bool hex = false;

	if (!buf)
		return -1;
	for (; ; s++) {
		if (*s == '|') {
			hex = !hex;
			continue;
		}
		if (hex && isxdigit((unsigned char)s[0]) && isxdigit((unsigned char)s[1])) {
			char h[3] = { s[0], s[1], 0 };
			buf[n++] = (char)strtol(h, NULL, 16);
			s++;
			continue;
		}
		if (hex && *s == ' ')
			continue;
		if (!*s || (!hex && isspace((unsigned char)*s))) {
			if (add_phrase(l, buf, n, &cap) < 0) {
				free(buf);
				return -1;
			}
			n = 0;
			if (!*s)
				break;
			continue;
		}
		buf[n++] = *s;
	}
	free(buf);
	return 0;
}

static int parse_pmf(struct sl_link *l, const char *param, const char *rulefile)
{
	size_t cap = 0;
	char *files = strdup(param);
	char *save = NULL;

	if (!files)
		return -1;
	for (char *f = strtok_r(files, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
		char path[4096];
		if (f[0] == '/') {
			snprintf(path, sizeof(path), "%s", f);
		} else {
			char *d = strdup(rulefile);
			if (!d) {
				free(files);
				return -1;
			}
			snprintf(path, sizeof(path), "%s/%s", dirname(d), f);
			free(d);
		}
		FILE *fp = fopen(path, "r");
		if (!fp) {
			free(files);
			return -2;
		}
		char line[8192];
		while (fgets(line, sizeof(line), fp)) {
			char *b = line, *e = line + strlen(line);
			while (e > b && isspace((unsigned char)e[-1]))
				e--;
			while (b < e && isspace((unsigned char)*b))
				b++;
			if (b == e || *b == '#')
				continue;
			if (add_phrase(l, b, (size_t)(e - b), &cap) < 0) {
				fclose(fp);
				free(files);
				return -1;
			}
		}
		fclose(fp);
	}
	free(files);
	return 0;
}

static int parse_op(const char *s, struct sl_link *l, const char *file)
{
	if (*s == '!') {
		l->neg = true;
		s++;
	}
	if (*s != '@') {
		l->op = SL_OP_RX;
		l->op_name = strdup("rx");
		l->param = strdup(s);
		return l->op_name && l->param ? 0 : -1;
	}
	s++;
	size_t n = strcspn(s, " \t");
	l->op_name = xstrndup(s, n);
	s += n;
	if (*s)
		s++;
	l->param = strdup(s);
	if (!l->op_name || !l->param)
		return -1;
	l->op = SL_OP_OTHER;
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (!strcasecmp(op_names[i].name, l->op_name))
			l->op = op_names[i].op;
	if (l->op == SL_OP_PM)
		return parse_pm(l, l->param);
	if (l->op == SL_OP_PMF)
		return parse_pmf(l, l->param, file);
	return 0;
}

/* ---- actions ------------------------------------------------------------- */

static int add_tfn(struct sl_link *l, const char *name)
{
	if (!strcasecmp(name, "none")) {
		l->ntfn = 0;
		return 0;
	}
	int t = pf_tfn_lookup(name);
	if (t < 0)
		t = T_OPAQUE;
	void *p = realloc(l->tfn, (l->ntfn + 1) * sizeof(*l->tfn));
	if (!p)
		return -1;
	l->tfn = p;
	l->tfn[l->ntfn++] = t;
	return 0;
}

static int add_setvar(struct sl_link *l, const char *v)
{
	struct sl_setvar sv = { 0 };
	void *p;

	sv.mode = '=';
	if (*v == '!') {
		sv.mode = '!';
		v++;
	}
	if (strncasecmp(v, "tx.", 3) != 0) {
		/* ip.*, session.*, global.*: recorded with name NULL */
		sv.name = NULL;
	} else {
		v += 3;
		const char *eq = strchr(v, '=');
		size_t nl = eq ? (size_t)(eq - v) : strlen(v);
		sv.name = lower_dup(v, nl);
		if (!sv.name)
			return -1;
		if (eq) {
			eq++;
			if ((*eq == '+' || *eq == '-') && sv.mode == '=') {
				sv.mode = *eq;
				eq++;
			}
			sv.value = strdup(eq);
			if (!sv.value)
				return -1;
		}
	}
	p = realloc(l->setvars, (l->nsetvars + 1) * sizeof(*l->setvars));
	if (!p)
		return -1;
	l->setvars = p;
	l->setvars[l->nsetvars++] = sv;
	return 0;
}

/* Actions: comma separated, name[:value], values possibly in '...'. */
static int parse_actions(const char *s, struct sl_rule *r, struct sl_link *l, bool head)
{
	const char *start = s;
	char *buf = malloc(strlen(s) + 1);

	if (!buf)
		return -1;
	while (*s) {
		while (isspace((unsigned char)*s) || *s == ',')
			s++;
		if (!*s)
			break;
		size_t n = 0;
		bool q = false;
		while (*s && (q || *s != ',')) {
			if (*s == '\'' && (s == start || s[-1] != '\\')) {
				q = !q;
				s++;
				continue;
			}
			buf[n++] = *s++;
		}
		while (n && isspace((unsigned char)buf[n - 1]))
			n--;
		buf[n] = '\0';
		char *name = buf, *val = strchr(buf, ':');
		if (val)
			*val++ = '\0';
		while (val && isspace((unsigned char)*val))
			val++;
		int rc = 0;
		if (!strcasecmp(name, "t") && val)
			rc = add_tfn(l, val);
		else if (!strcasecmp(name, "setvar") && val)
			rc = add_setvar(l, val);
		else if (!strcasecmp(name, "capture"))
			l->capture = true;
		else if (!strcasecmp(name, "chain"))
			l->chain = true;
		else if (!strcasecmp(name, "multiMatch"))
			l->multimatch = true;
		else if (head && !strcasecmp(name, "id") && val)
			r->id = strtol(val, NULL, 10);
		else if (head && !strcasecmp(name, "phase") && val) {
			if (!strcasecmp(val, "request"))
				r->phase = 2;
			else if (!strcasecmp(val, "response"))
				r->phase = 4;
			else if (!strcasecmp(val, "logging"))
				r->phase = 5;
			else
				r->phase = atoi(val);
		} else if (head && !strcasecmp(name, "nolog"))
			r->nolog = true;
		else if (head && !strcasecmp(name, "log"))
			r->log = true;
		else if (head && !strcasecmp(name, "msg"))
			r->has_msg = true;
		else if (head && (!strcasecmp(name, "deny") || !strcasecmp(name, "block") ||
				  !strcasecmp(name, "drop") || !strcasecmp(name, "redirect")))
			r->disruptive = true;
		else if (head && !strcasecmp(name, "skipAfter") && val) {
			free(r->skip_after);
			r->skip_after = strdup(val);
			rc = r->skip_after ? 0 : -1;
		} else if (!strcasecmp(name, "ctl") && val) {
			if (!strcasecmp(val, "requestBodyProcessor=JSON"))
				r->ctl_json = true;
			else if (!strncasecmp(val, "requestBodyProcessor=", 21))
				r->ctl_other = true;
		} else if (!strcasecmp(name, "skip") && val) {
			r->skip = atoi(val);
		}
		if (!strcasecmp(name, "block"))
			r->block = true;
		else if (strcasecmp(name, "t") && strcasecmp(name, "setvar") &&
			 strcasecmp(name, "capture") && strcasecmp(name, "chain") &&
			 strcasecmp(name, "multiMatch") && strcasecmp(name, "id") &&
			 strcasecmp(name, "phase") && strcasecmp(name, "nolog") &&
			 strcasecmp(name, "log") && strcasecmp(name, "msg") &&
			 strcasecmp(name, "logdata") && strcasecmp(name, "tag") &&
			 strcasecmp(name, "ver") && strcasecmp(name, "rev") &&
			 strcasecmp(name, "severity") && strcasecmp(name, "maturity") &&
			 strcasecmp(name, "accuracy") && strcasecmp(name, "auditlog") &&
			 strcasecmp(name, "noauditlog") && strcasecmp(name, "pass"))
			r->other_action = true;
		if (rc < 0) {
			free(buf);
			return -1;
		}
	}
	free(buf);
	return 0;
}

/* ---- the rule set -------------------------------------------------------- */

static struct sl_rule *new_rule(struct sl_ruleset *rs, const char *file, int line)
{
	if (rs->nrules == rs->cap) {
		size_t nc = rs->cap ? 2 * rs->cap : 256;
		void *p = realloc(rs->rules, nc * sizeof(*rs->rules));
		if (!p)
			return NULL;
		rs->rules = p;
		rs->cap = nc;
	}
	struct sl_rule *r = &rs->rules[rs->nrules++];
	memset(r, 0, sizeof(*r));
	r->phase = 2;
	r->file = file;
	r->line = line;
	return r;
}

static struct sl_link *new_link(struct sl_rule *r)
{
	void *p = realloc(r->links, (r->nlinks + 1) * sizeof(*r->links));

	if (!p)
		return NULL;
	r->links = p;
	memset(&r->links[r->nlinks], 0, sizeof(*r->links));
	return &r->links[r->nlinks++];
}

static void free_vars(struct sl_link *l)
{
	for (size_t k = 0; k < l->nvars; k++) {
		free(l->vars[k].sel);
		free(l->vars[k].name);
	}
	free(l->vars);
	l->vars = NULL;
	l->nvars = 0;
}

/* Appends copies of the exclusions in from to link l's variables. */
static int add_exclusions(struct sl_link *l, const struct sl_link *from)
{
	void *p = realloc(l->vars, (l->nvars + from->nvars) * sizeof(*l->vars));

	if (!p)
		return -1;
	l->vars = p;
	for (size_t i = 0; i < from->nvars; i++) {
		struct sl_var *v = &l->vars[l->nvars];
		*v = from->vars[i];
		v->name = strdup(from->vars[i].name);
		v->sel = from->vars[i].sel ? strdup(from->vars[i].sel) : NULL;
		if (!v->name || (from->vars[i].sel && !v->sel)) {
			free(v->name);
			free(v->sel);
			return -1;
		}
		l->nvars++;
	}
	return 0;
}

/* SecRuleUpdateTargetById ID TARGETS.  Exclusions only (every target "!"),
 * one numeric id: recorded for rules read later, and added to the rule if
 * it was read already; returns 0.  Anything else (a target added, an id
 * range or list) returns 1: the caller treats it as a directive the
 * pre-filter cannot follow.  -1: out of memory. */
static int update_target(struct sl_ruleset *rs, const char *ids, const char *targets)
{
	char *end;
	long id = strtol(ids, &end, 10);
	struct sl_link tmp = { 0 };

	if (end == ids || *end || id <= 0)
		return 1;
	if (parse_vars(targets, &tmp) < 0) {
		free_vars(&tmp);
		return -1;
	}
	bool only_excl = tmp.nvars > 0;
	for (size_t i = 0; i < tmp.nvars; i++)
		only_excl = only_excl && tmp.vars[i].exclude;
	if (!only_excl) {
		free_vars(&tmp);
		return 1;
	}
	for (size_t i = 0; i < rs->nrules; i++) {
		struct sl_rule *r = &rs->rules[i];
		if (r->id == id && r->nlinks && add_exclusions(&r->links[0], &tmp) < 0) {
			free_vars(&tmp);
			return -1;
		}
	}
	void *p = realloc(rs->updates, (rs->nupdates + 1) * sizeof(*rs->updates));
	if (!p) {
		free_vars(&tmp);
		return -1;
	}
	rs->updates = p;
	rs->updates[rs->nupdates].id = id;
	rs->updates[rs->nupdates++].vars = tmp;
	return 0;
}

struct load_state {
	struct sl_ruleset *rs;
	struct sl_rule *chain_rule;	/* a chain waiting for its next link */
	int depth;
	char *err;
	size_t errlen;
};

static int load_file(struct load_state *st, const char *path);

static int do_include(struct load_state *st, const char *pattern, bool optional,
		      const char *from)
{
	char path[4096];
	glob_t g;

	if (pattern[0] != '/') {
		char *d = strdup(from);
		if (!d)
			return -1;
		snprintf(path, sizeof(path), "%s/%s", dirname(d), pattern);
		free(d);
	} else {
		snprintf(path, sizeof(path), "%s", pattern);
	}
	int rc = glob(path, 0, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		if (optional || strpbrk(path, "*?["))
			return 0;
		snprintf(st->err, st->errlen, "%s: no such file", path);
		return -1;
	}
	if (rc != 0) {
		snprintf(st->err, st->errlen, "%s: glob failed", path);
		return -1;
	}
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (load_file(st, g.gl_pathv[i]) < 0) {
			globfree(&g);
			return -1;
		}
	globfree(&g);
	return 0;
}

static int directive(struct load_state *st, char *line, const char *file, int lineno)
{
	char *argv[4] = { 0 };
	size_t argc = split_args(line, argv, 4);
	struct sl_ruleset *rs = st->rs;

	if (argc == 0)
		return 0;
	if (!strcasecmp(argv[0], "Include") || !strcasecmp(argv[0], "IncludeOptional")) {
		if (argc < 2)
			return 0;
		return do_include(st, argv[1], !strcasecmp(argv[0], "IncludeOptional"), file);
	}
	if (!strcasecmp(argv[0], "SecMarker")) {
		struct sl_rule *r = new_rule(rs, file, lineno);
		if (!r)
			return -1;
		r->is_marker = true;
		r->marker = strdup(argc > 1 ? argv[1] : "");
		return r->marker ? 0 : -1;
	}
	if (!strcasecmp(argv[0], "SecRuleUpdateTargetById") && argc >= 3) {
		int rc = update_target(rs, argv[1], argv[2]);
		if (rc <= 0)
			return rc;
		/* rc 1: not exclusions only: below */
	}
	/* Directives that change rules already read (targets, actions,
	 * transformations) or how arguments are split: the pre-filter does
	 * not follow them, so it must not claim anything (see prefilter.c). */
	if (!strncasecmp(argv[0], "SecRuleUpdate", 13) ||
	    !strcasecmp(argv[0], "SecArgumentSeparator") ||
	    (!strcasecmp(argv[0], "SecDefaultAction") && argc > 1 && strcasestr(argv[1], "t:") &&
	     strcasestr(argv[1], "t:") != strcasestr(argv[1], "t:none"))) {
		if (!rs->unsupported[0])
			snprintf(rs->unsupported, sizeof(rs->unsupported), "%s (%s:%d)", argv[0],
				 file, lineno);
		return 0;
	}
	/* Uploads written to files: FILES_TMPNAMES, FILES_TMP_CONTENT and
	 * SecUploadFileLimit come into play, which the multipart parser of
	 * the scan does not model: such bodies "might match". */
	if ((!strcasecmp(argv[0], "SecUploadKeepFiles") ||
	     !strcasecmp(argv[0], "SecTmpSaveUploadedFiles")) &&
	    argc > 1 && strcasecmp(argv[1], "Off")) {
		rs->upload_files = true;
		return 0;
	}
	/* What `block` means, per phase (ModSecurity's own default is pass):
	 * a default without `pass`, or with any disruptive action, makes a
	 * `block` rule one that may stop the request. */
	if (!strcasecmp(argv[0], "SecDefaultAction")) {
		const char *a = argc > 1 ? argv[1] : "";
		const char *ph = strcasestr(a, "phase:");
		int n = ph ? atoi(ph + 6) : 0;
		if (ph && !strncasecmp(ph + 6, "request", 7))
			n = 2;
		bool bad = !strcasestr(a, "pass") || strcasestr(a, "deny") || strcasestr(a, "drop") ||
			   strcasestr(a, "redirect") || strcasestr(a, "allow") ||
			   strcasestr(a, "proxy") || strcasestr(a, "pause") || strcasestr(a, "block");
		for (int i = 0; i < 6; i++)
			if (i == n || n < 1 || n > 5)
				rs->default_nonpass[i] |= bad;
		if (n >= 1 && n <= 5 && !bad)
			rs->default_pass[n] = true;
		/* falls through to the checks below (none apply) */
	}
	bool is_rule = !strcasecmp(argv[0], "SecRule");
	bool is_action = !strcasecmp(argv[0], "SecAction");
	if (!is_rule && !is_action)
		return 0;
	const char *vars = is_rule ? argv[1] : NULL;
	const char *op = is_rule ? argv[2] : NULL;
	const char *acts = is_rule ? argv[3] : argv[1];
	if (is_rule && (!vars || !op)) {
		snprintf(st->err, st->errlen, "%s:%d: SecRule needs variables and an operator",
			 file, lineno);
		return -1;
	}
	if (!acts)
		acts = "";
	struct sl_rule *r = st->chain_rule;
	bool head = r == NULL;
	if (!r) {
		r = new_rule(rs, file, lineno);
		if (!r)
			return -1;
	}
	struct sl_link *l = new_link(r);
	if (!l)
		return -1;
	if (is_rule) {
		if (parse_vars(vars, l) < 0)
			return -1;
		int rc = parse_op(op, l, file);
		if (rc == -2) {
			snprintf(st->err, st->errlen, "%s:%d: cannot read the @pmFromFile list",
				 file, lineno);
			return -1;
		}
		if (rc < 0)
			return -1;
	} else {
		l->op = SL_OP_UNCONDITIONAL;
		l->op_name = strdup("unconditionalMatch");
		l->param = strdup("");
		if (!l->op_name || !l->param)
			return -1;
	}
	if (parse_actions(acts, r, l, head) < 0)
		return -1;
	if (head)
		for (size_t i = 0; i < rs->nupdates; i++)
			if (rs->updates[i].id == r->id && add_exclusions(l, &rs->updates[i].vars) < 0)
				return -1;
	st->chain_rule = l->chain ? r : NULL;
	return 0;
}

static const char *intern_file(struct sl_ruleset *rs, const char *path)
{
	void *p = realloc(rs->files, (rs->nfiles + 1) * sizeof(*rs->files));

	if (!p)
		return NULL;
	rs->files = p;
	rs->files[rs->nfiles] = strdup(path);
	return rs->files[rs->nfiles] ? rs->files[rs->nfiles++] : NULL;
}

static int load_stream(struct load_state *st, FILE *fp, const char *path);

static int load_file(struct load_state *st, const char *path)
{
	if (++st->depth > 16) {
		snprintf(st->err, st->errlen, "%s: includes nested too deep", path);
		return -1;
	}
	FILE *fp = fopen(path, "r");
	if (!fp) {
		snprintf(st->err, st->errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return load_stream(st, fp, path);
}

/* Reads the directives of fp (closed here), named path in errors and
 * relative Includes; st->depth was raised by the caller. */
static int load_stream(struct load_state *st, FILE *fp, const char *path)
{
	const char *file = intern_file(st->rs, path);
	char *logical = NULL;
	size_t llen = 0, lcap = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, start = 0, rc = 0;

	if (!file) {
		fclose(fp);
		return -1;
	}
	while ((n = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		bool cont = n && line[n - 1] == '\\';
		if (cont)
			line[--n] = '\0';
		const char *b = line;
		if (llen == 0) {
			while (isspace((unsigned char)*b))
				b++;
			if (*b == '#' || (!*b && !cont))
				continue;
			start = lineno;
		}
		size_t bl = strlen(b);
		if (llen + bl + 2 > lcap) {
			lcap = 2 * (llen + bl + 2);
			char *p = realloc(logical, lcap);
			if (!p) {
				rc = -1;
				break;
			}
			logical = p;
		}
		memcpy(logical + llen, b, bl);
		llen += bl;
		logical[llen] = '\0';
		if (cont)
			continue;
		rc = directive(st, logical, file, start);
		llen = 0;
		if (rc < 0)
			break;
	}
	if (rc == 0 && llen)
		rc = directive(st, logical, file, start);
	free(line);
	free(logical);
	fclose(fp);
	st->depth--;
	return rc;
}

int sl_load(struct sl_ruleset *rs, const char *path, char *err, size_t errlen)
{
	struct load_state st = { .rs = rs, .err = err, .errlen = errlen };

	if (errlen)
		err[0] = '\0';
	int rc = load_file(&st, path);
	if (rc < 0 && errlen && !err[0])
		snprintf(err, errlen, "%s: out of memory", path);
	return rc;
}

int sl_load_text(struct sl_ruleset *rs, const char *name, const char *text, char *err,
		 size_t errlen)
{
	struct load_state st = { .rs = rs, .err = err, .errlen = errlen, .depth = 1 };

	if (errlen)
		err[0] = '\0';
	/* the same reader as files: fmemopen gives the text a FILE (read-only,
	 * the text is not written) */
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	int rc = fp ? load_stream(&st, fp, name) : -1;
	if (rc < 0 && errlen && !err[0])
		snprintf(err, errlen, "%s: out of memory", name);
	return rc;
}

void sl_free(struct sl_ruleset *rs)
{
	for (size_t i = 0; i < rs->nrules; i++) {
		struct sl_rule *r = &rs->rules[i];
		for (size_t j = 0; j < r->nlinks; j++) {
			struct sl_link *l = &r->links[j];
			for (size_t k = 0; k < l->nvars; k++) {
				free(l->vars[k].sel);
				free(l->vars[k].name);
			}
			free(l->vars);
			free(l->op_name);
			free(l->param);
			for (size_t k = 0; k < l->npm; k++)
				free(l->pm[k]);
			free(l->pm);
			free(l->tfn);
			for (size_t k = 0; k < l->nsetvars; k++) {
				free(l->setvars[k].name);
				free(l->setvars[k].value);
			}
			free(l->setvars);
		}
		free(r->links);
		free(r->marker);
		free(r->skip_after);
	}
	free(rs->rules);
	for (size_t i = 0; i < rs->nupdates; i++)
		free_vars(&rs->updates[i].vars);
	free(rs->updates);
	for (size_t i = 0; i < rs->nfiles; i++)
		free(rs->files[i]);
	free(rs->files);
	memset(rs, 0, sizeof(*rs));
}
