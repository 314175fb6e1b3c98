/*
 * admin.h - the admin listener: `global { admin ADDR [token_file PATH] }`.
 *
 * One thread of its own with its own epoll loop serves a few HTTP/1.1
 * connections at a time; no worker loop ever runs admin work, so a slow
 * scrape or a big API answer never delays traffic.  Each request is handed
 * to the handlers of admin_http.h (metrics, api, dashboard) with a
 * reference to the configuration generation current when it arrived.
 *
 * Lifecycle (main thread):
 *   admin_open   binds the socket (before privileges are dropped, like the
 *                frontends' listeners); nothing runs yet
 *   admin_start  starts the thread
 *   admin_set_cfg  a reload made another generation current: later
 *                requests see it (and its token); the address stays the
 *                one bound at open
 *   admin_stop   stops the thread, closes every connection, frees
 */
#ifndef GH_ADMIN_ADMIN_H
#define GH_ADMIN_ADMIN_H

struct cfg;
struct admin;

/* Binds c's admin address.  *out is NULL (and 0 returned) when c has no
 * `admin` line; -1 after logging why the socket could not be made.  Takes
 * a reference to c (cfg_get) for the listener's current generation. */
int admin_open(struct cfg *c, struct admin **out);

/* Starts the listener's thread.  0 or -1 (logged). */
int admin_start(struct admin *a);

/* c becomes the current generation (a reference is taken, the previous
 * one dropped once no request uses it).  Any thread. */
void admin_set_cfg(struct admin *a, struct cfg *c);

/* The same with the arguments of a reload's "applied" callback
 * (control/reload.h: reload_on_apply(admin_apply_cfg, a)). */
void admin_apply_cfg(struct cfg *c, void *a);

/* Stops the thread (requests being served finish first), closes the
 * socket and every connection, drops the generation.  NULL: no-op. */
void admin_stop(struct admin *a);

#endif
