/*
 * Unix paths judged with a caller's rights, for when sockd cannot take on
 * the caller's identity (it does not run as root, see ident.h): the path
 * is walked directory by directory with O_PATH descriptors, and each step
 * checked against the caller's uid and groups and the file's mode bits.
 * Only for reaching a socket: sockd binds no path for another uid then.
 */
#ifndef SOCKD_UPATH_H
#define SOCKD_UPATH_H

#include <sys/socket.h>
#include <sys/un.h>

struct conn;

/* A socket file reached for a caller: fd holds it open (O_PATH), and sun
 * names it as /proc/self/fd/N, so that connect(2) or sendto(2) reaches
 * that very file whatever is renamed meanwhile. */
struct upath {
	int fd;
	struct sockaddr_un sun;
	socklen_t len;
};

/*
 * For Connect and SendTo: the socket file at path (NUL-terminated, as in
 * a sockaddr_un), if c may search every directory on the way and write
 * the socket, as the kernel would let c itself. 0 with ret filled (free
 * it with upath_done), or -errno: EACCES, ENOENT, ENOTDIR, ELOOP,
 * ECONNREFUSED for a file that is not a socket. Files with a POSIX ACL
 * are refused (EACCES) unless c owns them: sockd does not evaluate ACLs.
 */
int upath_reach(const struct conn *c, const char *path, struct upath *ret);

void upath_done(struct upath *u);

#endif
