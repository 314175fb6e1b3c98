/*
 * upgrade.h - binary upgrade: the running process (the "old" one) starts
 * the new binary with its listening sockets, the new one takes them
 * instead of binding, says when it is ready, and the old one drains and
 * exits.  No socket is ever closed while connections wait in its queue, so
 * no connection is refused during the switch.
 *
 *   old: SIGUSR2 / `gatehouse -s upgrade` -> upgrade_start(): fork, exec
 *        the same path with the same arguments; the listening sockets stay
 *        open across exec, listed in GATEHOUSE_FDS ("fd=address;...", the
 *        address as the configuration wrote it, for people; the new process
 *        matches by getsockname()), and a pipe in GATEHOUSE_READY_FD
 *   new: upgrade_inherit() at startup; worker.c takes each socket whose
 *        address a bind has (upgrade_take_fd), sockets no bind wants are
 *        closed; once it serves, it writes the pidfile and upgrade_ready()
 *        writes one byte to the pipe
 *   old: the byte arrives (upgrade_poll): it stops accepting and drains
 *        like a SIGTERM; EOF without the byte (the new one failed): the
 *        upgrade is abandoned, the old process goes on serving
 */
#ifndef GH_CONTROL_UPGRADE_H
#define GH_CONTROL_UPGRADE_H

#include <stdbool.h>
#include <sys/types.h>

struct cfg_addr;
struct worker;

/* ---- the new process ---- */

/* Reads GATEHOUSE_FDS / GATEHOUSE_READY_FD (and removes them from the
 * environment).  Returns how many sockets were inherited. */
int upgrade_inherit(void);

/* An inherited listening socket bound where a says, or -1.  Each socket is
 * handed out once; call again for the next one on the same address. */
int upgrade_take_fd(const struct cfg_addr *a);

/* Closes the inherited sockets nobody took (binds the new configuration no
 * longer has). */
void upgrade_inherit_done(void);

/* Tells the old process that this one serves (no-op when not started by
 * an upgrade). */
void upgrade_ready(void);

/* ---- the old process ---- */

/* Remembers how this process was started (argv[0] resolved to a path). */
void upgrade_set_argv(int argc, char **argv);

/* Starts the new binary with the listening sockets of ws.  Returns the
 * read end of the ready pipe (poll it, then upgrade_poll), or -1 (logged). */
int upgrade_start(struct worker *ws, int nworkers);

/* The ready pipe is readable: 1 the new process is ready (drain now), -1
 * it failed (logged; the pipe is closed, go on serving), 0 nothing yet. */
int upgrade_poll(void);

/* The pid of the new process while an upgrade is under way, else 0. */
pid_t upgrade_child(void);

#endif
