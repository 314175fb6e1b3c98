/*
 * log.h - logging to stderr, one write() per line so lines from several
 * worker threads never interleave.  Later issues add access logs and
 * remote targets behind the same calls.
 *
 * A stderr that is a pipe or socket is written by a thread of its own once
 * log_async_start() ran, so a stalled reader never stalls a worker: lines
 * wait in a bounded ring, and are dropped and counted when it is full.
 */
#ifndef GH_CORE_LOG_H
#define GH_CORE_LOG_H

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern int log_level;

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Main thread: start after blocking signals (the writer thread inherits
 * the mask), stop last, after the final line (it flushes what is left). */
void log_async_start(void);
void log_async_stop(void);

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  do { if (log_level >= LOG_WARN) log_msg(LOG_WARN, __VA_ARGS__); } while (0)
#define log_info(...)  do { if (log_level >= LOG_INFO) log_msg(LOG_INFO, __VA_ARGS__); } while (0)
#define log_debug(...) do { if (log_level >= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
