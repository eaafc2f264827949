/*
 * A minimal unit-test harness: CHECK records a failure and goes on, the
 * program exits 1 if any check failed. Prints one line per failure.
 */
#ifndef SOCKD_UNIT_H
#define SOCKD_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failures;
static int unit_checks;

#define CHECK(cond)                                                           \
	do {                                                                  \
		unit_checks++;                                                \
		if (!(cond)) {                                                \
			unit_failures++;                                      \
			fprintf(stderr, "%s:%d: check failed: %s\n",          \
				__FILE__, __LINE__, #cond);                   \
		}                                                             \
	} while (0)

#define CHECK_STR(a, b) CHECK((a) != NULL && strcmp((a), (b)) == 0)

#define UNIT_DONE()                                                           \
	(printf("%d checks, %d failed\n", unit_checks, unit_failures),        \
	 unit_failures ? 1 : 0)

#endif
