/*
 * Connections: one varlink client each. Reads and splits messages, runs
 * calls one at a time in order, queues replies and writes them out.
 */
#ifndef SOCKD_CONN_H
#define SOCKD_CONN_H

#include <stdbool.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <event2/event.h>

#include "frame.h"
#include "handle.h"

struct call;
struct relay;

/* One message queued for output. */
struct outmsg {
	STAILQ_ENTRY(outmsg) link;
	char *buf;
	size_t len;
	size_t cap; /* allocated size of buf (small replies are packed) */
	size_t off; /* bytes already written */
	int fd;	    /* passed with the first byte, or -1 */
};

struct conn {
	int fd;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	gid_t *groups; /* supplementary groups (SO_PEERGROUPS) */
	size_t ngroups;
	struct event *ev_read;
	struct event *ev_write;
	struct event *ev_process; /* deferred work: process input, free */
	struct event *ev_hup;	  /* full-hangup watch while half-closed */
	struct frame in;
	STAILQ_HEAD(, outmsg) out;
	size_t out_bytes;	    /* unsent reply bytes */
	unsigned out_fds;	    /* unsent fds among them */
	size_t charged;		    /* bytes counted against the uid */
	struct call *active;	    /* the call in progress, if any */
	struct relay *relay;	    /* upgraded by Attach: raw bytes */
	struct handle_list handles; /* scoped handles */
	bool reading;		    /* ev_read is armed */
	bool eof;		    /* the client will send no more */
	bool closing;		    /* close once output is flushed */
	bool dead;		    /* freed from the loop soon */
	TAILQ_ENTRY(conn) link;
};

TAILQ_HEAD(conn_list, conn);
extern struct conn_list conns;
extern unsigned conn_count;

/* Take over an accepted client socket. */
int conn_new(int fd);
/* Queue a message (buf is malloc'ed and taken over; fd -1 or passed). */
void conn_send(struct conn *c, char *buf, size_t len, int fd);
/* The active call finished: go on with the next. */
void conn_call_done(struct conn *c);
/* Reply ProtocolError and close after flushing. */
void conn_protocol_error(struct conn *c, const char *why);
/* Drop the connection now (marked dead, freed from the loop). */
void conn_kill(struct conn *c);
/* Close every connection (shutdown). */
void conn_free_all(void);
/* uid's memory is back under its limit: read its connections again. */
void conn_unthrottle(uid_t uid);

#endif
