/*
 * access_log.c - where access log lines go once formatted (access_log.h
 * has the whole picture): per-thread buffers on the workers, a bounded
 * queue, and one writer thread for every target.
 *
 * The request's "log" step runs on a worker, which must never wait for a
 * disk or a pipe reader.  So a worker only formats into a buffer of its
 * own (thread-local, one per target, no lock); once per event-loop turn it
 * copies what it has into a chunk and appends the chunk to one queue (one
 * mutex, held for a pointer swap).  The queue is bounded in bytes: a chunk
 * that does not fit is dropped and its lines counted, and the writer
 * reports the count.  The writer is the only thread that calls write(),
 * open() and close() on targets, which is what makes SIGUSR1's reopen
 * race-free: a reopen is a marker in the queue, so lines queued before it
 * land in the old file and lines after it in the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "log/alog_internal.h"

#define ALOG_TBUF (64 * 1024)        /* per thread and target; > ALOG_LINE_MAX */
#define ALOG_BATCH (16 * 1024)       /* a worker hands lines over in batches this big... */
#define ALOG_FLUSH_MS 100            /* ...or this old, whichever comes first */
#define ALOG_QUEUE_MAX (8u << 20)    /* bytes waiting for the writer, all targets */
#define ALOG_FLUSH_S 3               /* at exit, how long the writer may take */
#define ALOG_ERR_EVERY_S 10          /* write errors are logged at most this often */
#define ALOG_MAX_TARGETS 256         /* files open at once, reloads included: the array
					never moves, workers index it without a lock */

struct alog_target {
	char *path;                  /* "stdout", "stderr" or a file (as configured) */
	int fd;
	bool reopenable;             /* a file of ours, not stdout/stderr */
	bool atomic_lines;           /* not a regular file: write at most PIPE_BUF of whole
					lines at once so lines of other writers never split ours */
	int index;                   /* into a thread's buffers */
	_Atomic uint64_t dropped, dropped_unreported;   /* queue full */
	_Atomic uint64_t lost;       /* write errors, in lines */
	/* writer thread only */
	uint64_t lost_unreported;
	int last_errno;
	time_t last_err_report;
};

struct access_log {
	struct alog_target *t;
	enum access_log_format fmt;
};

/* A reloaded generation's frontends' logs (they may name new files). */
struct gen_logs {
	struct gen_logs *next;
	struct access_log logs[];
};

/* Lines handed to the writer.  t == NULL marks a reopen. */
struct alog_chunk {
	struct alog_chunk *next;
	struct alog_target *t;
	uint32_t len, nlines;
	char data[];
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct alog_chunk *head, *tail;
	size_t queued;               /* bytes of lines in the queue */
	bool stop;
	pthread_t thread;
	struct alog_target *targets;     /* [ALOG_MAX_TARGETS]: never moves */
	_Atomic int ntargets;            /* grows at a reload (access_logs_attach) */
	int cap;
	struct access_log *logs;
	int nlogs;
	struct cfg *cfg;
	struct gen_logs *more;           /* the logs of generations a reload attached */
	bool writer;                     /* the writer thread runs */
	_Atomic bool open;
	_Atomic unsigned gen;        /* changes at every open and close */
} al = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

/* ---- the worker side ------------------------------------------------------ */

/* A thread's lines are written straight into the chunk that goes to the
 * writer: handing them over moves the chunk, it does not copy it. */
struct tbuf {
	struct alog_chunk *c;        /* ALOG_TBUF bytes of data, allocated on first use */
	uint32_t len, nlines;
};

struct tstate {
	unsigned gen;                /* al.gen it was made for */
	bool pending;
	uint64_t pending_since_ms;   /* caller's clock when the oldest pending line came */
	uint32_t pending_bytes;
	int n;
	struct tbuf bufs[];          /* one per target */
};

static __thread struct tstate *tstate;
static pthread_key_t tstate_key;       /* its destructor flushes at thread exit */
static pthread_once_t tstate_once = PTHREAD_ONCE_INIT;

static void tstate_free(struct tstate *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n; i++)
		free(s->bufs[i].c);
	free(s);
}

