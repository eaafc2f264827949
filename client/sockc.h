/*
 * libsockc: use sockets brokered by sockd from C.
 *
 * Calls mirror the BSD socket calls they stand in for: struct sockaddr and
 * socklen_t in and out, -1 with errno set on failure (ETIMEDOUT when the
 * handle's timeout expired). A socket held by sockd is named by a handle
 * (sockc_handle_t), not an fd; sockc_fileno() turns one into a real local
 * fd when the daemon's policy allows it.
 *
 * Threads: a struct sockc is one connection to sockd and must be used by
 * one thread at a time (calls on it are in order, and a call that waits
 * holds the connection). Open one connection per thread; different
 * connections are independent. The library never logs, never exits and
 * never raises signals; every fd it creates or receives is close-on-exec.
 */
#ifndef SOCKC_H
#define SOCKC_H

#include <netdb.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A connection to sockd. */
struct sockc;
struct addrinfo;

/* A socket held by sockd: a positive number, never reused. */
typedef int64_t sockc_handle_t;

/* The socket used when no path is given and $SOCKD_SOCKET is unset
 * (for root; other users get $XDG_RUNTIME_DIR/sockd/sockd.sock). */
#define SOCKC_DEFAULT_SOCKET "/run/sockd/sockd.sock"

/*
 * Connect to sockd at path; NULL means $SOCKD_SOCKET, or else the default
 * socket. Returns NULL with errno set when the daemon cannot be reached.
 */
struct sockc *sockc_open(const char *path);
/* Close the connection. Scoped handles it created are closed by sockd.
 * NULL is accepted. */
void sockc_free(struct sockc *c);
/* The connection's own fd (for poll(2) by callers that multiplex). */
int sockc_connection_fd(const struct sockc *c);

/*
 * Details of the last failed call on c:
 * - sockc_error_name: the varlink error ("io.sockd.OSError",
 *   "io.sockd.Timeout", "io.sockd.GAIError", ...), or NULL after success;
 * - sockc_error_message: the daemon's message ("Connection refused:
 *   connect"), or "";
 * - sockc_gai_error: the EAI_* code of a GAIError (errno is then EIO for
 *   calls that are not getaddrinfo-shaped), else 0;
 * - sockc_herror: the h_errno code of an HError, else 0.
 */
const char *sockc_error_name(const struct sockc *c);
const char *sockc_error_message(const struct sockc *c);
int sockc_gai_error(const struct sockc *c);
int sockc_herror(const struct sockc *c);

/* Flags for sockc_socket_ex. */
#define SOCKC_PERSISTENT 0x1 /* keep the socket after this connection */

/* socket(): a new handle, or -1. The handle is closed when c is. */
sockc_handle_t sockc_socket(struct sockc *c, int domain, int type,
			    int protocol);
/* socket() with SOCKC_* flags and an optional name (unique per uid). */
sockc_handle_t sockc_socket_ex(struct sockc *c, int domain, int type,
			       int protocol, unsigned flags, const char *name);

int sockc_bind(struct sockc *c, sockc_handle_t h, const struct sockaddr *addr,
	       socklen_t addrlen);
int sockc_listen(struct sockc *c, sockc_handle_t h, int backlog);
/* accept(): the new handle, or -1; addr/addrlen may be NULL. */
sockc_handle_t sockc_accept(struct sockc *c, sockc_handle_t h,
			    struct sockaddr *addr, socklen_t *addrlen);
int sockc_connect(struct sockc *c, sockc_handle_t h,
		  const struct sockaddr *addr, socklen_t addrlen);
/* connect_ex(): 0 or the connect's errno value; -1 (errno set) only
 * when the call itself failed. */
int sockc_connect_ex(struct sockc *c, sockc_handle_t h,
		     const struct sockaddr *addr, socklen_t addrlen);
ssize_t sockc_send(struct sockc *c, sockc_handle_t h, const void *buf,
		   size_t len, int flags);
/* sendall(): 0 once every byte is sent, or -1. */
int sockc_sendall(struct sockc *c, sockc_handle_t h, const void *buf,
		  size_t len, int flags);
ssize_t sockc_sendto(struct sockc *c, sockc_handle_t h, const void *buf,
		     size_t len, int flags, const struct sockaddr *addr,
		     socklen_t addrlen);
/* recv(): bytes received, 0 at orderly EOF, or -1. */
ssize_t sockc_recv(struct sockc *c, sockc_handle_t h, void *buf, size_t len,
		   int flags);
