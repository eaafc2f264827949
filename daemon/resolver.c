/*
 * Name resolution off the event loop. getaddrinfo and friends block, and
 * a slow DNS server must not stop the daemon, so a few worker threads run
 * them. evdns was the other choice; it was not taken because it bypasses
 * nsswitch (no /etc/hosts ordering, no nss-myhostname, no systemd-resolved
 * through nss-resolve), and sockd must resolve exactly as the program it
 * stands in for would. Finished jobs come back to the loop through an
 * eventfd; the workers never touch a call or any other daemon state.
 *
 * A lookup can take as long as the DNS server makes it, and a client
 * chooses the name: each uid has its own queue, the workers serve the
 * uids in turn, no uid has more than half of them at once, a uid's
 * lookups are capped, and a lookup whose caller left is dropped before
 * it starts. One uid's slow names then wait behind each other, not in
 * front of another uid's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "call.h"
#include "conn.h"
#include "log.h"
#include "resolver.h"
#include "sockd.h"

/* One uid's lookups. */
struct rqueue {
	uid_t uid;
	struct resolve_job *head, **tail; /* queued, oldest first */
	unsigned queued, running;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
/* Everything below is under lock. */
static struct rqueue *queues; /* the uids with lookups queued or running */
static size_t nqueues;
static size_t next_queue; /* where the next worker starts looking */
static unsigned per_uid_threads;
static struct resolve_job *done_head;
static bool stopping;
static pthread_t threads[RESOLVER_MAX_THREADS];
static unsigned nthreads;
static int done_fd = -1;
static struct event *done_ev;

/* Free a job and its results. */
void
resolver_job_free(struct resolve_job *job)
{
	if (job == NULL)
		return;
	free(job->host);
	free(job->service);
	if (job->result != NULL)
		freeaddrinfo(job->result);
	free(job->hostname);
	for (char **p = job->aliases; p != NULL && *p != NULL; p++)
		free(*p);
	free(job->aliases);
	for (char **p = job->addresses; p != NULL && *p != NULL; p++)
		free(*p);
	free(job->addresses);
	free(job);
}

/* Copy a NULL-ended list of strings. */
static char **
resolver_copy_list(char **list)
{
	size_t n = 0;
	char **copy;

	while (list != NULL && list[n] != NULL)
		n++;
	copy = calloc(n + 1, sizeof *copy);
	for (size_t i = 0; copy != NULL && i < n; i++)
		copy[i] = strdup(list[i]);
	return copy;
}

/* gethostbyaddr for job->host (a numeric address or a name). */
static void
resolver_hostbyaddr(struct resolve_job *job)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC}, *ai;
	struct hostent he, *res = NULL;
	const void *addr;
	socklen_t alen;
	size_t buflen = 8192;
	char *buf = NULL;
	int r, herr = 0;

	job->gai = getaddrinfo(job->host, NULL, &hints, &ai);
	if (job->gai != 0) {
		job->sys_errno = errno;
		return;
	}
	memcpy(&job->sa, ai->ai_addr, ai->ai_addrlen);
	job->salen = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (job->sa.ss_family == AF_INET) {
		addr = &((struct sockaddr_in *)&job->sa)->sin_addr;
		alen = sizeof(struct in_addr);
	} else {
		addr = &((struct sockaddr_in6 *)&job->sa)->sin6_addr;
		alen = sizeof(struct in6_addr);
	}
	do {
		char *nbuf = realloc(buf, buflen);

		if (nbuf == NULL) {
			free(buf);
			job->herr = NO_RECOVERY;
			return;
		}
		buf = nbuf;
		r = gethostbyaddr_r(addr, alen, job->sa.ss_family, &he, buf,
				    buflen, &res, &herr);
		buflen *= 2;
	} while (r == ERANGE && buflen <= 1024 * 1024);
	if (r != 0 || res == NULL) {
		job->herr = herr ? herr : HOST_NOT_FOUND;
		free(buf);
		return;
	}
	job->hostname = strdup(he.h_name);
	job->aliases = resolver_copy_list(he.h_aliases);
	{
		size_t n = 0;

		while (he.h_addr_list[n] != NULL)
			n++;
		job->addresses = calloc(n + 1, sizeof(char *));
		for (size_t i = 0; job->addresses != NULL && i < n; i++) {
			char text[INET6_ADDRSTRLEN];

			inet_ntop(he.h_addrtype, he.h_addr_list[i], text,
				  sizeof text);
			job->addresses[i] = strdup(text);
		}
	}
	free(buf);
}

