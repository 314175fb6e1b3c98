/*
 * alog_internal.h - what access_log.c and the unit tests share of the
 * line formatter (access_fmt.c).  Nothing outside src/log/ and the tests
 * includes this.
 */
#ifndef GH_LOG_ALOG_INTERNAL_H
#define GH_LOG_ALOG_INTERNAL_H

#include <stddef.h>

#include "config/cfg.h"
#include "log/access_log.h"

/* Room one formatted line may need, newline included: the field budgets
 * (access_log.h, "long fields") add up to less than this. */
#define ALOG_LINE_MAX (16 * 1024)

/*
 * Formats `r` as one line in `fmt`, newline included, into out[0..cap).
 * With cap >= ALOG_LINE_MAX the line is never cut; with less it is cut at
 * cap - 1 and still ends with a newline.  Returns its length.  Uses a
 * per-thread cache of the formatted second, so it is cheap on a busy
 * thread and safe on any thread.
 */
size_t alog_format(enum access_log_format fmt, char *out, size_t cap, const struct access_rec *r);

#endif
