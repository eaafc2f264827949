/*
 * Name resolution off the event loop: worker threads run getaddrinfo,
 * getnameinfo and gethostbyaddr (so nsswitch, /etc/hosts and the system's
 * resolver configuration apply exactly as for any program) and hand the
 * results back to the loop through an eventfd.
 */
#ifndef SOCKD_RESOLVER_H
#define SOCKD_RESOLVER_H

#include <netdb.h>
#include <stdbool.h>
#include <sys/socket.h>

struct call;

enum resolve_kind {
	RESOLVE_ADDRINFO,
	RESOLVE_NAMEINFO,
	RESOLVE_HOSTBYADDR,
};

struct resolve_job {
	enum resolve_kind kind;
	struct call *call; /* NULL once the call is gone */
	bool finished;	   /* handed back to the loop */
	struct resolve_job *next;

	/* RESOLVE_ADDRINFO */
	char *host;    /* NULL for none */
	char *service; /* NULL for none */
	struct addrinfo hints;
	struct addrinfo *result;

	/* RESOLVE_NAMEINFO and RESOLVE_HOSTBYADDR */
	struct sockaddr_storage sa;
	socklen_t salen;
	int ni_flags;
	char nhost[NI_MAXHOST];
	char nserv[NI_MAXSERV];

	/* RESOLVE_HOSTBYADDR: the answer, NULL-ended lists */
	char *hostname;
	char **aliases;
	char **addresses;

	int gai;       /* getaddrinfo/getnameinfo result */
	int herr;      /* h_errno for gethostbyaddr, 0 if found */
	int sys_errno; /* errno for EAI_SYSTEM */
};

/* The most threads resolver_init() starts. */
#define RESOLVER_MAX_THREADS 16

/* Start n worker threads (at most RESOLVER_MAX_THREADS). */
int resolver_init(unsigned n);
void resolver_stop(void);
/* Queue a job for call (which gets call_job_done when it completes). */
int resolver_submit(struct resolve_job *job, struct call *c);
/* The call no longer wants the job; it is freed when it completes. */
void resolver_abandon(struct resolve_job *job);
void resolver_job_free(struct resolve_job *job);

#endif
