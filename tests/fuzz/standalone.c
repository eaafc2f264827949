/*
 * A main() for the fuzz targets without libFuzzer: feeds files, and every
 * file in directories, to LLVMFuzzerTestOneInput, one at a time, each in
 * a buffer of exactly its size (so that ASan sees a read past the end).
 * With no arguments it replays the target's committed corpus and its
 * regression inputs from $srcdir/tests/fuzz, which is how `make check`
 * runs it in every build.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static FILE *standalone_err; /* stderr before the target's set-up */

/* Optional in a target; this one does nothing. */
__attribute__((weak)) int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* Run one file through the target; -1 if it cannot be read. */
static int
standalone_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *data;
	size_t n;

	if (f == NULL || fstat(fileno(f), &st) < 0) {
		fprintf(standalone_err, "%s: %s\n", path, strerror(errno));
		if (f != NULL)
			(void)fclose(f); /* read only: nothing to lose */
		return -1;
	}
	/* malloc(0) may return NULL: keep one byte, pass size 0. */
	data = malloc((size_t)st.st_size + !st.st_size);
	if (data == NULL) {
		(void)fclose(f);
		fprintf(standalone_err, "%s: out of memory\n", path);
		return -1;
	}
	n = fread(data, 1, (size_t)st.st_size, f);
	(void)fclose(f);
	if (n != (size_t)st.st_size) {
		free(data);
		fprintf(standalone_err, "%s: short read\n", path);
		return -1;
	}
	/* Named first, so that a crash's report says which input. */
	dprintf(2, "%s\n", path);
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	return 0;
}

/* Sort directory entries, so that runs are repeatable. */
static int
standalone_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run a file, or every regular file in a directory; the count run, or
 * -1 on error. A missing directory is an error unless optional. */
static int
standalone_path(const char *path, int optional)
{
	struct dirent *de;
	struct stat st;
	char **names = NULL;
	size_t n = 0;
	int count = 0;
	DIR *d;

	if (stat(path, &st) < 0) {
		if (optional && errno == ENOENT)
			return 0;
		fprintf(standalone_err, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return standalone_file(path) < 0 ? -1 : 1;
	d = opendir(path);
	if (d == NULL) {
		fprintf(standalone_err, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char **grown;

		if (de->d_name[0] == '.')
			continue;
		grown = realloc(names, (n + 1) * sizeof *names);
		if (grown == NULL || (grown[n] = strdup(de->d_name)) == NULL) {
			free(grown != NULL ? grown : names);
			closedir(d);
			fprintf(standalone_err, "out of memory\n");
			return -1;
		}
		names = grown;
		n++;
	}
	closedir(d);
	if (n > 0) /* names is NULL for an empty directory */
		qsort(names, n, sizeof *names, standalone_cmp);
	for (size_t i = 0; i < n; i++) {
		char file[4096];

		snprintf(file, sizeof file, "%s/%s", path, names[i]);
		if (stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
			if (standalone_file(file) < 0)
				count = -1;
			else if (count >= 0)
				count++;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

int
main(int argc, char **argv)
{
	const char *srcdir = getenv("srcdir");
	char corpus[4096], regress[4096];
	int total = 0, n;

	/* Our own messages go to fd 2: a target may silence stderr. */
	standalone_err = stderr;
	LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			n = standalone_path(argv[i], 0);
			if (n < 0)
				return 1;
			total += n;
		}
		printf("%s: %d inputs replayed\n", fuzz_target, total);
		return 0;
	}
	if (srcdir == NULL)
		srcdir = ".";
	snprintf(corpus, sizeof corpus, "%s/tests/fuzz/corpus/%s", srcdir,
		 fuzz_target);
	snprintf(regress, sizeof regress, "%s/tests/fuzz/regress/%s", srcdir,
		 fuzz_target);
	n = standalone_path(corpus, 0);
	if (n <= 0) {
		fprintf(standalone_err, "%s: no corpus in %s\n", fuzz_target,
			corpus);
		return 1;
	}
	total = n;
	n = standalone_path(regress, 1);
	if (n < 0)
		return 1;
	printf("%s: %d corpus and %d regression inputs replayed\n", fuzz_target,
	       total, n);
	return 0;
}