/* Do one job (in a worker thread). */
static void
resolver_run(struct resolve_job *job)
{
	switch (job->kind) {
	case RESOLVE_ADDRINFO:
		job->gai = getaddrinfo(job->host, job->service, &job->hints,
				       &job->result);
		break;
	case RESOLVE_NAMEINFO:
		job->gai =
		    getnameinfo((struct sockaddr *)&job->sa, job->salen,
				job->nhost, sizeof job->nhost, job->nserv,
				sizeof job->nserv, job->ni_flags);
		break;
	case RESOLVE_HOSTBYADDR:
		resolver_hostbyaddr(job);
		break;
	}
	if (job->gai == EAI_SYSTEM)
		job->sys_errno = errno;
}

/* uid's queue, or NULL (under lock). */
static struct rqueue *
resolver_queue(uid_t uid)
{
	for (size_t i = 0; i < nqueues; i++)
		if (queues[i].uid == uid)
			return &queues[i];
	return NULL;
}

/* Point a queue's tail at its last job, after it moved in memory. */
static void
resolver_queue_fix(struct rqueue *q)
{
	struct resolve_job **p = &q->head;

	while (*p != NULL)
		p = &(*p)->next;
	q->tail = p;
}

/* Forget a queue with nothing queued or running (under lock). */
static void
resolver_queue_trim(struct rqueue *q)
{
	size_t i = (size_t)(q - queues);

	if (q->queued > 0 || q->running > 0)
		return;
	queues[i] = queues[--nqueues];
	if (i < nqueues)
		resolver_queue_fix(&queues[i]);
	if (next_queue >= nqueues)
		next_queue = 0;
}

/* The next job to run: from the first uid after the last one served that
 * has a job queued and a thread to spare (under lock). */
static struct resolve_job *
resolver_next(void)
{
	for (size_t k = 0; k < nqueues; k++) {
		size_t i = (next_queue + k) % nqueues;
		struct rqueue *q = &queues[i];
		struct resolve_job *job = q->head;

		if (job == NULL || q->running >= per_uid_threads)
			continue;
		q->head = job->next;
		if (q->head == NULL)
			q->tail = &q->head;
		q->queued--;
		q->running++;
		job->next = NULL;
		job->started = true;
		next_queue = (i + 1) % nqueues;
		return job;
	}
	return NULL;
}

/* A worker: take jobs until told to stop. */
static void *
resolver_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		struct resolve_job *job = NULL;
		struct rqueue *q;
		uint64_t one = 1;

		while (!stopping && (job = resolver_next()) == NULL)
			pthread_cond_wait(&cond, &lock);
		if (stopping)
			break;
		pthread_mutex_unlock(&lock);

		resolver_run(job);

		pthread_mutex_lock(&lock);
		q = resolver_queue(job->uid);
		if (q != NULL) {
			q->running--;
			resolver_queue_trim(q);
		}
		/* A uid at its share of the threads may go on now. */
		pthread_cond_broadcast(&cond);
		job->next = done_head;
		done_head = job;
		if (write(done_fd, &one, sizeof one) < 0) {
			/* The counter cannot overflow here; nothing to do. */
		}
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* Finished jobs: back to their calls, or freed if abandoned. */
static void
resolver_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct resolve_job *job, *next;
	uint64_t n;

	(void)what;
	(void)arg;
	if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
		log_warn("resolver eventfd: %s", strerror(errno));
	pthread_mutex_lock(&lock);
	job = done_head;
	done_head = NULL;
	pthread_mutex_unlock(&lock);
	for (; job != NULL; job = next) {
		next = job->next;
		job->next = NULL;
		job->finished = true;
		if (job->call == NULL)
			resolver_job_free(job);
		else
			call_job_done(job->call);
	}
}

