/*
 * pf_int.h - internals shared by the WAF pre-filter's files: the rule model
 * read from SecLang (seclang.c), ModSecurity's transformations
 * (transform.c) and the pre-filter proper (prefilter.c).  Nothing here is
 * public; the integrator sees only prefilter.h.
 */
#ifndef GH_WAF_PF_INT_H
#define GH_WAF_PF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- collections a rule can read ---------------------------------------- */

/* One bit per collection the pre-filter computes from a request.  A field
 * carries every collection it belongs to (a query argument is in ARGS and
 * ARGS_GET). */
enum pf_coll {
	PF_C_ARGS_GET = 0,
	PF_C_ARGS_POST,
	PF_C_ARGS_GET_NAMES,
	PF_C_ARGS_POST_NAMES,
	PF_C_ARGS_JSON,		/* JSON body arguments: in ARGS, not ARGS_POST */
	PF_C_ARGS_JSON_NAMES,
	PF_C_COOKIES,
	PF_C_COOKIES_NAMES,
	PF_C_HEADERS,
	PF_C_HEADERS_NAMES,
	PF_C_URI,
	PF_C_URI_RAW,
	PF_C_FILENAME,
	PF_C_BASENAME,
	PF_C_LINE,
	PF_C_QS,
	PF_C_BODY,
	PF_C_METHOD,
	PF_C_PROTOCOL,
	PF_C_REQBODY_PROCESSOR,
	PF_C_ARGS_COMBINED_SIZE,
	PF_C_REQBODY_ERROR,	/* "0": every body that could fail to parse is "might" */
	/* a multipart/form-data body (pf_multipart.c) */
	PF_C_FILES,		/* part name -> filename */
	PF_C_FILES_NAMES,
	PF_C_FILES_SIZES,
	PF_C_FILES_TMP_CONTENT,	/* "" per file: nothing is extracted */
	PF_C_FILES_COMBINED_SIZE,
	PF_C_MULTIPART_NAME,
	PF_C_MULTIPART_FILENAME,
	PF_C_MULTIPART_PART_HEADERS,	/* part name -> each header line, CRLF included */
	PF_C_COUNT
};

/* Variable kinds in a rule beyond the request collections above. */
enum pf_vkind {
	PF_V_COLL,		/* coll_mask says which collections */
	PF_V_TX,		/* TX:name or TX:/re/ */
	PF_V_MATCHED,		/* MATCHED_VAR, MATCHED_VARS */
	PF_V_EMPTY,		/* collections that are empty whenever the
				 * pre-filter skips (XML:/ *, FILES_TMPNAMES) */
	PF_V_UNKNOWN,		/* anything else: REMOTE_ADDR, IP:, GEO, ... */
};

struct sl_var {
	enum pf_vkind kind;
	uint32_t coll_mask;
	char *sel;		/* selector after ':' (NULL: whole collection) */
	bool sel_regex;		/* selector was /re/ */
	bool count;		/* &VAR */
	bool exclude;		/* !VAR:sel */
	char *name;		/* the variable as written, for messages */
};

enum sl_op {
	SL_OP_RX, SL_OP_PM, SL_OP_PMF, SL_OP_CONTAINS, SL_OP_CONTAINSWORD,
	SL_OP_BEGINSWITH, SL_OP_ENDSWITH, SL_OP_STREQ, SL_OP_WITHIN,
	SL_OP_EQ, SL_OP_LT, SL_OP_GT, SL_OP_GE, SL_OP_LE,
	SL_OP_DETECTSQLI, SL_OP_DETECTXSS,
	SL_OP_VALIDATEBYTERANGE, SL_OP_VALIDATEURLENC, SL_OP_VALIDATEUTF8,
	SL_OP_UNCONDITIONAL, SL_OP_NOMATCH,
	SL_OP_OTHER,		/* @ipMatch, @rbl, @geoLookup, ...: unknown */
};

struct sl_setvar {
	char *name;		/* lower-case, without "tx." (NULL: not TX) */
	char *value;		/* NULL for plain "setvar:tx.x" */
	char mode;		/* '=', '+', '-', '!' (delete) */
};

/* One link of a rule (a chain has several). */
struct sl_link {
	struct sl_var *vars;
	size_t nvars;
	enum sl_op op;
	bool neg;
	char *op_name;
	char *param;		/* operator argument, macros unexpanded */
	char **pm;		/* @pm / @pmFromFile phrases */
	size_t npm;
	int *tfn;		/* transformation ids (after the last t:none) */
	size_t ntfn;
	bool multimatch;
	bool capture;
	bool chain;		/* the next SecRule is this rule's next link */
	struct sl_setvar *setvars;
	size_t nsetvars;
};

