/*
 * Acting as the caller: the loop's thread changes its own credentials
 * around one system call and changes them back. Each step is a raw
 * system call, because glibc's setresuid(), setgroups() and the like
 * change every thread of the process (the resolver's too).
 *
 * Order matters: the supplementary groups and the gid need CAP_SETGID,
 * which goes away with a non-zero effective uid, so they come first;
 * going back, the effective uid 0 (allowed, the saved uid is still 0)
 * brings the capabilities back before the gid and the groups are
 * restored.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "conn.h"
#include "ident.h"
#include "log.h"

static bool can_switch;
static gid_t own_egid;
static gid_t *own_groups;
static size_t own_ngroups;
static bool owning; /* ident_own_begin changed the fsuid */
static bool entered;

int
ident_init(void)
{
	int n;

	can_switch = geteuid() == 0;
	if (!can_switch)
		return 0;
	own_egid = getegid();
	n = getgroups(0, NULL);
	if (n < 0)
		return -errno;
	own_groups = calloc(n > 0 ? (size_t)n : 1, sizeof *own_groups);
	if (own_groups == NULL)
		return -ENOMEM;
	n = getgroups(n, own_groups);
	if (n < 0)
		return -errno;
	own_ngroups = (size_t)n;
	return 0;
}

bool
ident_can_switch(void)
{
	return can_switch;
}

bool
ident_acts_for(const struct conn *c)
{
	return can_switch && c->uid != 0;
}

void
ident_own_begin(uid_t uid)
{
	if (!can_switch || uid == 0)
		return;
	/* setfsuid cannot fail for root; it answers the previous one. */
	syscall(SYS_setfsuid, uid);
	owning = true;
}

void
ident_own_end(void)
{
	int err = errno;

	if (!owning)
		return;
	syscall(SYS_setfsuid, 0);
	owning = false;
	errno = err;
}

/* Back to sockd's own identity, from as far as ident_enter got. */
static void
ident_restore(int steps)
{
	if (steps >= 3 && syscall(SYS_setresuid, -1, 0, -1) < 0)
		goto fatal;
	if (steps >= 2 && syscall(SYS_setresgid, -1, own_egid, -1) < 0)
		goto fatal;
	if (steps >= 1 && syscall(SYS_setgroups, own_ngroups, own_groups) < 0)
		goto fatal;
	return;
fatal:
	/* Going on as someone else would be far worse than stopping. */
	log_err("cannot take back sockd's own identity: %s; exiting",
		strerror(errno));
	_exit(1);
}

int
ident_enter(const struct conn *c)
{
	int r;

	if (!ident_acts_for(c))
		return 0;
	if (syscall(SYS_setgroups, c->ngroups, c->groups) < 0) {
		r = -errno;
		ident_restore(0);
		return r;
	}
	if (syscall(SYS_setresgid, -1, c->gid, -1) < 0) {
		r = -errno;
		ident_restore(1);
		return r;
	}
	if (syscall(SYS_setresuid, -1, c->uid, -1) < 0) {
		r = -errno;
		ident_restore(2);
		return r;
	}
	entered = true;
	return 0;
}

void
ident_leave(void)
{
	int err = errno;

	if (!entered)
		return;
	entered = false;
	ident_restore(3);
	errno = err;
}

ssize_t
ident_sendto(const struct conn *c, int fd, const void *buf, size_t len,
	     int flags, const struct sockaddr *sa, socklen_t salen)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {(void *)buf, len};
	struct msghdr mh = {
	    .msg_name = (void *)sa,
	    .msg_namelen = sa != NULL ? salen : 0,
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	};
	struct ucred cred;
	struct cmsghdr *cm;

	if (!ident_acts_for(c))
		return sendto(fd, buf, len, flags, sa, sa != NULL ? salen : 0);
	memset(&u, 0, sizeof u);
	cred.pid = getpid();
	cred.uid = c->uid;
	cred.gid = c->gid;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof u.buf;
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_CREDENTIALS;
	cm->cmsg_len = CMSG_LEN(sizeof cred);
	memcpy(CMSG_DATA(cm), &cred, sizeof cred);
	return sendmsg(fd, &mh, flags);
}
