/*
 * The control sockets: create one (mode 0666, stale files replaced, a live
 * daemon left alone) or take those the service manager passed, accept
 * clients, and survive running out of file descriptors without spinning.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "conn.h"
#include "log.h"
#include "server.h"
#include "sockd.h"

#define SERVER_ACCEPT_BATCH 32
#define SERVER_MAX	    16 /* control sockets */

struct listener {
	int fd;
	struct event *ev;
	char *path; /* the socket file we created; NULL when passed */
	struct sockaddr_un name; /* what it is bound to */
	socklen_t namelen;
	dev_t dev; /* its socket file, when it has one */
	ino_t ino;
};

static struct listener listeners[SERVER_MAX];
static size_t nlisteners;
static int reserve_fd = -1; /* kept to shed clients when out of fds */
static bool shedding;	    /* a burst of EMFILE has been logged */

/* Make the directories leading to path (like mkdir -p of its parent). */
static int
server_mkdirs(const char *path)
{
	char *dir = strdup(path), *p;

	if (dir == NULL)
		return -ENOMEM;
	for (p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			int r = -errno;

			free(dir);
			return r;
		}
		*p = '/';
	}
	free(dir);
	return 0;
}

/* Is a daemon answering on the socket file at sun? */
static bool
server_alive(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	alive = connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0;
	close(fd);
	return alive;
}

/* Is the client sockd itself? sockd never connects a handle to its own
 * control socket (call.c refuses it), since through one its owner would
 * speak to sockd as sockd; this catches a way in that refusal missed. */
static bool
server_from_self(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    cred.pid != getpid())
		return false;
	log_warn("refused a connection from sockd itself: a handle was "
		 "connected to its own control socket");
	return true;
}

/* Accept what is waiting; on fd exhaustion, shed one client cleanly. */
static void
server_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	(void)arg;
	for (int i = 0; i < SERVER_ACCEPT_BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		int r;

		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				if (!shedding)
					log_warn("out of file descriptors: "
						 "refusing new connections");
				shedding = true;
				/* Free the reserve, take the client, drop it.
				 */
				if (reserve_fd >= 0) {
					close(reserve_fd);
					cfd = accept4(fd, NULL, NULL,
						      SOCK_CLOEXEC);
					if (cfd >= 0)
						close(cfd);
					reserve_fd = open("/dev/null",
							  O_RDONLY | O_CLOEXEC);
				}
				return;
			}
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		shedding = false;
		if (server_from_self(cfd)) {
			close(cfd);
			continue;
		}
		r = conn_new(cfd);
		if (r < 0) {
			log_warn("new connection: %s", strerror(-r));
			close(cfd);
		}
	}
}

/* Serve fd (listening, non-blocking); path is the file to remove at exit,
 * or NULL. */
static int
server_add(int fd, const char *path)
{
	struct listener *l = &listeners[nlisteners];

	if (nlisteners == SERVER_MAX) {
		log_err("more than %d control sockets", SERVER_MAX);
		return -E2BIG;
	}
	l->ev = event_new(sockd_base, fd, EV_READ | EV_PERSIST,
			  server_accept_cb, NULL);
	l->path = path ? strdup(path) : NULL;
	if (l->ev == NULL || (path && l->path == NULL) ||
	    event_add(l->ev, NULL) < 0) {
		if (l->ev != NULL)
			event_free(l->ev);
		free(l->path);
		return -ENOMEM;
	}
	l->fd = fd;
	/* Remembered so that no handle is ever connected to it. */
	l->namelen = sizeof l->name;
	memset(&l->name, 0, sizeof l->name);
	if (getsockname(fd, (struct sockaddr *)&l->name, &l->namelen) < 0)
		l->namelen = 0;
	l->dev = 0;
	l->ino = 0;
	if (l->namelen > offsetof(struct sockaddr_un, sun_path) &&
	    l->name.sun_path[0] != '\0') {
		struct stat st;

		if (stat(l->name.sun_path, &st) == 0) {
			l->dev = st.st_dev;
			l->ino = st.st_ino;
		}
	}
	nlisteners++;
	if (reserve_fd < 0)
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return 0;
}

/* Create the control socket at path and start accepting. */
int
server_listen(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	mode_t mask;
	int fd, r;

	if (strlen(path) >= sizeof sun.sun_path) {
		log_err("socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	r = server_mkdirs(path);
	if (r < 0) {
		log_err("cannot create the directory of %s: %s", path,
			strerror(-r));
		return r;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		log_err("cannot create the control socket: %s", strerror(-r));
		return r;
	}
	/* The policy decides who may do what, not the file mode. */
	mask = umask(0111);
	r = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	if (r < 0 && errno == EADDRINUSE) {
		struct stat st;

		/* Replace a stale socket file, never anything else. */
		if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
			umask(mask);
			close(fd);
			log_err("%s exists and is not a socket", path);
			return -EEXIST;
		}
		if (server_alive(&sun)) {
			umask(mask);
			close(fd);
			log_err("%s: something is already listening there",
				path);
			return -EADDRINUSE;
		}
		unlink(path);
		r = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	}
	umask(mask);
	if (r < 0 || listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		log_err("cannot listen on %s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	r = server_add(fd, path);
	if (r < 0) {
		close(fd);
		unlink(path);
		return r;
	}
	log_info("listening on %s", path);
	return 0;
}

/* Serve a socket the service manager passed, if it is a listening Unix
 * stream socket: 0, or -ENOTSOCK (logged) when it is anything else. The
 * socket file belongs to the manager: it stays at exit. */
int
server_adopt(int fd, const char *fdname)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof sun;
	int r;

	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
		log_err("passed fd %d (%s) is not a listening Unix stream "
			"socket: refused",
			fd, fdname);
		return -ENOTSOCK;
	}
	/* accept() must never block the loop. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return -errno;
	r = server_add(fd, NULL);
	if (r < 0)
		return r;
	memset(&sun, 0, sizeof sun);
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == 0 &&
	    len > offsetof(struct sockaddr_un, sun_path) &&
	    sun.sun_path[0] != '\0')
		log_info("listening on %s (passed as %s)", sun.sun_path,
			 fdname);
	else
		log_info("listening on passed fd %d (%s)", fd, fdname);
	return 0;
}

/* Is the Unix address one of our control sockets? */
bool
server_is_own(const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_un *sun = (const void *)sa;
	size_t off = offsetof(struct sockaddr_un, sun_path);
	struct stat st;
	bool have_st = false;

	if (sa->sa_family != AF_UNIX || len <= off)
		return false;
	if (sun->sun_path[0] != '\0')
		have_st = stat(sun->sun_path, &st) == 0;
	for (size_t i = 0; i < nlisteners; i++) {
		const struct listener *l = &listeners[i];

		if (sun->sun_path[0] == '\0') {
			if (l->namelen == len &&
			    memcmp(l->name.sun_path, sun->sun_path,
				   len - off) == 0)
				return true;
		} else if (have_st && l->ino != 0 && st.st_dev == l->dev &&
			   st.st_ino == l->ino) {
			return true;
		}
	}
	return false;
}

/* Stop accepting, and remove the socket files we created. */
void
server_close(void)
{
	for (size_t i = 0; i < nlisteners; i++) {
		struct listener *l = &listeners[i];

		event_free(l->ev);
		close(l->fd);
		if (l->path != NULL)
			unlink(l->path);
		free(l->path);
	}
	nlisteners = 0;
	if (reserve_fd >= 0)
		close(reserve_fd);
	reserve_fd = -1;
}
