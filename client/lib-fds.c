/*
 * libsockc: sockets handed to a program the way systemd's socket
 * activation hands them (sd_listen_fds(3)): made through sockd, moved to
 * fds 3, 4, ..., and announced in LISTEN_FDS, LISTEN_FDNAMES and
 * LISTEN_PID. sockc exec is this and an execvp.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib.h"

#define FDS_START    3	 /* SD_LISTEN_FDS_START: the first fd passed */
#define FDS_NAME_MAX 255 /* the longest fd name systemd takes */

/* The name of the socket spec makes, for LISTEN_FDNAMES; NULL for an
 * unknown kind. */
static const char *
fds_name(const struct sockc_fdspec *s)
{
	switch (s->kind) {
	case SOCKC_FD_CONNECT:
		return "connect";
	case SOCKC_FD_LISTEN:
		return "listen";
	case SOCKC_FD_UDP:
		return "udp";
	case SOCKC_FD_NAME:
		return s->name;
	}
	return NULL;
}

/* Can name go in LISTEN_FDNAMES? systemd's rule for FDNAME=: printable
 * ASCII, no ':' (the separator), at most 255 bytes. Handle names are
 * never empty. */
static bool
fds_name_ok(const char *name)
{
	size_t n;

	for (n = 0; name[n] != '\0'; n++)
		if ((unsigned char)name[n] < 0x20 ||
		    (unsigned char)name[n] > 0x7e || name[n] == ':')
			return false;
	return n > 0 && n <= FDS_NAME_MAX;
}

/* Is every spec one that can be made and passed on? */
static bool
fds_specs_ok(const struct sockc_fdspec *specs, size_t n)
{
	if (n > 0 && specs == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct sockc_fdspec *s = &specs[i];
		const char *name = fds_name(s);

		if (name == NULL || !fds_name_ok(name))
			return false;
		if (s->kind != SOCKC_FD_NAME &&
		    (s->addr == NULL || s->addrlen < sizeof(sa_family_t)))
			return false;
	}
	return true;
}

/* Set up a new socket h as spec says: 0, or -1. */
static int
fds_setup(struct sockc *c, sockc_handle_t h, const struct sockc_fdspec *s)
{
	int family = s->addr->sa_family, one = 1;
	bool ip = family == AF_INET || family == AF_INET6;

	if (s->kind == SOCKC_FD_CONNECT)
		return sockc_connect(c, h, s->addr, s->addrlen);
	/* A restarted server can bind its port again at once, as systemd's
	 * listening sockets can (ReusePort= aside). */
	if (s->kind == SOCKC_FD_LISTEN && ip &&
	    sockc_setsockopt(c, h, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one))
		return -1;
	if (sockc_bind(c, h, s->addr, s->addrlen) < 0)
		return -1;
	if (s->kind == SOCKC_FD_LISTEN)
		return sockc_listen(c, h, SOMAXCONN);
	return 0;
}

/* A new socket for spec, detached from sockd: its fd, or -1. */
static int
fds_new(struct sockc *c, const struct sockc_fdspec *s)
{
	int type = s->kind == SOCKC_FD_UDP ? SOCK_DGRAM : SOCK_STREAM;
	sockc_handle_t h = sockc_socket(c, s->addr->sa_family, type, 0);
	int fd;

	if (h < 0)
		return -1;
	if (fds_setup(c, h, s) == 0) {
		fd = sockc_fileno(c, h, 1);
		if (fd >= 0)
			return fd;
	}
	/* A refused FileNo leaves the handle; a lost fd does not, and then
	 * this is a harmless EBADF. */
	lib_close_quietly(c, h);
	return -1;
}

/* An existing handle's socket, shared with sockd: its fd, or -1. */
static int
fds_named(struct sockc *c, const struct sockc_fdspec *s)
{
	sockc_handle_t h = sockc_find(c, s->name);

	return h < 0 ? -1 : sockc_fileno(c, h, 0);
}

SOCKC_EXPORT int
sockc_listen_fds(struct sockc *c, const struct sockc_fdspec *specs, size_t n,
		 int *fds)
{
	size_t i;
	int e;

	for (i = 0; i < n; i++)
		fds[i] = -1;
	if (!fds_specs_ok(specs, n)) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++) {
		fds[i] = specs[i].kind == SOCKC_FD_NAME
			     ? fds_named(c, &specs[i])
			     : fds_new(c, &specs[i]);
		if (fds[i] < 0)
			break;
	}
	if (i == n)
		return 0;
	e = errno;
	while (i-- > 0) {
		close(fds[i]);
		fds[i] = -1;
	}
	errno = e;
	return -1;
}

/* The specs' names joined by ':', malloc'ed, or NULL. */
static char *
fds_names(const struct sockc_fdspec *specs, size_t n)
{
	size_t len = 1, at = 0;
	char *names;

	for (size_t i = 0; i < n; i++)
		len += strlen(fds_name(&specs[i])) + 1;
	names = malloc(len);
	if (names == NULL)
		return NULL;
	names[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *name = fds_name(&specs[i]);
		size_t k = strlen(name);

		if (i > 0)
			names[at++] = ':';
		memcpy(names + at, name, k + 1);
		at += k;
	}
	return names;
}

SOCKC_EXPORT int
sockc_listen_fds_pass(const struct sockc_fdspec *specs, size_t n, int *fds)
{
	char num[32], *names;
	int end, e;

	if (!fds_specs_ok(specs, n) || n > (size_t)(INT_MAX - FDS_START)) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (fds[i] < 0) {
			errno = EINVAL;
			return -1;
		}
	names = fds_names(specs, n);
	if (names == NULL)
		return -1;
	end = FDS_START + (int)n;
	/* First every fd out of 3..end-1, so that no dup2 below lands on
	 * one of them: fds[1] may be at 3, where fds[0] goes. */
	for (size_t i = 0; i < n; i++) {
		int fd;

		if (fds[i] >= end)
			continue;
		fd = fcntl(fds[i], F_DUPFD_CLOEXEC, end);
		if (fd < 0)
			goto fail;
		close(fds[i]);
		fds[i] = fd;
	}
	/* Then each into its place; the copy dup2 makes is not
	 * close-on-exec. */
	for (size_t i = 0; i < n; i++) {
		int to = FDS_START + (int)i;

		if (dup2(fds[i], to) < 0)
			goto fail;
		close(fds[i]);
		fds[i] = to;
	}
	snprintf(num, sizeof num, "%zu", n);
	if (setenv("LISTEN_FDS", num, 1) < 0)
		goto fail;
	snprintf(num, sizeof num, "%ld", (long)getpid());
	if (setenv("LISTEN_PID", num, 1) < 0 ||
	    setenv("LISTEN_FDNAMES", names, 1) < 0)
		goto fail;
	free(names);
	return 0;
fail:
	e = errno;
	free(names);
	errno = e;
	return -1;
}
