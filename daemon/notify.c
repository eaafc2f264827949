/*
 * The notify protocol. STATUS= is sent at most once a second, and only
 * when its text changed, so a busy daemon does not flood the manager; the
 * watchdog pings at half the interval the manager asked for.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "conn.h"
#include "handle.h"
#include "log.h"
#include "notify.h"
#include "policy.h"
#include "sockd.h"

#define STATUS_DELAY_USEC 1000000

static struct event *status_ev;	  /* pending STATUS= update */
static struct event *watchdog_ev; /* WATCHDOG=1 every half interval */
static char status_sent[512];	  /* the last STATUS= text */

/* The status line: what `systemctl status sockd` shows. */
static void
notify_status_text(char *buf, size_t size)
{
	snprintf(buf, size,
		 "%u connection%s, %zu handle%s (%zu persistent); %s%s",
		 conn_count, conn_count == 1 ? "" : "s", handle_count(),
		 handle_count() == 1 ? "" : "s", handle_count_persistent(),
		 policy_describe(),
		 policy_reload_failed() ? " (the last reload failed)" : "");
}

/* Send STATUS= when the text differs from the last one sent. */
static void
notify_status(void)
{
	char text[sizeof status_sent];

	notify_status_text(text, sizeof text);
	if (strcmp(text, status_sent) == 0)
		return;
	if (sd_notifyf(0, "STATUS=%s", text) > 0)
		memcpy(status_sent, text, sizeof text);
}

static void
notify_status_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	notify_status();
}

static void
notify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

int
notify_init(void)
{
	uint64_t usec = 0;
	int r;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return 0; /* no manager to tell */
	status_ev = evtimer_new(sockd_base, notify_status_cb, NULL);
	if (status_ev == NULL)
		return -1;
	r = sd_watchdog_enabled(0, &usec);
	if (r < 0)
		log_warn("ignoring the watchdog setting: %s", strerror(-r));
	if (r <= 0 || usec == 0)
		return 0;
	/* Half the interval, as sd_watchdog_enabled(3) advises. */
	const struct timeval tv = {
	    .tv_sec = (time_t)(usec / 2 / 1000000),
	    .tv_usec = (suseconds_t)(usec / 2 % 1000000),
	};
	watchdog_ev =
	    event_new(sockd_base, -1, EV_PERSIST, notify_watchdog_cb, NULL);
	if (watchdog_ev == NULL || event_add(watchdog_ev, &tv) < 0)
		return -1;
	log_info("watchdog: pinging every %" PRIu64 " ms", usec / 2 / 1000);
	return 0;
}

void
notify_ready(void)
{
	char text[sizeof status_sent];

	notify_status_text(text, sizeof text);
	if (sd_notifyf(0, "READY=1\nSTATUS=%s", text) > 0)
		memcpy(status_sent, text, sizeof text);
	if (watchdog_ev != NULL)
		sd_notify(0, "WATCHDOG=1");
}

void
notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0,
		   "RELOADING=1\nSTATUS=reloading the policy\n"
		   "MONOTONIC_USEC=%" PRIu64,
		   (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
	status_sent[0] = '\0';
}

void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

void
notify_changed(void)
{
	static const struct timeval delay = {
	    .tv_sec = STATUS_DELAY_USEC / 1000000,
	    .tv_usec = STATUS_DELAY_USEC % 1000000,
	};

	if (status_ev != NULL && !evtimer_pending(status_ev, NULL))
		evtimer_add(status_ev, &delay);
}

void
notify_free(void)
{
	if (status_ev != NULL)
		event_free(status_ev);
	if (watchdog_ev != NULL)
		event_free(watchdog_ev);
	status_ev = watchdog_ev = NULL;
}
