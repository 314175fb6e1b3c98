/*
 * sdnotify.h - systemd's notification protocol (sd_notify(3)) without
 * libsystemd: one datagram per state change to the unix socket named by
 * $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace).  Without
 * NOTIFY_SOCKET every call is a no-op, so the same binary runs anywhere.
 *
 * What gatehouse says (contrib/gatehouse.service is Type=notify):
 *   READY=1 + MAINPID      once it serves (and the new process of a binary
 *                          upgrade, so systemd follows the new pid)
 *   RELOADING=1 + MONOTONIC_USEC   when a reload starts (systemd >= 253
 *                          wants the clock to match the reload to its end)
 *   READY=1                when it is applied or refused
 *   STOPPING=1             when a stop (or the old process's drain) begins
 *   STATUS=...             a line for `systemctl status`
 */
#ifndef GH_CONTROL_SDNOTIFY_H
#define GH_CONTROL_SDNOTIFY_H

/* Sends msg ("KEY=VALUE\n..."); 0, or -1 when there is no socket or the
 * send failed.  Any thread. */
int sdnotify(const char *msg);

void sdnotify_ready(const char *status);
void sdnotify_reloading(void);
void sdnotify_stopping(void);

#endif
