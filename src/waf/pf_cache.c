/*
 * pf_cache.c - the pre-filter's Vectorscan databases built once.
 *
 * Compiling the CRS's patterns (hs_compile_ext_multi) is most of the
 * pre-filter's build: seconds at load, and again at every reload and every
 * start of a test.  The result depends only on the compile's inputs (the
 * expressions, their flags and ids, the mode, the Vectorscan version and
 * the CPU features it targets), so it is kept under the SHA-256 of those
 * inputs:
 *
 *  - in memory, serialized (hs_serialize_database), for the life of the
 *    process: a reload with the same rules, paranoia level and exclusions
 *    compiles nothing (bounded: PF_CACHE_MEM bytes, oldest out first);
 *  - in a directory, one file per database, so that the next process does
 *    not compile either.  The directory is $GATEHOUSE_WAF_CACHE, or
 *    gatehouse-waf-<euid> under $TMPDIR (/tmp); "off" turns the files off.
 *    It must be ours and not writable by others (a database is code for
 *    the scanner's engine: a file someone else could write is not read),
 *    files are written whole under a temporary name and renamed.  A file
 *    read marks itself used (its mtime is set to now), and writing a file
 *    prunes the directory (pf_cache_prune): cache files unused for
 *    PF_CACHE_MAX_AGE go, then the least recently used ones until at most
 *    PF_CACHE_MAX_FILES files of PF_CACHE_MAX_BYTES in all are left.
 *
 * A compile that Vectorscan rejects (an expression it cannot take) is
 * cached too, with the index of the expression, since the caller retries
 * without it.  Any failure of the cache itself just compiles.
 */
#include "waf/pf_plan.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PF_CACHE_MEM (64u << 20)
#define PF_CACHE_FILE_MAGIC "GHWAFHS1"
/* The directory's bounds.  One CRS rule set is some 30 to 60 files of a few
 * MiB in all; the bounds hold a few dozen rule sets. */
#define PF_CACHE_MAX_AGE (30 * 86400)
#define PF_CACHE_MAX_FILES 1024
#define PF_CACHE_MAX_BYTES (256ull << 20)
#define PF_CACHE_TMP_AGE 86400	/* a temporary file this old was left by a crash */

struct centry {
	unsigned char key[32];
	int bad;		/* -1: compiled; else the rejected expression */
	char *bytes;		/* serialized database (bad == -1) */
	size_t len;
	struct centry *next;
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct centry *cache_head;	/* newest first */
static size_t cache_bytes;

static void key_of(const char *const *exprs, const unsigned *flags, const unsigned *ids,
		   unsigned n, unsigned mode, unsigned char key[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	hs_platform_info_t plat;
	const char *ver = hs_version();
	unsigned int kl = 32;

	memset(&plat, 0, sizeof(plat));
	(void)hs_populate_platform(&plat);
	memset(key, 0, 32);
	if (!c)
		return;
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, ver, strlen(ver) + 1);
	EVP_DigestUpdate(c, &plat, sizeof(plat));
	EVP_DigestUpdate(c, &mode, sizeof(mode));
	EVP_DigestUpdate(c, &n, sizeof(n));
	for (unsigned i = 0; i < n; i++) {
		EVP_DigestUpdate(c, exprs[i], strlen(exprs[i]) + 1);
		EVP_DigestUpdate(c, &flags[i], sizeof(flags[i]));
		EVP_DigestUpdate(c, &ids[i], sizeof(ids[i]));
	}
	EVP_DigestFinal_ex(c, key, &kl);
	EVP_MD_CTX_free(c);
}

/* ---- memory -------------------------------------------------------------- */

/* A copy of the entry for key: 1 found (*bad, and *bytes malloc'd when
 * bad == -1), 0 not. */
static int mem_get(const unsigned char key[32], int *bad, char **bytes, size_t *len)
{
	int found = 0;

	pthread_mutex_lock(&cache_mu);
	for (struct centry *e = cache_head; e; e = e->next) {
		if (memcmp(e->key, key, 32))
			continue;
		*bad = e->bad;
		*bytes = NULL;
		*len = e->len;
		if (e->bad == -1) {
			*bytes = malloc(e->len ? e->len : 1);
			if (!*bytes)
				break;
			memcpy(*bytes, e->bytes, e->len);
		}
		found = 1;
		break;
	}
	pthread_mutex_unlock(&cache_mu);
	return found;
}

/* Takes bytes (malloc'd, may be NULL for a rejection). */
static void mem_put(const unsigned char key[32], int bad, char *bytes, size_t len)
{
	struct centry *e = calloc(1, sizeof(*e));

	if (!e || len > PF_CACHE_MEM) {
		free(e);
		free(bytes);
		return;
	}
	memcpy(e->key, key, 32);
	e->bad = bad;
	e->bytes = bytes;
	e->len = len;
	pthread_mutex_lock(&cache_mu);
	e->next = cache_head;
	cache_head = e;
	cache_bytes += len;
	/* over the bound: drop the oldest (the list's tail) */
	while (cache_bytes > PF_CACHE_MEM) {
		struct centry **pp = &cache_head;
		while ((*pp)->next)
			pp = &(*pp)->next;
		struct centry *old = *pp;
		*pp = NULL;
		cache_bytes -= old->len;
		free(old->bytes);
		free(old);
	}
	pthread_mutex_unlock(&cache_mu);
}

void pf_cache_clear(void)
{
	pthread_mutex_lock(&cache_mu);
	while (cache_head) {
		struct centry *e = cache_head;
		cache_head = e->next;
		free(e->bytes);
		free(e);
	}
	cache_bytes = 0;
	pthread_mutex_unlock(&cache_mu);
}

/* ---- files --------------------------------------------------------------- */

/* The cache directory, made if missing; false when off or not safe. */
static bool cache_dir(char *dir, size_t len)
{
	const char *d = getenv("GATEHOUSE_WAF_CACHE");
	struct stat st;

	if (d && !strcmp(d, "off"))
		return false;
	if (d && *d) {
		if (snprintf(dir, len, "%s", d) >= (int)len)
			return false;
	} else {
		const char *t = getenv("TMPDIR");
		if (!t || !*t)
			t = "/tmp";
		if (snprintf(dir, len, "%s/gatehouse-waf-%u", t, (unsigned)geteuid()) >= (int)len)
			return false;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return false;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022))
		return false;
	return true;
}