/* recvfrom(): *addrlen is 0 when there is no peer address to report. */
ssize_t sockc_recvfrom(struct sockc *c, sockc_handle_t h, void *buf, size_t len,
		       int flags, struct sockaddr *addr, socklen_t *addrlen);
/* settimeout(): seconds < 0 means none (blocking), 0 non-blocking. */
int sockc_settimeout(struct sockc *c, sockc_handle_t h, double seconds);
/* gettimeout(): *ret_seconds is -1 for none. */
int sockc_gettimeout(struct sockc *c, sockc_handle_t h, double *ret_seconds);
int sockc_setblocking(struct sockc *c, sockc_handle_t h, int blocking);
/* setsockopt()/getsockopt() with the kernel's level and option numbers;
 * the option must be one sockd knows (ENOPROTOOPT otherwise). */
int sockc_setsockopt(struct sockc *c, sockc_handle_t h, int level, int optname,
		     const void *optval, socklen_t optlen);
int sockc_getsockopt(struct sockc *c, sockc_handle_t h, int level, int optname,
		     void *optval, socklen_t *optlen);
int sockc_shutdown(struct sockc *c, sockc_handle_t h, int how);
/* close() of a handle. */
int sockc_close(struct sockc *c, sockc_handle_t h);
int sockc_getsockname(struct sockc *c, sockc_handle_t h, struct sockaddr *addr,
		      socklen_t *addrlen);
int sockc_getpeername(struct sockc *c, sockc_handle_t h, struct sockaddr *addr,
		      socklen_t *addrlen);
/* fileno(): a real local fd for the socket (close-on-exec), or -1. With
 * detach, sockd forgets the socket and the handle: the fd is all there
 * is, and it is made blocking, as a new socket() is. Without detach the
 * fd shares the daemon's open file, which is non-blocking (O_NONBLOCK):
 * clear it only if sockd will not use the handle again. */
int sockc_fileno(struct sockc *c, sockc_handle_t h, int detach);

/* One socket in sockc_poll. */
struct sockc_pollfd {
	sockc_handle_t handle;
	short events;  /* POLLIN, POLLOUT, ... */
	short revents; /* set by sockc_poll */
};
/* poll(): how many items are ready, 0 on timeout, or -1. timeout in
 * seconds, < 0 waits forever. */
int sockc_poll(struct sockc *c, struct sockc_pollfd *items, size_t n,
	       double timeout);

/* getaddrinfo(): returns 0 or an EAI_* code (EAI_SYSTEM with errno);
 * the result is freed with sockc_freeaddrinfo. A non-numeric service is
 * looked up locally (getservbyname). */
int sockc_getaddrinfo(struct sockc *c, const char *node, const char *service,
		      const struct addrinfo *hints, struct addrinfo **res);
void sockc_freeaddrinfo(struct addrinfo *res);
/* getnameinfo(): returns 0 or an EAI_* code. */
int sockc_getnameinfo(struct sockc *c, const struct sockaddr *addr,
		      socklen_t addrlen, char *host, socklen_t hostlen,
		      char *serv, socklen_t servlen, int flags);
/* gethostbyaddr() for an address or name in text: a hostent allocated
 * for the caller (sockc_freehostent), or NULL with sockc_herror or
 * sockc_gai_error telling why. */
struct hostent *sockc_gethostbyaddr(struct sockc *c, const char *host);
void sockc_freehostent(struct hostent *he);

/* One socket as sockc_list reports it. */
struct sockc_info {
	sockc_handle_t handle;
	char *name; /* NULL when unnamed */
	int family, type, protocol;
	int persistent;
	struct sockaddr_storage local, peer;
	socklen_t local_len, peer_len; /* 0 when there is none */
	double timeout;		       /* -1 for none */
	uid_t owner;
};
/* The caller's sockets (root: all). Free with sockc_list_free. */
int sockc_list(struct sockc *c, struct sockc_info **ret, size_t *ret_n);
void sockc_list_free(struct sockc_info *list, size_t n);

/* The caller's own handle named name (sockc_socket_ex), or -1: ENOENT
 * when the caller has no handle of that name. Only the caller's uid's
 * names are searched, root's included. */
sockc_handle_t sockc_find(struct sockc *c, const char *name);

/* Attach (varlink upgrade; h must be a connected stream socket): on
 * success, returns 0 and the connection's fd (sockc_connection_fd) is a
 * raw byte pipe to the socket — write to send, read to receive,
 * shutdown(SHUT_WR) to half-close — and c can make no more calls; only
 * sockc_free. Nothing past the reply has been read from the fd. -1 with
 * errno on failure (EACCES, EOPNOTSUPP, ENOTCONN, EBUSY, ...), and c stays
 * usable. */
