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
#include <sys/types.h>

struct call;

enum resolve_kind {
	RESOLVE_ADDRINFO,
	RESOLVE_NAMEINFO,
	RESOLVE_HOSTBYADDR,
};

struct resolve_job {
	enum resolve_kind kind;
	struct call *call; /* NULL once the call is gone */
	uid_t uid;	   /* whose lookup: queues and limits are per uid */
	bool started;	   /* a worker took it */
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
/*
 * Queue a job for call (which gets call_job_done when it completes), on
 * its uid's queue: workers take the uids' queues in turn, and one uid
 * never has more than half the threads (at least one). 0, or -EAGAIN
 * when the uid already has --max-lookups-per-uid lookups queued or
 * running (the job is not taken).
 */
int resolver_submit(struct resolve_job *job, struct call *c);
/* The call no longer wants the job: a queued job is dropped at once, a
 * running one freed when its lookup returns (it counts until then). */
void resolver_abandon(struct resolve_job *job);
void resolver_job_free(struct resolve_job *job);

#endif
