/*
 * tls_ticket.h - the session ticket key ring shared by every TLS bind and
 * worker thread (net/tls.c's ticket callback is its only user).
 *
 * The current key encrypts new tickets; the two keys before it still
 * decrypt, and a ticket they open is replaced by a fresh one.  Keys rotate
 * every `period` seconds, checked lazily by the handshakes themselves (no
 * timer, no thread), so a ticket stays usable for at least two periods and
 * a stolen key opens at most three periods of tickets.  Keys are random,
 * in memory only: a restart invalidates every ticket (full handshakes).
 * Calls take a mutex held for a key copy: cheap next to a handshake.
 */
#ifndef GH_NET_TLS_TICKET_H
#define GH_NET_TLS_TICKET_H

#include <stdbool.h>
#include <stdint.h>

#define TLS_TKEY_SLOTS 3

struct tls_tkey {
	unsigned char name[16];      /* sent in the clear with the ticket */
	unsigned char aes[32];       /* AES-256-CBC */
	unsigned char hmac[32];      /* HMAC-SHA256 */
};

/* Copies the encryption key at time now (seconds, any monotonic clock)
 * into *out, rotating first if its period is over.  False if no random
 * key could be made (then no ticket is issued). */
bool tls_tkeys_current(uint64_t now, struct tls_tkey *out);

/* Copies the key called `name` into *out; *current tells whether it is
 * the encryption key.  False for an unknown or retired key. */
bool tls_tkeys_find(const unsigned char *name, uint64_t now, struct tls_tkey *out,
		    bool *current);

/* Rotation period in seconds (default: the session lifetime, 300). */
void tls_tkeys_set_period(uint32_t seconds);

#endif
