/*
 * The control socket clients connect to.
 */
#ifndef SOCKD_SERVER_H
#define SOCKD_SERVER_H

int server_listen(const char *path);
void server_close(void);

#endif