struct sl_rule {
	long id;
	int phase;		/* 1..5 */
	bool nolog, log, disruptive, has_msg;
	bool is_marker;
	char *marker;		/* SecMarker name */
	char *skip_after;	/* skipAfter: target */
	int skip;		/* skip:N */
	bool ctl_json;		/* ctl:requestBodyProcessor=JSON */
	bool ctl_other;		/* ctl:requestBodyProcessor= another one */
	bool block;		/* `block`: the phase's SecDefaultAction decides */
	bool other_action;	/* an action beyond id, phase, t, setvar, chain,
				 * capture, multiMatch, (no)log, (no)auditlog, pass,
				 * block and the informational ones (msg, logdata,
				 * tag, ver, rev, severity, maturity, accuracy) */
	struct sl_link *links;
	size_t nlinks;
	const char *file;
	int line;
};

/* SecRuleUpdateTargetById ID "!VAR|...": exclusions only, added to the
 * first link of rule ID whether it comes before or after (seclang.c). */
struct sl_update {
	long id;
	struct sl_link vars;	/* only vars/nvars are used */
};

struct sl_ruleset {
	struct sl_rule *rules;
	size_t nrules, cap;
	struct sl_update *updates;
	size_t nupdates;
	char unsupported[96];	/* a directive the pre-filter cannot follow */
	bool upload_files;	/* SecUploadKeepFiles / SecTmpSaveUploadedFiles on */
	bool default_nonpass[6];	/* per phase: a SecDefaultAction without `pass`
					 * (or with a disruptive action): `block` may stop */
	bool default_pass[6];		/* per phase: a SecDefaultAction with `pass` */
	char **files;		/* interned file names */
	size_t nfiles;
};

/* seclang.c */
int sl_load(struct sl_ruleset *rs, const char *path, char *err, size_t errlen);
/* The same for rules held in memory (gatehouse's prologue, its default
 * exclusions); name stands for the file in errors and relative Includes. */
int sl_load_text(struct sl_ruleset *rs, const char *name, const char *text, char *err,
		 size_t errlen);
void sl_free(struct sl_ruleset *rs);

/* ---- transformations ---------------------------------------------------- */

enum pf_tfn {
	T_LOWERCASE, T_URLDECODEUNI, T_URLDECODE, T_COMPRESSWS, T_REMOVEWS,
	T_REMOVENULLS, T_REPLACECOMMENTS, T_CMDLINE, T_LENGTH, T_TRIM,
	T_TRIMLEFT, T_TRIMRIGHT, T_BASE64DECODE,
	T_HTMLENTITYDECODE, T_JSDECODE, T_CSSDECODE, T_UTF8TOUNICODE,
	T_NORMALISEPATH, T_NORMALISEPATHWIN,
	/* never replicated: a link using one is evaluated as "unknown" */
	T_OPAQUE,
};

int pf_tfn_lookup(const char *name);	/* -1: not a transformation we know */

/* A growable byte buffer for transformation output. */
struct pf_buf {
	uint8_t *p;
	size_t len, cap;
};

int pf_buf_reserve(struct pf_buf *b, size_t n);
void pf_buf_free(struct pf_buf *b);

/* Applies transformation t to in[0..len) into out (replaced).  Returns 1 on
 * success, 0 when the result cannot be computed (a transformation not
 * replicated; the caller then treats the link as "might match"), -1 when
 * out of memory. */
int pf_tfn_apply(int t, const uint8_t *in, size_t len, struct pf_buf *out);

/* true when transformation t leaves in[0..len) as it is (a cheap check for
 * the common case: no '%' for t:urlDecode, no upper case for t:lowercase,
 * ...); false may also mean "not known". */
bool pf_tfn_identity(int t, const uint8_t *in, size_t len);

/* The byte classes of in[0..len) (never 0), and pf_tfn_identity() for a
 * value with those classes: the single-byte checks are answered from
 * them, one pass over a value for all of a field's chains. */
uint32_t pf_tfn_classes(const uint8_t *in, size_t len);
bool pf_tfn_identity_cls(int t, uint32_t classes, const uint8_t *in, size_t len);

#endif