static void file_name(char *path, size_t len, const char *dir, const unsigned char key[32])
{
	char hex[65];

	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	snprintf(path, len, "%s/%s.hs", dir, hex);
}

/* Record: magic, int32 bad, uint64 len, bytes. */
static int file_get(const unsigned char key[32], int *bad, char **bytes, size_t *len)
{
	char dir[512], path[640], magic[8];
	struct stat st;
	int32_t b;
	uint64_t l;

	if (!cache_dir(dir, sizeof(dir)))
		return 0;
	file_name(path, sizeof(path), dir, key);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return 0;
	}
	int ok = 0;
	*bytes = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	    !(st.st_mode & 022) && fread(magic, 1, 8, f) == 8 &&
	    !memcmp(magic, PF_CACHE_FILE_MAGIC, 8) && fread(&b, sizeof(b), 1, f) == 1 &&
	    fread(&l, sizeof(l), 1, f) == 1 && l == (uint64_t)st.st_size - 20 &&
	    (b == -1 || (b >= 0 && l == 0))) {
		*bad = b;
		*len = (size_t)l;
		if (b >= 0) {
			ok = 1;
		} else if ((*bytes = malloc(l ? l : 1)) && fread(*bytes, 1, l, f) == l) {
			ok = 1;
		} else {
			free(*bytes);
			*bytes = NULL;
		}
	}
	if (ok)
		(void)futimens(fd, NULL);	/* used now: pruned last */
	fclose(f);
	return ok;
}

static void file_put(const unsigned char key[32], int bad, const char *bytes, size_t len)
{
	char dir[512], path[640], tmp[700];
	int32_t b = bad;
	uint64_t l = len;

	if (!cache_dir(dir, sizeof(dir)))
		return;
	file_name(path, sizeof(path), dir, key);
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	FILE *f = fdopen(fd, "wb");
	if (!f) {
		close(fd);
		unlink(tmp);
		return;
	}
	bool ok = fwrite(PF_CACHE_FILE_MAGIC, 1, 8, f) == 8 && fwrite(&b, sizeof(b), 1, f) == 1 &&
		  fwrite(&l, sizeof(l), 1, f) == 1 && (len == 0 || fwrite(bytes, 1, len, f) == len);
	if (fclose(f) != 0)
		ok = false;
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return;
	}
	(void)pf_cache_prune(dir, strrchr(path, '/') + 1, time(NULL), PF_CACHE_MAX_AGE,
			     PF_CACHE_MAX_FILES, PF_CACHE_MAX_BYTES);
}

/* ---- pruning ------------------------------------------------------------- */

/* A name file_name() or file_put() makes: 64 lower-case hex digits, ".hs",
 * then for a temporary file ".<pid>.tmp". */
