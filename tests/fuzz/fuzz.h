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

/* A property of the code under test; a failure aborts the run. */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: property failed: %s\n",        \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

#endif