/* Start the workers. */
int
resolver_init(unsigned n)
{
	if (n > RESOLVER_MAX_THREADS)
		n = RESOLVER_MAX_THREADS;
	per_uid_threads = n / 2 > 0 ? n / 2 : 1;
	done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (done_fd < 0)
		return -errno;
	done_ev = event_new(sockd_base, done_fd, EV_READ | EV_PERSIST,
			    resolver_done_cb, NULL);
	if (done_ev == NULL || event_add(done_ev, NULL) < 0)
		return -ENOMEM;
	for (nthreads = 0; nthreads < n; nthreads++) {
		int r = pthread_create(&threads[nthreads], NULL,
				       resolver_worker, NULL);

		if (r != 0)
			return nthreads > 0 ? 0 : -r;
	}
	return 0;
}

/* Stop the workers: wait a moment for lookups in progress, then leave
 * any stuck in a slow lookup behind (the process is exiting). */
void
resolver_stop(void)
{
	struct resolve_job *job, *next;
	struct timespec deadline;

	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 2;
	for (unsigned i = 0; i < nthreads; i++)
		if (pthread_timedjoin_np(threads[i], NULL, &deadline) != 0)
			pthread_detach(threads[i]);
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nqueues; i++)
		for (job = queues[i].head; job != NULL; job = next) {
			next = job->next;
			resolver_job_free(job);
		}
	free(queues);
	queues = NULL;
	nqueues = 0;
	for (job = done_head; job != NULL; job = next) {
		next = job->next;
		resolver_job_free(job);
	}
	done_head = NULL;
	pthread_mutex_unlock(&lock);
	if (done_ev != NULL)
		event_free(done_ev);
	if (done_fd >= 0)
		close(done_fd);
}

/* Queue a job on behalf of a call. */
int
resolver_submit(struct resolve_job *job, struct call *c)
{
	struct rqueue *q;

	job->call = c;
	job->uid = c->conn->uid;
	job->next = NULL;
	pthread_mutex_lock(&lock);
	q = resolver_queue(job->uid);
	if (q != NULL && q->queued + q->running >= cfg.max_lookups_per_uid) {
		pthread_mutex_unlock(&lock);
		job->call = NULL;
		return -EAGAIN;
	}
	if (q == NULL) {
		struct rqueue *n = realloc(queues, (nqueues + 1) * sizeof *n);

		if (n == NULL) {
			pthread_mutex_unlock(&lock);
			job->call = NULL;
			return -ENOMEM;
		}
		/* The queues moved: tails may point into the old array. */
		queues = n;
		for (size_t i = 0; i < nqueues; i++)
			resolver_queue_fix(&queues[i]);
		q = &queues[nqueues++];
		memset(q, 0, sizeof *q);
		q->uid = job->uid;
		q->tail = &q->head;
	}
	*q->tail = job;
	q->tail = &job->next;
	q->queued++;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	return 0;
}

/* The call is gone: drop the job if no worker has it yet, or leave it to
 * be freed when its worker is done with it. */
void
resolver_abandon(struct resolve_job *job)
{
	struct resolve_job **p;
	struct rqueue *q;

	if (job->finished) {
		resolver_job_free(job);
		return;
	}
	pthread_mutex_lock(&lock);
	job->call = NULL;
	q = job->started ? NULL : resolver_queue(job->uid);
	if (q != NULL) {
		for (p = &q->head; *p != NULL && *p != job; p = &(*p)->next)
			;
		if (*p == job) {
			*p = job->next;
			resolver_queue_fix(q);
			q->queued--;
			resolver_queue_trim(q);
			pthread_mutex_unlock(&lock);
			resolver_job_free(job);
			return;
		}
	}
	pthread_mutex_unlock(&lock);
}
