/*
 * pf_clean.h - the pre-filter's memo of clean field values (pf_clean.c),
 * one per scratch, so per thread and per built pre-filter.  Internal.
 *
 * Real traffic repeats its request headers (User-Agent, Accept, a
 * client's cookies) far more than anything else.  The scan (pf_scan.c)
 * asks the memo before it transforms and scans such a field; what the
 * memo keeps is only the answer "this (collection, name, value) gives
 * no rule anything to match", computed by pf_scan.c's field_clean(),
 * keyed by the whole field: every byte of the name and of the value is
 * compared, the hash only finds the slot.  Why that answer depends on
 * nothing else: pf_scan.c, "The clean-value memo".
 */
#ifndef GH_WAF_PF_CLEAN_H
#define GH_WAF_PF_CLEAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pf_clean;

/* Fields longer than these are neither looked up nor kept. */
#define PF_CLEAN_MAX_NAME 128
#define PF_CLEAN_MAX_VALUE 4096

/* NULL when out of memory. */
struct pf_clean *pf_clean_new(void);
void pf_clean_free(struct pf_clean *m);

/* What the memo knows of (mask, name, value): 1 clean, 0 not clean,
 * -1 unknown and seen for the first time, -2 unknown but its hash was
 * seen before (worth computing and keeping: pf_clean_put).  *hash is
 * for pf_clean_put. */
int pf_clean_get(struct pf_clean *m, uint32_t mask, const uint8_t *name, size_t nlen,
		 const uint8_t *val, size_t vlen, uint64_t *hash);

/* Keeps the answer for (mask, name, value), evicting the older entry of
 * its set when both are taken.  Out of memory: nothing is kept. */
void pf_clean_put(struct pf_clean *m, uint64_t hash, uint32_t mask, const uint8_t *name,
		  size_t nlen, const uint8_t *val, size_t vlen, bool clean);

/* Entries kept (tests). */
size_t pf_clean_count(const struct pf_clean *m);

#endif
