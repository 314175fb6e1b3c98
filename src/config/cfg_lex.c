/*
 * cfg_lex.c - the config tokenizer: text -> a tree of directives.
 *
 * Each line becomes a list of tokens (struct cfg_tok); a line ending in '{'
 * opens a block and a line holding only '}' closes it.  The lexer knows
 * nothing about what directives mean - cfg_parse.c walks the tree - so new
 * sections and nested blocks need no change here.
 *
 * Rules: '#' outside quotes starts a comment, even inside a word; "quoted"
 * strings know two escapes, \" and \\ (any other backslash is kept, so
 * regexes such as "\d+" need no doubling); columns count bytes from 1, as
 * compilers do, so a tab is one column.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"

/* Deeper nesting than any section will ever need, but bounded so that a
 * file of 10,000 '{' cannot grow the stack without end. */
#define CFG_MAX_DEPTH 8

struct cfg_lexer {
	struct cfg_parser *p;
	const char *text;
	size_t len;
	char *out;              /* next free byte of p->text */
	const char *const *sections;

	struct cfg_tok *toks;   /* tokens of the current line */
	int *ends;              /* column just past each token */
	int ntok, toks_cap;

	struct cfg_node *stack[CFG_MAX_DEPTH + 1];
	int depth;
	int ignored_opens;      /* blocks past CFG_MAX_DEPTH: their '}' is swallowed */
};

static bool cfg_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int cfg_lex_push_tok(struct cfg_lexer *lx, const char *s, int line, int col, int end,
			    bool quoted)
{
	if (lx->ntok == lx->toks_cap) {
		int cap = lx->toks_cap ? lx->toks_cap * 2 : 16;
		struct cfg_tok *t = realloc(lx->toks, (size_t)cap * sizeof(*t));
		if (t)
			lx->toks = t;
		int *e = t ? realloc(lx->ends, (size_t)cap * sizeof(*e)) : NULL;
		if (!e) {
			cfg_oom(lx->p);
			return -1;
		}
		lx->ends = e;
		lx->toks_cap = cap;
	}
	lx->ends[lx->ntok] = end;
	lx->toks[lx->ntok++] = (struct cfg_tok){ s, line, col, quoted };
	return 0;
}

/* Reads a "quoted" token starting at text[i] (the quote).  Returns the
 * index just past the closing quote, or 0 after reporting an error. */
static size_t cfg_lex_quoted(struct cfg_lexer *lx, size_t i, size_t e, int line, size_t bol)
{
	const char *t = lx->text;
	char *start = lx->out;
	size_t j = i + 1;

	while (j < e && t[j] != '"') {
		if (t[j] == '\\' && j + 1 < e && (t[j + 1] == '"' || t[j + 1] == '\\'))
			j++;
		if (t[j] == '\0') {
			cfg_error(lx->p, line, (int)(j - bol + 1),
				  "unexpected NUL byte in a quoted string; expected text");
			return 0;
		}
		*lx->out++ = t[j++];
	}
	if (j >= e) {
		cfg_error(lx->p, line, (int)(i - bol + 1),
			  "unterminated string; expected a closing '\"' before the end of the line");
		return 0;
	}
	*lx->out++ = '\0';
	j++;
	if (cfg_lex_push_tok(lx, start, line, (int)(i - bol + 1), (int)(j - bol + 1), true) < 0)
		return 0;

	/* Closing parens may hug the quote, as in (path == "/a b"): they
	 * become a token of their own for the condition parser. */
	size_t k = j;
	while (k < e && t[k] == ')')
		k++;
	if (k < e && !cfg_is_blank(t[k]) && t[k] != '#') {
		cfg_error(lx->p, line, (int)(k - bol + 1),
			  "unexpected '%c' after a quoted string; expected a space", t[k]);
		return 0;
	}
	if (k > j) {
		memcpy(lx->out, t + j, k - j);
		lx->out[k - j] = '\0';
		if (cfg_lex_push_tok(lx, lx->out, line, (int)(j - bol + 1), (int)(k - bol + 1),
				     false) < 0)
			return 0;
		lx->out += k - j + 1;
	}
	return k;
}

/*
 * Splits text[bol..e) into lx->toks.  Returns false if the line is unusable
 * (error reported): it is then dropped whole, because half a directive would
 * only produce confusing follow-up errors.
 */
