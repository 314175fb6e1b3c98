/*
 * log.c - timestamped log lines on stderr (see log.h).
 *
 * When stderr is a pipe or a socket (journald, a container runtime, a
 * logger process), whoever reads it can stall, and a write() to a full pipe
 * would stall the worker that logs - and with it every connection it
 * serves.  So once log_async_start() ran, lines go into a bounded ring (one
 * copy under a mutex) and a thread of their own writes them out; when the
 * ring is full a line is dropped and counted, and the count is logged as
 * soon as the output moves again.  A regular file (or a terminal) is
 * written directly, as before start and after log_async_stop(): a disk
 * write does not wait for a reader, and the lines then appear at once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/log.h"

#define LOG_RING_SIZE (1 << 20)     /* bytes of lines waiting for the writer */
#define LOG_CHUNK (64 * 1024)       /* the writer takes at most this much at once */
#define LOG_FLUSH_S 3               /* at exit, how long the writer may take */

int log_level = LOG_INFO;

static const char *const level_names[] = { "err", "warn", "info", "debug" };

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *ring;
	size_t head, len;           /* unread bytes: [head, head + len) modulo the size */
	unsigned long dropped;      /* lines that did not fit since the last report */
	bool running, stop;
	pthread_t thread;
} lg = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;   /* nowhere left to say it */
		}
		p += w;
		n -= (size_t)w;
	}
}

static size_t format_line(char *line, size_t cap, enum log_level lvl, const char *fmt,
			  va_list ap)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ [%s] ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl]);
	int m = vsnprintf(line + n, cap - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	size_t len = (size_t)n + (size_t)m;
	if (len > cap - 2)
		len = cap - 2;
	line[len++] = '\n';
	return len;
}

static size_t make_line(char *line, size_t cap, enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t make_line(char *line, size_t cap, enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t len = format_line(line, cap, lvl, fmt, ap);
	va_end(ap);
	return len;
}

static void ring_put(const char *p, size_t n)
{
	size_t tail = (lg.head + lg.len) % LOG_RING_SIZE;
	size_t first = LOG_RING_SIZE - tail < n ? LOG_RING_SIZE - tail : n;
	memcpy(lg.ring + tail, p, first);
	memcpy(lg.ring, p + first, n - first);
	lg.len += n;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	size_t len = format_line(line, sizeof(line), lvl, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&lg.lock);
	if (!lg.running) {
		pthread_mutex_unlock(&lg.lock);
		/* One write per line: atomic for pipes up to PIPE_BUF. */
		write_all(line, len);
		return;
	}
	if (LOG_RING_SIZE - lg.len < len) {
		lg.dropped++;
	} else {
		ring_put(line, len);
		pthread_cond_signal(&lg.cond);
	}
	pthread_mutex_unlock(&lg.lock);
}

static void *log_writer(void *arg)
{
	static char chunk[LOG_CHUNK];
	(void)arg;

	pthread_mutex_lock(&lg.lock);
	for (;;) {
		while (lg.len == 0 && !lg.dropped && !lg.stop)
			pthread_cond_wait(&lg.cond, &lg.lock);
		if (lg.len == 0 && !lg.dropped && lg.stop)
			break;
		size_t n = lg.len < LOG_CHUNK ? lg.len : LOG_CHUNK;
		size_t first = LOG_RING_SIZE - lg.head < n ? LOG_RING_SIZE - lg.head : n;
		memcpy(chunk, lg.ring + lg.head, first);
		memcpy(chunk + first, lg.ring, n - first);
		/* Whole lines only (the ring holds whole lines, each < 1 KiB),
		 * so the dropped count never lands inside one. */
		while (n > 0 && chunk[n - 1] != '\n')
			n--;
		lg.head = (lg.head + n) % LOG_RING_SIZE;
		lg.len -= n;
		unsigned long dropped = lg.dropped;
		lg.dropped = 0;
		pthread_mutex_unlock(&lg.lock);
		write_all(chunk, n);   /* may block: only this thread waits */
		if (dropped) {
			char line[256];
			write_all(line, make_line(line, sizeof(line), LOG_WARN,
						  "log output too slow: %lu line%s dropped", dropped,
						  dropped == 1 ? "" : "s"));
		}
		pthread_mutex_lock(&lg.lock);
	}
	pthread_mutex_unlock(&lg.lock);
	return NULL;
}

void log_async_start(void)
{
	struct stat st;

	if (fstat(STDERR_FILENO, &st) == 0 && (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)))
		return;   /* a file or a terminal: nobody to wait for */
	char *ring = malloc(LOG_RING_SIZE);
	if (!ring)
		return;
	pthread_mutex_lock(&lg.lock);
	lg.ring = ring;
	lg.head = lg.len = 0;
	lg.stop = false;
	if (pthread_create(&lg.thread, NULL, log_writer, NULL) == 0)
		lg.running = true;
	pthread_mutex_unlock(&lg.lock);
	if (!lg.running) {
		free(ring);
		lg.ring = NULL;
	}
}

void log_async_stop(void)
{
	pthread_mutex_lock(&lg.lock);
	if (!lg.running) {
		pthread_mutex_unlock(&lg.lock);
		return;
	}
	lg.stop = true;
	pthread_cond_signal(&lg.cond);
	pthread_mutex_unlock(&lg.lock);
	/* A reader that stays stalled must not keep the process from exiting:
	 * the writer gets a few seconds to flush, then is left behind. */
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += LOG_FLUSH_S;
	if (pthread_timedjoin_np(lg.thread, NULL, &until) != 0)
		return;
	pthread_mutex_lock(&lg.lock);
	lg.running = false;
	free(lg.ring);
	lg.ring = NULL;
	pthread_mutex_unlock(&lg.lock);
}
