/*
 * Name resolution off the event loop. getaddrinfo and friends block, and
 * a slow DNS server must not stop the daemon, so a few worker threads run
 * them. evdns was the other choice; it was not taken because it bypasses
 * nsswitch (no /etc/hosts ordering, no nss-myhostname, no systemd-resolved
 * through nss-resolve), and sockd must resolve exactly as the program it
 * stands in for would. Finished jobs come back to the loop through an
 * eventfd; the workers never touch a call or any other daemon state.
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
#include "log.h"
#include "resolver.h"
#include "sockd.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct resolve_job *queue_head, **queue_tail = &queue_head;
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

/* A worker: take jobs until told to stop. */
static void *
resolver_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		struct resolve_job *job;
		uint64_t one = 1;

		while (queue_head == NULL && !stopping)
			pthread_cond_wait(&cond, &lock);
		if (stopping)
			break;
		job = queue_head;
		queue_head = job->next;
		if (queue_head == NULL)
			queue_tail = &queue_head;
		pthread_mutex_unlock(&lock);

		resolver_run(job);

		pthread_mutex_lock(&lock);
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
	for (job = queue_head; job != NULL; job = next) {
		next = job->next;
		resolver_job_free(job);
	}
	queue_head = NULL;
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
	job->call = c;
	job->next = NULL;
	pthread_mutex_lock(&lock);
	*queue_tail = job;
	queue_tail = &job->next;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	return 0;
}

/* The call is gone; the job is freed when its worker is done with it. */
void
resolver_abandon(struct resolve_job *job)
{
	if (job->finished)
		resolver_job_free(job);
	else
		job->call = NULL;
}