static void tstate_exit(void *arg)
{
	tstate = arg;
	access_log_flush_thread();
	tstate_free(tstate);
	tstate = NULL;
}

static void tstate_key_init(void)
{
	if (pthread_key_create(&tstate_key, tstate_exit) != 0)
		log_warn("access log: no thread-exit hook; call access_log_flush_thread() at exit");
}

/* This thread's buffers for the logs open now; NULL if memory is short.
 * Buffers left from an earlier open are thrown away (their targets are
 * gone; the workers that filled them flushed them at exit). */
static struct tstate *tstate_get(void)
{
	unsigned gen = atomic_load_explicit(&al.gen, memory_order_acquire);

	int nt = atomic_load_explicit(&al.ntargets, memory_order_acquire);
	if (tstate && tstate->gen == gen && tstate->n >= nt)
		return tstate;
	if (tstate && tstate->gen == gen) {
		/* A reload opened more files: the buffers grow, lines kept. */
		struct tstate *g = realloc(tstate, sizeof(*g) + (size_t)nt * sizeof(struct tbuf));
		if (!g)
			return NULL;
		memset(&g->bufs[g->n], 0, (size_t)(nt - g->n) * sizeof(struct tbuf));
		g->n = nt;
		tstate = g;
		pthread_setspecific(tstate_key, tstate);
		return tstate;
	}
	tstate_free(tstate);
	tstate = calloc(1, sizeof(*tstate) + (size_t)nt * sizeof(struct tbuf));
	if (!tstate)
		return NULL;
	tstate->gen = gen;
	tstate->n = nt;
	pthread_setspecific(tstate_key, tstate);
	return tstate;
}

static void enqueue(struct alog_chunk *c)
{
	c->next = NULL;
	if (al.tail)
		al.tail->next = c;
	else
		al.head = c;
	al.tail = c;
	pthread_cond_signal(&al.cond);
}

static void count_dropped(struct alog_target *t, uint64_t n)
{
	atomic_fetch_add_explicit(&t->dropped, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&t->dropped_unreported, n, memory_order_relaxed);
}

/* Moves a thread buffer's lines to the queue, or drops and counts them.
 * The chunk itself goes, trimmed to its lines (a shrinking realloc() splits
 * the block in place); the next line gets a fresh one. */
static void hand_off(struct alog_target *t, struct tbuf *b)
{
	struct alog_chunk *c = b->c, *trimmed;
	bool queued = false;

	b->c = NULL;
	c->t = t;
	c->len = b->len;
	c->nlines = b->nlines;
	b->len = b->nlines = 0;
	if ((trimmed = realloc(c, sizeof(*c) + c->len)))
		c = trimmed;
	pthread_mutex_lock(&al.lock);
	if (ALOG_QUEUE_MAX - al.queued >= c->len && !al.stop) {
		al.queued += c->len;
		enqueue(c);
		queued = true;
	}
	pthread_mutex_unlock(&al.lock);
	if (!queued) {
		count_dropped(t, c->nlines);
		free(c);
	}
}

void access_log_write(struct access_log *l, const struct access_rec *r)
{
	if (!l || !atomic_load_explicit(&al.open, memory_order_acquire))
		return;
	struct tstate *s = tstate_get();
	struct tbuf *b = s ? &s->bufs[l->t->index] : NULL;
	if (b && b->c && ALOG_TBUF - b->len < ALOG_LINE_MAX)
		hand_off(l->t, b);
	if (b && !b->c)
		b->c = malloc(sizeof(*b->c) + ALOG_TBUF);
	if (!b || !b->c) {
		count_dropped(l->t, 1);
		return;
	}
	uint32_t n = (uint32_t)alog_format(l->fmt, b->c->data + b->len, ALOG_TBUF - b->len, r);
	b->len += n;
	b->nlines++;
	if (!s->pending)
		s->pending_since_ms = 0;   /* stamped by the next access_log_flush_due() */
	s->pending = true;
	s->pending_bytes += n;
}

bool access_log_flush_due(uint64_t now_ms)
{
	struct tstate *s = tstate;

	if (!s || !s->pending)
		return false;
	if (!s->pending_since_ms)
		s->pending_since_ms = now_ms ? now_ms : 1;
	if (s->pending_bytes < ALOG_BATCH && now_ms - s->pending_since_ms < ALOG_FLUSH_MS)
		return true;
	access_log_flush_thread();
	return false;
}

