/*
 * Closing sockets without blocking the loop. close(2) of a socket with
 * SO_LINGER on and a linger time waits, even when the socket is
 * non-blocking, until its unsent data is gone or the time is up — and a
 * client chooses that time. Such sockets are closed by a thread of their
 * own instead.
 */
#ifndef SOCKD_CLOSER_H
#define SOCKD_CLOSER_H

/* Close fd now, or on the closer thread when it lingers. */
void closer_close(int fd);
/* At exit: stop the thread; sockets it still holds close with the
 * process, whose exit does not wait for lingering data. */
void closer_stop(void);

#endif
