/*
 * What every fuzz target shares: the libFuzzer entry point, the target's
 * name (which the standalone driver uses to find its corpus), and a check
 * that aborts, so that libFuzzer and the replay in `make check` alike
 * report a property that does not hold.
 */
#ifndef SOCKD_FUZZ_H
#define SOCKD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The target's name: its corpus is tests/fuzz/corpus/NAME, its
 * regressions tests/fuzz/regress/NAME. */
extern const char fuzz_target[];
#define FUZZ_TARGET(name) const char fuzz_target[] = name

/* A property of the code under test; a failure aborts the run. Written
 * to fd 2 itself, which fuzz_quiet() leaves alone. */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			dprintf(2, "%s:%d: property failed: %s\n", __FILE__,   \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/* The daemon logs every refusal to stderr, which would slow a target to
 * a crawl: send the stderr stream to /dev/null. The sanitizers, libFuzzer
 * and FUZZ_CHECK write to fd 2 directly and are still heard. */
static inline void
fuzz_quiet(void)
{
	FILE *devnull = fopen("/dev/null", "w");

	if (devnull != NULL)
		stderr = devnull;
}


#endif
