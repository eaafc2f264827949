/*
 * Acting as the caller. Where the kernel judges by identity — who owns a
 * socket (SO_REUSEPORT groups, firewall owner matches, ss -e), who may
 * reach a Unix path, who a Unix peer sees (SO_PEERCRED, SCM_CREDENTIALS)
 * — a grant must narrow what the caller could do itself, never widen it.
 * When sockd runs as root, it takes on the caller's identity for those
 * system calls, in the loop's thread alone (raw system calls, not the
 * libc wrappers that change every thread). The real uid is never changed:
 * a thread whose real uid is the caller's could be signalled by it.
 */
#ifndef SOCKD_IDENT_H
#define SOCKD_IDENT_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

struct conn;

/* Read what sockd is (at start, before any other thread). */
int ident_init(void);
/* Can sockd take on other identities (it runs as root)? */
bool ident_can_switch(void);
/* Does sockd act as c's uid for the calls above (it can switch, and c is
 * not root)? */
bool ident_acts_for(const struct conn *c);

/* New sockets belong to uid in the kernel's eyes: around socket(2) and
 * accept4(2). No-ops when sockd cannot switch or uid is 0. */
void ident_own_begin(uid_t uid);
void ident_own_end(void);

/* The caller's whole file-system identity (uid, gid and groups, as the
 * effective and file-system ids) around one Unix-path system call. 0, or
 * -errno (nothing changed). A no-op unless ident_acts_for(c). */
int ident_enter(const struct conn *c);
void ident_leave(void);

/* sendto(2) on a Unix socket with c's uid and gid as its SCM_CREDENTIALS
 * (the kernel would otherwise give sockd's own to a peer that asks), or
 * plain sendto(2) when sockd does not act for c. */
ssize_t ident_sendto(const struct conn *c, int fd, const void *buf, size_t len,
		     int flags, const struct sockaddr *sa, socklen_t salen);

#endif
