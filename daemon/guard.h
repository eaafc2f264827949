/*
 * Guarded system calls: bounding how long sockd can be kept in a system
 * call on a socket whose open file a client shares (FileNo without
 * detach), and closing sockets without ever waiting for them to linger.
 */
#ifndef SOCKD_GUARD_H
#define SOCKD_GUARD_H

#include <stdbool.h>
#include <sys/types.h>

/* How long a guarded call may block before it is interrupted. */
#define GUARD_NSEC (1000 * 1000)
/* Interrupted calls a uid may cause per second before its guarded calls
 * on blocking shared sockets are refused for the rest of that second. */
#define GUARD_STRIKES 8

/* Set up the signal and the timer (from the loop's thread). 0 or -errno. */
int guard_init(void);
void guard_free(void);

/*
 * May a guarded call on fd go ahead for uid? false when uid has used up
 * this second's budget of interrupted calls and fd's open file is in
 * blocking mode right now: the caller answers OSError EBUSY instead.
 */
bool guard_allowed(uid_t uid, int fd);
/* Arm the timer around one system call that has no non-blocking form. */
void guard_begin(void);
/* Disarm it: true when it fired, which is counted against uid. */
bool guard_end(uid_t uid);

/*
 * Close a socket without waiting. A socket with SO_LINGER on and a time
 * makes close(2) wait for its unsent data, even when non-blocking: its
 * linger is turned off first (the kernel still sends the data, in the
 * background, as for any close). A shared socket keeps its options,
 * which are its holder's too, and is closed under the guard.
 */
void guard_close(int fd, bool shared);

#endif