void access_log_flush_thread(void)
{
	struct tstate *s = tstate;

	if (!s || !s->pending)
		return;
	s->pending = false;
	s->pending_bytes = 0;
	if (!atomic_load_explicit(&al.open, memory_order_acquire) ||
	    s->gen != atomic_load_explicit(&al.gen, memory_order_acquire))
		return;
	for (int i = 0; i < s->n; i++)
		if (s->bufs[i].len)
			hand_off(&al.targets[i], &s->bufs[i]);
}

uint64_t access_log_dropped(const struct access_log *l)
{
	return l ? atomic_load_explicit(&l->t->dropped, memory_order_relaxed) : 0;
}

uint64_t access_log_lost(const struct access_log *l)
{
	return l ? atomic_load_explicit(&l->t->lost, memory_order_relaxed) : 0;
}

struct access_log *access_log_of(const struct cfg_frontend *fe)
{
	return fe ? fe->access_log : NULL;
}

/* ---- the writer thread ---------------------------------------------------- */

static uint32_t count_lines(const char *p, size_t n)
{
	uint32_t k = 0;
	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))); p++)
		k++;
	return k;
}

/* How much of p[0..n) to write at once: everything to a file; to a pipe,
 * whole lines up to PIPE_BUF (a write that size is atomic), or one line
 * if it is longer. */
static size_t write_piece(const struct alog_target *t, const char *p, size_t n)
{
	if (!t->atomic_lines || n <= PIPE_BUF)
		return n;
	const char *nl = memrchr(p, '\n', PIPE_BUF);
	if (nl)
		return (size_t)(nl - p) + 1;
	nl = memchr(p, '\n', n);
	return nl ? (size_t)(nl - p) + 1 : n;
}

static void write_failed(struct alog_target *t, const char *rest, size_t n, int err)
{
	uint32_t k = count_lines(rest, n);
	atomic_fetch_add_explicit(&t->lost, k, memory_order_relaxed);
	t->lost_unreported += k;
	t->last_errno = err;
}

