/*
 * reqid.h - request ids: one string that follows a request through the
 * proxy, the server and the logs (`request_id header X-Request-Id`).
 *
 * On the request's path: when the request head is in, the pipeline takes
 * the client's id if reqid_valid() accepts it, else makes one with
 * reqid_generate(); it forwards it to the server, returns it to the client
 * and puts it in the access log line.
 */
#ifndef GH_LOG_REQID_H
#define GH_LOG_REQID_H

#include <stdbool.h>
#include <stddef.h>

#define REQID_MAX 128

/*
 * True if p[0..len) may be used as a request id as received: 1 to
 * REQID_MAX bytes, each a letter, a digit or one of - . _ ~ + / = :
 * (UUIDs, hex, base64 and base64url ids pass).  Nothing accepted needs
 * escaping in a header, a combined log line or a JSON string.  p may be
 * NULL when len is 0.
 */
bool reqid_valid(const char *p, size_t len);

/*
 * Writes a new id into out: a random UUID (version 4, RFC 9562), 36
 * characters, NUL-terminated; returns its length.  Any thread, never
 * blocks: the 122 random bits come from a per-thread pool filled with
 * getrandom() (the kernel's ChaCha20 CSPRNG) 4 KiB at a time, so ids are
 * unpredictable and one syscall serves 256 ids.  Should getrandom() fail,
 * a per-thread xorshift generator seeded from the clock, the thread and a
 * counter takes over (unique, but predictable).
 */
size_t reqid_generate(char out[REQID_MAX + 1]);

#endif
