/*
 * The walk behind upath.h. It follows symbolic links itself (at most
 * UPATH_MAX_LINKS, as the kernel does), judging each directory it passes
 * with the caller's rights, so a link cannot lead sockd anywhere the
 * caller could not go. Only the permission bits and ownership are judged:
 * not capabilities (the caller is not root, or sockd would act as it),
 * not LSMs, and not ACLs, which make sockd refuse instead.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "conn.h"
#include "upath.h"

#define UPATH_MAX_LINKS 40
#define UPATH_X		1
#define UPATH_W		2

/* Is the caller in group gid? */
static bool
upath_in_group(const struct conn *c, gid_t gid)
{
	if (c->gid == gid)
		return true;
	for (size_t i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

/* Does the file open as fd carry a POSIX ACL? */
static bool
upath_has_acl(int fd)
{
	char proc[32];

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	return getxattr(proc, "system.posix_acl_access", NULL, 0) > 0;
}

/* May the caller do want (UPATH_X, UPATH_W) to the file open as fd? */
static int
upath_may(const struct conn *c, int fd, int want)
{
	struct stat st;
	unsigned bits;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (c->uid == st.st_uid)
		bits = (st.st_mode >> 6) & 7;
	else if (upath_has_acl(fd))
		return -EACCES;
	else if (upath_in_group(c, st.st_gid))
		bits = (st.st_mode >> 3) & 7;
	else
		bits = st.st_mode & 7;
	return ((int)bits & want) == want ? 0 : -EACCES;
}

/* Replace *dir with fd. */
static void
upath_move(int *dir, int fd)
{
	close(*dir);
	*dir = fd;
}

/*
 * Walk path from the directory *dir (or the root, for an absolute path)
 * to the directory holding its last component, as the caller. On success
 * *dir is that directory and the last component is copied to name; links
 * counts the symbolic links followed. -errno otherwise (*dir still open).
 */
static int
upath_walk(const struct conn *c, const char *path, int *dir, char *name,
	   int *links)
{
	char work[2 * PATH_MAX];
	char *p = work;
	int r;

	if (strlen(path) >= sizeof work)
		return -ENAMETOOLONG;
	strcpy(work, path);
	for (;;) {
		char *slash, *comp;
		struct stat st;
		int fd;

		if (*p == '/') {
			fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				return -errno;
			upath_move(dir, fd);
			while (*p == '/')
				p++;
		}
		slash = strchr(p, '/');
		if (slash == NULL) {
			if (*p == '\0' || strlen(p) > NAME_MAX)
				return *p == '\0' ? -EISDIR : -ENAMETOOLONG;
			strcpy(name, p);
			return 0;
		}
		*slash = '\0';
		comp = p;
		p = slash + 1;
		while (*p == '/')
			p++;
		if (*p == '\0') /* "dir/": the last component is a directory */
			return -EISDIR;
		r = upath_may(c, *dir, UPATH_X);
		if (r < 0)
			return r;
		if (strcmp(comp, ".") == 0)
			continue;
		fd = openat(*dir, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (fstat(fd, &st) < 0) {
			r = -errno;
			close(fd);
			return r;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX], rest[2 * PATH_MAX];
			ssize_t n =
			    readlinkat(fd, "", target, sizeof target - 1);

			close(fd);
			if (n < 0)
				return -errno;
			if (++*links > UPATH_MAX_LINKS)
				return -ELOOP;
			target[n] = '\0';
			/* The link's text, then what was left of the path. */
			if ((size_t)snprintf(rest, sizeof rest, "%s/%s", target,
					     p) >= sizeof rest)
				return -ENAMETOOLONG;
			strcpy(work, rest);
			p = work;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			return -ENOTDIR;
		}
		upath_move(dir, fd);
	}
}

int
upath_reach(const struct conn *c, const char *path, struct upath *ret)
{
	char name[NAME_MAX + 1], link[PATH_MAX];
	int dir, fd, r, links = 0;
	struct stat st;

	dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	for (;;) {
		r = upath_walk(c, path, &dir, name, &links);
		if (r < 0)
			goto out;
		r = upath_may(c, dir, UPATH_X);
		if (r < 0)
			goto out;
		fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			goto out;
		}
		if (fstat(fd, &st) < 0) {
			r = -errno;
			close(fd);
			goto out;
		}
		if (!S_ISLNK(st.st_mode))
			break;
		/* A link at the end: go on from where it points, relative
		 * to its directory. */
		r = (int)readlinkat(fd, "", link, sizeof link - 1);
		close(fd);
		if (r < 0) {
			r = -errno;
			goto out;
		}
		link[r] = '\0';
		if (++links > UPATH_MAX_LINKS) {
			r = -ELOOP;
			goto out;
		}
		path = link;
	}
	if (!S_ISSOCK(st.st_mode))
		r = -ECONNREFUSED;
	else
		r = upath_may(c, fd, UPATH_W);
	if (r < 0) {
		close(fd);
		goto out;
	}
	memset(ret, 0, sizeof *ret);
	ret->fd = fd;
	ret->sun.sun_family = AF_UNIX;
	snprintf(ret->sun.sun_path, sizeof ret->sun.sun_path,
		 "/proc/self/fd/%d", fd);
	ret->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			       strlen(ret->sun.sun_path) + 1);
out:
	close(dir);
	return r;
}

void
upath_done(struct upath *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
}