static bool cache_file_name(const char *n, bool *tmp)
{
	for (int i = 0; i < 64; i++)
		if (!isdigit((unsigned char)n[i]) && !(n[i] >= 'a' && n[i] <= 'f'))
			return false;
	if (strncmp(n + 64, ".hs", 3))
		return false;
	*tmp = n[67] != '\0';
	if (!*tmp)
		return true;
	const char *p = n + 67;
	if (*p++ != '.' || !isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	return !strcmp(p, ".tmp");
}

struct pfile {
	char name[68];		/* 64 hex digits, ".hs" */
	struct timespec used;
	uint64_t size;
};

static int pfile_older(const void *a, const void *b)
{
	const struct pfile *x = a, *y = b;

	if (x->used.tv_sec != y->used.tv_sec)
		return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
	if (x->used.tv_nsec != y->used.tv_nsec)
		return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

size_t pf_cache_prune(const char *dir, const char *keep, time_t now, time_t max_age,
		      size_t max_files, uint64_t max_bytes)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return 0;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	struct pfile *v = NULL;
	size_t n = 0, cap = 0, removed = 0, nfiles = 0;
	uint64_t bytes = 0;
	struct dirent *e;
	struct stat st;
	bool tmp;

	while ((e = readdir(d))) {
		/* only the cache's own regular files: never a symlink (not
		 * followed, not removed), a directory or another's file */
		if (!cache_file_name(e->d_name, &tmp) ||
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_uid != geteuid())
			continue;
		bool kept = keep && !strcmp(e->d_name, keep);
		time_t age = now - st.st_mtim.tv_sec;
		if (!kept && (tmp ? age > PF_CACHE_TMP_AGE : age > max_age)) {
			if (unlinkat(dfd, e->d_name, 0) == 0)
				removed++;
			continue;
		}
		if (tmp)
			continue;
		nfiles++;
		bytes += (uint64_t)st.st_size;
		if (kept)
			continue;
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 64;
			void *p = realloc(v, nc * sizeof(*v));
			if (!p)
				continue;	/* not a candidate: pruned another time */
			v = p;
			cap = nc;
		}
		memcpy(v[n].name, e->d_name, sizeof(v[n].name));	/* not tmp: 67 bytes */
		v[n].used = st.st_mtim;
		v[n].size = (uint64_t)st.st_size;
		n++;
	}
	if (n)	/* v is NULL when empty */
		qsort(v, n, sizeof(*v), pfile_older);
	for (size_t i = 0; i < n && (nfiles > max_files || bytes > max_bytes); i++) {
		if (unlinkat(dfd, v[i].name, 0) < 0)
			continue;
		removed++;
		nfiles--;
		bytes -= v[i].size;
	}
	free(v);
	closedir(d);
	return removed;
}

/* ---- the compile --------------------------------------------------------- */

hs_error_t pf_hs_compile(const char *const *exprs, const unsigned *flags, const unsigned *ids,
			 unsigned n, unsigned mode, hs_database_t **db, int *bad, bool *cached)
{
	unsigned char key[32];
	char *bytes = NULL;
	size_t len = 0;
	int b = -1;

	*db = NULL;
	*bad = -1;
	*cached = false;
	key_of(exprs, flags, ids, n, mode, key);
	bool mem = mem_get(key, &b, &bytes, &len);
	bool file = !mem && file_get(key, &b, &bytes, &len);
	if (mem || file) {
		if (b >= 0 && (unsigned)b < n) {
			free(bytes);
			if (file)
				mem_put(key, b, NULL, 0);
			*bad = b;
			*cached = true;
			return HS_COMPILER_ERROR;
		}
		if (b == -1 && hs_deserialize_database(bytes, len, db) == HS_SUCCESS) {
			if (file)
				mem_put(key, -1, bytes, len);
			else
				free(bytes);
			*cached = true;
			return HS_SUCCESS;
		}
		free(bytes);	/* unusable: compile */
		*db = NULL;
	}

	hs_compile_error_t *ce = NULL;
	hs_error_t e = hs_compile_ext_multi(exprs, flags, ids, NULL, n, mode, NULL, db, &ce);
	if (e != HS_SUCCESS) {
		*bad = ce ? ce->expression : -1;
		hs_free_compile_error(ce);
		if (*bad >= 0 && (unsigned)*bad < n) {
			mem_put(key, *bad, NULL, 0);
			file_put(key, *bad, NULL, 0);
		}
		return e;
	}
	if (hs_serialize_database(*db, &bytes, &len) == HS_SUCCESS) {
		file_put(key, -1, bytes, len);
		/* hs_serialize_database allocates with malloc (the default
		 * allocator, which gatehouse does not replace) */
		mem_put(key, -1, bytes, len);
	}
	return HS_SUCCESS;
}
