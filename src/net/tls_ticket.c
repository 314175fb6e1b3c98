/*
 * tls_ticket.c - session ticket key ring (see tls_ticket.h).
 */
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "net/tls_ticket.h"

static struct {
	pthread_mutex_t lock;
	struct tls_tkey keys[TLS_TKEY_SLOTS];
	int cur;                     /* encryption key */
	int nkeys;                   /* slots holding a key */
	uint64_t rotated;            /* when keys[cur] became current */
	uint32_t period;             /* seconds */
} ring = { .lock = PTHREAD_MUTEX_INITIALIZER, .period = 300 };

/* With ring.lock held: a new current key if none or the period is over;
 * the oldest key is overwritten. */
static void ring_refresh_locked(uint64_t now)
{
	if (ring.nkeys && now - ring.rotated < ring.period)
		return;
	int slot = ring.nkeys ? (ring.cur + 1) % TLS_TKEY_SLOTS : 0;
	struct tls_tkey k;
	if (RAND_bytes((unsigned char *)&k, sizeof(k)) <= 0) {
		ERR_clear_error();   /* keep the old key; retried next handshake */
		return;
	}
	ring.keys[slot] = k;
	OPENSSL_cleanse(&k, sizeof(k));
	ring.cur = slot;
	if (ring.nkeys < TLS_TKEY_SLOTS)
		ring.nkeys++;
	ring.rotated = now;
}

bool tls_tkeys_current(uint64_t now, struct tls_tkey *out)
{
	pthread_mutex_lock(&ring.lock);
	ring_refresh_locked(now);
	bool ok = ring.nkeys > 0;
	if (ok)
		*out = ring.keys[ring.cur];
	pthread_mutex_unlock(&ring.lock);
	return ok;
}

bool tls_tkeys_find(const unsigned char *name, uint64_t now, struct tls_tkey *out,
		    bool *current)
{
	bool found = false;
	pthread_mutex_lock(&ring.lock);
	ring_refresh_locked(now);
	for (int i = 0; i < ring.nkeys; i++) {
		if (memcmp(ring.keys[i].name, name, sizeof(ring.keys[i].name)) == 0) {
			*out = ring.keys[i];
			*current = i == ring.cur;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&ring.lock);
	return found;
}

void tls_tkeys_set_period(uint32_t seconds)
{
	pthread_mutex_lock(&ring.lock);
	ring.period = seconds ? seconds : 1;
	pthread_mutex_unlock(&ring.lock);
}