static bool cfg_lex_line(struct cfg_lexer *lx, size_t bol, size_t e, int line)
{
	const char *t = lx->text;
	size_t i = bol;

	lx->ntok = 0;
	while (i < e) {
		char c = t[i];
		if (cfg_is_blank(c)) {
			i++;
			continue;
		}
		if (c == '#')
			break;
		if (c == '"') {
			i = cfg_lex_quoted(lx, i, e, line, bol);
			if (!i)
				return false;
			continue;
		}
		size_t j = i;
		while (j < e && !cfg_is_blank(t[j]) && t[j] != '#' && t[j] != '"' && t[j] != '\0')
			j++;
		/* opening parens may hug a quote too: ("a b" == x) */
		bool parens = true;
		for (size_t k = i; k < j; k++)
			parens = parens && t[k] == '(';
		if (j < e && t[j] == '"' && !parens) {
			cfg_error(lx->p, line, (int)(j - bol + 1),
				  "unexpected '\"' inside a word; expected the whole value quoted");
			return false;
		}
		if (j < e && t[j] == '\0') {
			cfg_error(lx->p, line, (int)(j - bol + 1),
				  "unexpected NUL byte; expected text");
			return false;
		}
		memcpy(lx->out, t + i, j - i);
		lx->out[j - i] = '\0';
		if (cfg_lex_push_tok(lx, lx->out, line, (int)(i - bol + 1), (int)(j - bol + 1),
				     false) < 0)
			return false;
		lx->out += j - i + 1;
		i = j;
	}
	return true;
}

static bool cfg_tok_is(const struct cfg_tok *t, const char *s)
{
	return !t->quoted && strcmp(t->s, s) == 0;
}

/* Appends a directive made of the first n tokens of the line to the block
 * on top of the stack. */
static struct cfg_node *cfg_lex_add_node(struct cfg_lexer *lx, int n)
{
	struct cfg_node *parent = lx->stack[lx->depth];

	if (parent->nkids == parent->kids_cap) {
		int cap = parent->kids_cap ? parent->kids_cap * 2 : 8;
		struct cfg_node *k = realloc(parent->kids, (size_t)cap * sizeof(*k));
		if (!k) {
			cfg_oom(lx->p);
			return NULL;
		}
		parent->kids = k;
		parent->kids_cap = cap;
	}
	struct cfg_node *node = &parent->kids[parent->nkids];
	memset(node, 0, sizeof(*node));
	if (n > 0) {
		node->toks = malloc((size_t)n * sizeof(*node->toks));
		if (!node->toks) {
			cfg_oom(lx->p);
			return NULL;
		}
		memcpy(node->toks, lx->toks, (size_t)n * sizeof(*node->toks));
		node->line = lx->toks[0].line;
		node->col = lx->toks[0].col;
	}
	node->ntok = n;
	node->end_col = n > 0 ? lx->ends[n - 1] : 1;
	parent->nkids++;
	return node;
}

static void cfg_lex_open(struct cfg_lexer *lx, struct cfg_node *node, const struct cfg_tok *brace)
{
	node->block = true;
	node->brace_line = brace->line;
	node->brace_col = brace->col;
	if (lx->depth == CFG_MAX_DEPTH) {
		cfg_error(lx->p, brace->line, brace->col,
			  "blocks nest too deeply; expected at most %d levels", CFG_MAX_DEPTH);
		node->block = false;
		lx->ignored_opens++;
		return;
	}
	lx->stack[++lx->depth] = node;
}

static bool cfg_lex_is_section(const struct cfg_lexer *lx, const struct cfg_tok *t)
{
	for (const char *const *s = lx->sections; s && *s; s++)
		if (cfg_tok_is(t, *s))
			return true;
	return false;
}

static void cfg_lex_close(struct cfg_lexer *lx)
{
	const struct cfg_tok *t = &lx->toks[0];

	/* Reported, but the block still closes: that is almost surely what
	 * was meant, and it keeps the rest of the file in step. */
	if (lx->ntok > 1)
		cfg_error(lx->p, t[1].line, t[1].col,
			  "unexpected '%s' after '}'; expected '}' alone on its line", t[1].s);
	if (lx->ignored_opens > 0) {
		lx->ignored_opens--;
		return;
	}
	if (lx->depth == 0) {
		cfg_error(lx->p, t->line, t->col, "unbalanced '}'; no block is open here");
		return;
	}
	lx->depth--;
}

