/*
 * pf_clean.h - the pre-filter's memo of field verdicts (pf_clean.c), one
 * per scratch, so per thread and per built pre-filter.  Internal.
 *
 * Real traffic repeats its request headers (User-Agent, Accept, a
 * client's cookies) and much of its targets and arguments.  The scan
 * (pf_scan.c) asks the memo before it transforms and scans a field; what
 * the memo keeps for a (collection, name, value) is the list of links
 * that field makes say "might" (most often none), keyed by the whole
 * field: every byte of the name and of the value is compared, the hash
 * only finds the slot.  Why that list is all the field contributes:
 * pf_scan.c, "the memo of field verdicts".
 */
#ifndef GH_WAF_PF_CLEAN_H
#define GH_WAF_PF_CLEAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pf_clean;

/* Fields longer than these are neither looked up nor kept. */
#define PF_CLEAN_MAX_NAME 128
#define PF_CLEAN_MAX_VALUE 4096	/* a header or a cookie */
#define PF_CLEAN_MAX_OTHER 512	/* an argument, the target's parts */

/* NULL when out of memory. */
struct pf_clean *pf_clean_new(void);
void pf_clean_free(struct pf_clean *m);

/* The most links a kept field may make "might" (more: not kept). */
#define PF_CLEAN_MAX_LINKS 8

/* What the memo knows of (mask, name, value): 1 known: all it gives the
 * rules is a "might" for the links (global indexes) *links[0..*nlinks),
 * often none; 0 known not to be replaceable so (scan it); -1 unknown and
 * seen for the first time; -2 unknown but its hash was seen before
 * (worth computing and keeping: pf_clean_put).  *hash is for
 * pf_clean_put; *links stays valid until the next put. */
int pf_clean_get(struct pf_clean *m, uint32_t mask, const uint8_t *name, size_t nlen,
		 const uint8_t *val, size_t vlen, uint64_t *hash, const uint32_t **links,
		 size_t *nlinks);

/* Keeps the answer for (mask, name, value) (known: 1 or 0 as above; the
 * links when known), evicting the older entry of its set when both are
 * taken.  Out of memory or over the budget: nothing is kept. */
void pf_clean_put(struct pf_clean *m, uint64_t hash, uint32_t mask, const uint8_t *name,
		  size_t nlen, const uint8_t *val, size_t vlen, bool known, const uint32_t *links,
		  size_t nlinks);

/* Entries kept (tests). */
size_t pf_clean_count(const struct pf_clean *m);

#endif
