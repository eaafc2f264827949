/*
 * The control socket clients connect to.
 */
#ifndef SOCKD_SERVER_H
#define SOCKD_SERVER_H

#include <stdbool.h>
#include <sys/socket.h>

/* Create the control socket at path (removed again at exit). */
int server_listen(const char *path);
/* Serve a listening Unix socket passed by the service manager. */
int server_adopt(int fd, const char *fdname);
/* Stop serving; remove the files server_listen() made. */
void server_close(void);
/* Does the Unix address name one of sockd's own control sockets (the same
 * abstract name, or the same socket file, however it is reached)? */
bool server_is_own(const struct sockaddr *sa, socklen_t len);

#endif
