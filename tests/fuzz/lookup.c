/*
 * The method table as the dispatcher searches it (daemon/method.c keeps
 * its lookup to itself), for the fuzz targets that link the daemon.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "method.h"

/* The dispatcher's groups, in its order. */
const struct method *const fuzz_groups[] = {
    op_service_methods, op_sock_methods, op_io_methods,
    op_opt_methods,	op_name_methods, NULL,
};

/* The method "interface.Name": NULL with *ret_err -ENOENT (unknown
 * interface) or -ESRCH (unknown method). */
const struct method *
fuzz_find(const char *full, int *ret_err)
{
	const char *dot = strrchr(full, '.');
	bool interface_known = false;

	*ret_err = -ENOENT;
	if (dot == NULL)
		return NULL;
	for (size_t g = 0; fuzz_groups[g] != NULL; g++)
		for (const struct method *m = fuzz_groups[g]; m->name; m++) {
			size_t ilen = strlen(m->interface);

			if ((size_t)(dot - full) != ilen ||
			    strncmp(m->interface, full, ilen) != 0)
				continue;
			interface_known = true;
			if (strcmp(m->name, dot + 1) == 0)
				return m;
		}
	*ret_err = interface_known ? -ESRCH : -ENOENT;
	return NULL;
}
