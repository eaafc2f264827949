/*
 * Logging. Messages go to stderr, one line each. Under systemd, when
 * JOURNAL_STREAM names our stderr, lines carry a <N> prefix so the journal
 * records their priority. Lines quote what clients sent (paths, host
 * names, handle names), so each is escaped whole before it is written: a
 * client cannot end a line, forge one, or write bytes that are not text.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "log.h"
#include "utf8.h"

static int log_max = LOG_NOTICE;
static int log_journal;

/* Decide where and how much to log: -v adds info and debug lines. */
void
log_init(int verbosity)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	char *end;
	struct stat st;

	log_max = verbosity > 0 ? LOG_DEBUG : LOG_NOTICE;
	if (js == NULL)
		return;
	/* "DEV:INO"; strtoull, unlike sscanf, says when a number overflows. */
	errno = 0;
	dev = strtoull(js, &end, 10);
	if (end == js || *end != ':')
		return;
	js = end + 1;
	ino = strtoull(js, &end, 10);
	if (end != js && errno == 0 && fstat(2, &st) == 0 && st.st_dev == dev &&
	    st.st_ino == ino)
		log_journal = 1;
}

/* Write one log line if its priority is shown. */
void
log_msg(int priority, const char *fmt, ...)
{
	char line[1024], text[2048];
	va_list ap;
	int n;

	if (priority > log_max)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	utf8_escape(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1,
		    text, sizeof text);
	if (log_journal)
		fprintf(stderr, "<%d>%s\n", priority, text);
	else
		fprintf(stderr, "sockd: %s\n", text);
}
