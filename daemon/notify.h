/*
 * What sockd tells its service manager (sd_notify): readiness, a status
 * line kept current, the watchdog, reloads and stopping. Without
 * NOTIFY_SOCKET every call here does nothing.
 */
#ifndef SOCKD_NOTIFY_H
#define SOCKD_NOTIFY_H

/* Start the watchdog timer if the manager asked for one. */
int notify_init(void);
/* READY=1 and the status line: at start and after a reload. */
void notify_ready(void);
/* RELOADING=1 with the MONOTONIC_USEC= systemd wants beside it. */
void notify_reloading(void);
/* STOPPING=1. */
void notify_stopping(void);
/* Counts or policy changed: send STATUS= soon (at most once a second). */
void notify_changed(void);
/* Stop the timers (at exit). */
void notify_free(void);

#endif