static void write_chunk(struct alog_target *t, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(t->fd, p, write_piece(t, p, n));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {   /* someone made our fd non-blocking */
			struct pollfd pfd = { .fd = t->fd, .events = POLLOUT };
			poll(&pfd, 1, 1000);
			continue;
		}
		if (w <= 0) {
			write_failed(t, p, n, w < 0 ? errno : ENOSPC);
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static int open_file(const char *path)
{
	/* O_NONBLOCK only so that a FIFO without a reader fails instead of
	 * hanging the start; writes block (only the writer thread waits). */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

static bool fd_is_regular(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static void reopen_all(void)
{
	for (int i = 0; i < al.ntargets; i++) {
		struct alog_target *t = &al.targets[i];
		if (!t->reopenable)
			continue;
		int fd = open_file(t->path);
		if (fd < 0) {
			log_err("access log '%s': cannot reopen: %s; still writing to the old file",
				t->path, strerror(errno));
			continue;
		}
		close(t->fd);
		t->fd = fd;
		t->atomic_lines = !fd_is_regular(fd);
	}
}

/* The writer's reports: lines dropped on a full queue, lines lost to
 * write errors (at most every ALOG_ERR_EVERY_S unless `final`). */
static void report(bool final)
{
	time_t now = time(NULL);

	for (int i = 0; i < al.ntargets; i++) {
		struct alog_target *t = &al.targets[i];
		uint64_t d = atomic_exchange_explicit(&t->dropped_unreported, 0,
						      memory_order_relaxed);
		if (d)
			log_warn("access log '%s' too slow: %llu line%s dropped", t->path,
				 (unsigned long long)d, d == 1 ? "" : "s");
		if (t->lost_unreported &&
		    (final || now - t->last_err_report >= ALOG_ERR_EVERY_S)) {
			log_err("access log '%s': write failed: %s; %llu line%s lost", t->path,
				strerror(t->last_errno), (unsigned long long)t->lost_unreported,
				t->lost_unreported == 1 ? "" : "s");
			t->lost_unreported = 0;
			t->last_err_report = now;
		}
	}
}

static void *writer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&al.lock);
	for (;;) {
		while (!al.head && !al.stop)
			pthread_cond_wait(&al.cond, &al.lock);
		struct alog_chunk *c = al.head;
		if (!c)
			break;   /* stopping, and everything is written */
		al.head = c->next;
		if (!al.head)
			al.tail = NULL;
		if (c->t)
			al.queued -= c->len;
		pthread_mutex_unlock(&al.lock);
		if (c->t)
			write_chunk(c->t, c->data, c->len);
		else
			reopen_all();
		free(c);
		report(false);
		pthread_mutex_lock(&al.lock);
	}
	pthread_mutex_unlock(&al.lock);
	report(true);
	return NULL;
}

void access_log_reopen(void)
{
	if (!atomic_load_explicit(&al.open, memory_order_acquire))
		return;
	/* Workers hand their lines over at most ALOG_FLUSH_MS after writing
	 * them: waiting a little longer here (the main thread, which has
	 * nothing else to do) puts every line logged before the signal ahead
	 * of the marker, so they land in the old file. */
	struct timespec delay = { 0, (ALOG_FLUSH_MS + 150) * 1000000L };
	nanosleep(&delay, NULL);
	struct alog_chunk *c = calloc(1, sizeof(*c));
	if (!c) {
		log_err("access log: out of memory; files not reopened");
		return;
	}
	pthread_mutex_lock(&al.lock);
	enqueue(c);   /* a marker: not counted against the bound, never dropped */
	pthread_mutex_unlock(&al.lock);
}

/* ---- open and close ------------------------------------------------------- */

static void targets_free(void)
{
	for (int i = 0; i < al.ntargets; i++) {
		if (al.targets[i].reopenable && al.targets[i].fd >= 0)
			close(al.targets[i].fd);
		free(al.targets[i].path);
	}
	free(al.targets);
	free(al.logs);
	while (al.more) {
		struct gen_logs *g = al.more;
		al.more = g->next;
		free(g);
	}
	al.targets = NULL;
	al.logs = NULL;
	al.ntargets = al.nlogs = al.cap = 0;
	al.writer = false;
}

/* The target for `path`, shared with an earlier frontend's if the same. */
static struct alog_target *target_for(const char *path, char **err)
{
	for (int i = 0; i < al.ntargets; i++)
		if (strcmp(al.targets[i].path, path) == 0)
			return &al.targets[i];
	if (al.ntargets == al.cap) {
		if (asprintf(err, "cannot open access log '%s': more than %d files", path, al.cap) < 0)
			*err = NULL;
		return NULL;
	}
	struct alog_target *t = &al.targets[al.ntargets];
	memset(t, 0, sizeof(*t));
	t->index = al.ntargets;
	if (strcmp(path, "stdout") == 0 || strcmp(path, "stderr") == 0) {
		t->fd = path[3] == 'o' ? STDOUT_FILENO : STDERR_FILENO;
	} else {
		t->fd = open_file(path);
		t->reopenable = true;
	}
	if (t->fd < 0) {
		if (asprintf(err, "cannot open access log '%s': %s", path, strerror(errno)) < 0)
			*err = NULL;
		return NULL;
	}
	t->atomic_lines = !fd_is_regular(t->fd);
	if (!(t->path = strdup(path))) {
		if (t->reopenable)
			close(t->fd);
		*err = strdup("out of memory");
		return NULL;
	}
	atomic_fetch_add_explicit(&al.ntargets, 1, memory_order_release);
	return t;
}

static int logs_build(struct cfg *c, char **err)
{
	al.cap = ALOG_MAX_TARGETS;
	al.targets = calloc((size_t)al.cap, sizeof(*al.targets));
	al.logs = calloc((size_t)c->nfrontends + 1, sizeof(*al.logs));
	if (!al.targets || !al.logs) {
		*err = strdup("out of memory");
		return -1;
	}
	for (int i = 0; i < c->nfrontends; i++) {
		struct cfg_frontend *fe = c->frontends[i];
		if (!fe->access_log_path)
			continue;
		struct alog_target *t = target_for(fe->access_log_path, err);
		if (!t)
			return -1;
		al.logs[al.nlogs] = (struct access_log){ t, fe->access_log_format };
		al.nlogs++;
	}
	return 0;
}

static void logs_attach(struct cfg *c, bool on)
{
	for (int i = 0, k = 0; i < c->nfrontends; i++) {
		struct cfg_frontend *fe = c->frontends[i];
		fe->access_log = on && fe->access_log_path ? &al.logs[k++] : NULL;
	}
}

int access_logs_open(struct cfg *c, char **err)
{
	*err = NULL;
	if (atomic_load(&al.open)) {
		*err = strdup("access logs are already open");
		return -1;
	}
	pthread_once(&tstate_once, tstate_key_init);
	tzset();   /* localtime_r() does not read TZ by itself */
	if (logs_build(c, err) < 0) {
		targets_free();
		return -1;
	}
	al.stop = false;
	al.head = al.tail = NULL;
	al.queued = 0;
	if (al.ntargets > 0 && pthread_create(&al.thread, NULL, writer_main, NULL) != 0) {
		*err = strdup("cannot start the access log writer thread");
		targets_free();
		return -1;
	}
	al.writer = al.ntargets > 0;
	al.cfg = c;
	logs_attach(c, true);
	atomic_fetch_add(&al.gen, 1);
	atomic_store(&al.open, true);
	return 0;
}

void access_logs_close(void)
{
	if (!atomic_load(&al.open))
		return;
	access_log_flush_thread();
	tstate_free(tstate);
	tstate = NULL;
	pthread_setspecific(tstate_key, NULL);
	atomic_store(&al.open, false);
	atomic_fetch_add(&al.gen, 1);
	logs_attach(al.cfg, false);
	al.cfg = NULL;
	if (!al.writer) {
		targets_free();
		return;
	}
	pthread_mutex_lock(&al.lock);
	al.stop = true;
	pthread_cond_signal(&al.cond);
	pthread_mutex_unlock(&al.lock);
	/* A reader that stays stalled must not keep the process from exiting:
	 * the writer gets a few seconds, then is left behind with its targets
	 * (so it never touches freed memory). */
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ALOG_FLUSH_S;
	if (pthread_timedjoin_np(al.thread, NULL, &until) != 0) {
		log_warn("access logs: the writer did not finish within %ds; lines still queued "
			 "are lost", ALOG_FLUSH_S);
		al.targets = NULL;
		al.logs = NULL;
		al.more = NULL;
		al.ntargets = al.nlogs = al.cap = 0;
		al.writer = false;
		return;
	}
	targets_free();
}

int access_logs_attach(struct cfg *c, char **err)
{
	*err = NULL;
	if (!atomic_load(&al.open))
		return access_logs_open(c, err);
	struct gen_logs *g = calloc(1, sizeof(*g) + ((size_t)c->nfrontends + 1) * sizeof(g->logs[0]));
	if (!g) {
		*err = strdup("out of memory");
		return -1;
	}
	/* Files a frontend of an older generation writes are shared (same
	 * path, same target); a new path is opened now.  A target stays open
	 * until the process stops, even if no generation names it any more. */
	int k = 0;
	for (int i = 0; i < c->nfrontends; i++) {
		struct cfg_frontend *fe = c->frontends[i];
		if (!fe->access_log_path)
			continue;
		struct alog_target *t = target_for(fe->access_log_path, err);
		if (!t) {
			free(g);
			return -1;
		}
		g->logs[k++] = (struct access_log){ t, fe->access_log_format };
	}
	if (!al.writer && al.ntargets > 0) {
		al.stop = false;
		if (pthread_create(&al.thread, NULL, writer_main, NULL) != 0) {
			*err = strdup("cannot start the access log writer thread");
			free(g);
			return -1;
		}
		al.writer = true;
	}
	g->next = al.more;
	al.more = g;
	al.cfg = c;   /* the generation access_logs_close() detaches: the running one */
	for (int i = 0, j = 0; i < c->nfrontends; i++) {
		struct cfg_frontend *fe = c->frontends[i];
		fe->access_log = fe->access_log_path ? &g->logs[j++] : NULL;
	}
	return 0;
}