/* Turns one tokenised line into a directive, an opened block or a close. */
static void cfg_lex_structure(struct cfg_lexer *lx)
{
	struct cfg_tok *t = lx->toks;
	int n = lx->ntok;

	if (cfg_tok_is(&t[0], "}")) {
		cfg_lex_close(lx);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (i > 0 && cfg_tok_is(&t[i], "}")) {
			cfg_error(lx->p, t[i].line, t[i].col,
				  "unexpected '}' after '%s'; expected '}' alone on its line",
				  t[i - 1].s);
			return;
		}
		if (i < n - 1 && cfg_tok_is(&t[i], "{")) {
			cfg_error(lx->p, t[i].line, t[i].col,
				  "unexpected '%s' after '{'; expected '{' at the end of the line",
				  t[i + 1].s);
			return;
		}
	}

	/* At the top level every line names a section, so "backend app{" can
	 * only mean one thing; deeper, a trailing '{' may belong to a value. */
	struct cfg_tok *last = &t[n - 1];
	size_t llen = strlen(last->s);
	if (lx->depth == 0 && !last->quoted && llen > 1 && last->s[llen - 1] == '{') {
		((char *)last->s)[llen - 1] = '\0';
		int end = lx->ends[n - 1]--;
		if (cfg_lex_push_tok(lx, "{", last->line, end - 1, end, false) < 0)
			return;
		t = lx->toks;
		n = lx->ntok;
	}

	if (cfg_tok_is(&t[n - 1], "{")) {
		struct cfg_node *top = lx->stack[lx->depth];
		if (n == 1 && lx->depth > 0 && top->brace_missing && top->nkids == 0) {
			/* "backend app" then "{" on the next line, nginx-style */
			cfg_error(lx->p, t[0].line, t[0].col,
				  "'{' must end the line that opens the block; expected it after "
				  "'%s'",
				  top->toks[top->ntok - 1].s);
			top->brace_missing = false;
			return;
		}
		if (n == 1)
			cfg_error(lx->p, t[0].line, t[0].col,
				  "'{' opens nothing; expected it at the end of a line such as "
				  "'backend NAME {'");
		struct cfg_node *node = cfg_lex_add_node(lx, n - 1);
		if (node)
			cfg_lex_open(lx, node, &t[n - 1]);
		return;
	}

	struct cfg_node *node = cfg_lex_add_node(lx, n);
	if (node && lx->depth == 0 && cfg_lex_is_section(lx, &t[0])) {
		node->brace_missing = true;
		cfg_lex_open(lx, node, &t[n - 1]);
	}
}

void cfg_lex(struct cfg_parser *p, const char *text, size_t len, const char *const *sections)
{
	struct cfg_lexer lx = { .p = p, .text = text, .len = len, .sections = sections };

	/* A token's text is never longer than its source, and each token
	 * adds one NUL, so twice the input is a generous bound that needs no
	 * per-byte check. */
	p->text = malloc(2 * len + 2);
	if (!p->text) {
		cfg_oom(p);
		return;
	}
	lx.out = p->text;
	lx.stack[0] = &p->root;

	size_t bol = 0;
	int line = 1;
	while (bol < len && !p->oom) {
		const char *nl = memchr(text + bol, '\n', len - bol);
		size_t e = nl ? (size_t)(nl - text) : len;

		if (cfg_lex_line(&lx, bol, e, line) && lx.ntok > 0)
			cfg_lex_structure(&lx);
		bol = e + 1;
		line++;
	}
	for (; lx.depth > 0; lx.depth--) {
		const struct cfg_node *n = lx.stack[lx.depth];
		cfg_error(p, n->brace_line, n->brace_col,
			  "block '%s%s%s' is never closed; expected '}' before the end of the file",
			  n->ntok ? n->toks[0].s : "", n->ntok > 1 ? " " : "",
			  n->ntok > 1 ? n->toks[1].s : "");
	}
	free(lx.toks);
	free(lx.ends);
}

void cfg_node_free(struct cfg_node *n)
{
	for (int i = 0; i < n->nkids; i++)
		cfg_node_free(&n->kids[i]);
	free(n->kids);
	free(n->toks);
	n->kids = NULL;
	n->toks = NULL;
	n->nkids = n->kids_cap = 0;
}