int sockc_attach(struct sockc *c, sockc_handle_t h);

/*
 * The one-call paths, like Python's socket.create_connection() and
 * create_server(): resolve host (through sockd), create and connect a
 * socket (trying each address in turn), and return its local fd (detached
 * from sockd). timeout applies to each connect (< 0: none). Returns -1
 * with errno (and the error details on c) on failure.
 */
int sockc_create_connection(struct sockc *c, const char *host,
			    const char *service, double timeout);
/* A bound, listening TCP socket's local fd. host NULL binds every
 * address (of family, AF_UNSPEC: IPv6 dual-stack when it can). */
int sockc_create_server(struct sockc *c, const char *host, const char *service,
			int family, int backlog);

/*
 * Sockets for a program started the systemd socket-activation way
 * (sd_listen_fds(3)): sockc_listen_fds makes them, as local fds; after
 * sockc_free, sockc_listen_fds_pass puts them at fds 3, 4, ... and sets
 * the environment, and the caller execs the program:
 *
 *	if (sockc_listen_fds(c, specs, n, fds) < 0) ...
 *	sockc_free(c);
 *	if (sockc_listen_fds_pass(specs, n, fds) < 0) ...
 *	execvp(argv[0], argv);
 */
enum sockc_fdkind {
	SOCKC_FD_CONNECT = 1, /* a stream socket (TCP) connected to addr */
	SOCKC_FD_LISTEN,      /* a stream socket bound to addr (SO_REUSEADDR
				 for IP) and listening (backlog SOMAXCONN) */
	SOCKC_FD_UDP,	      /* a datagram socket (UDP) bound to addr */
	SOCKC_FD_NAME,	      /* the caller's existing handle named name */
};

/* One socket for sockc_listen_fds. */
struct sockc_fdspec {
	enum sockc_fdkind kind;
	const struct sockaddr *addr; /* the address (not for SOCKC_FD_NAME), */
	socklen_t addrlen;	     /* whose family is the socket's */
	const char *name;	     /* SOCKC_FD_NAME: the handle's name */
};

/*
 * Make the n sockets specs describe, in order, through sockd, and put
 * their local fds (close-on-exec) in fds[0..n-1]. A new socket is
 * detached from sockd (sockc_fileno with detach): the fd is all there is,
 * and it is blocking. A SOCKC_FD_NAME socket stays in sockd as it is: the
 * fd shares its open file, which stays non-blocking (see sockc_fileno).
 * Returns 0, or -1 with errno (and the details on c) after closing every
 * fd and socket it made, with fds[] set to -1: EINVAL for a bad spec,
 * among them a name that cannot go in LISTEN_FDNAMES (longer than 255
 * bytes, or holding ':' or a byte outside printable ASCII); ENOENT for an
 * unknown name; else the failing call's errno.
 */
int sockc_listen_fds(struct sockc *c, const struct sockc_fdspec *specs,
		     size_t n, int *fds);

/*
 * Just before exec: move fds[0..n-1] (from sockc_listen_fds) to fds 3,
 * 4, ..., 3+n-1, in order, without closing any of them on the way, and
 * clear their close-on-exec flag; fds[] is updated. Whatever else this
 * process had open at 3..3+n-1 is closed, so call it after sockc_free.
 * Then set LISTEN_FDS=n, LISTEN_PID to this process's pid (exec keeps
 * it) and LISTEN_FDNAMES to the specs' names joined by ':': a
 * SOCKC_FD_NAME socket's handle name, else "connect", "listen" or "udp".
 * Returns 0, or -1 with errno: EINVAL for a spec sockc_listen_fds
 * refuses, before anything is changed; EMFILE or ENOMEM part way, with
 * fds[] saying where the fds are.
 */
int sockc_listen_fds_pass(const struct sockc_fdspec *specs, size_t n, int *fds);

/* A raw varlink call: params_json (NULL or "null" for none) in, the
 * reply's parameters as a JSON text out (malloc'ed, *ret_json). Returns
 * 0, or -1 with errno set as by every other call: for an error reply the
 * errno it stands for (OSError: its errno; Timeout: ETIMEDOUT; unknown
 * method: ENOSYS; InvalidParameter: EINVAL; others: EPROTO), with
 * sockc_error_name() naming the reply; EINVAL for params_json that is
 * not a JSON object. */
int sockc_call(struct sockc *c, const char *method, const char *params_json,
	       char **ret_json);

#ifdef __cplusplus
}
#endif

#endif
