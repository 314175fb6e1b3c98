/*
 * pidfile.h - `pidfile PATH`: the running process's pid, for
 * `gatehouse -s reload|stop|upgrade` (control/signal path in main.c).
 */
#ifndef GH_CONTROL_PIDFILE_H
#define GH_CONTROL_PIDFILE_H

#include <sys/types.h>

/* Writes getpid() to path (a new file renamed into place).  0 or -1 (logged). */
int pidfile_write(const char *path);

/* Removes path if it still holds this process's pid (after a binary
 * upgrade it holds the new process's). */
void pidfile_remove(const char *path);

/* The pid in path, or -1 with a message in err. */
pid_t pidfile_read(const char *path, char *err, size_t elen);

#endif
