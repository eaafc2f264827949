/*
 * The default policy.
 */
#include <errno.h>
#include <stdio.h>

#include "conn.h"
#include "method.h"
#include "policy.h"
#include "sockd.h"

/* Root and the daemon's own uid may call anything. */
int
policy_check_call(const struct conn *conn, const struct method *m, char *why,
		  size_t size)
{
	(void)m;
	if (conn->uid == 0 || conn->uid == sockd_uid)
		return 0;
	snprintf(why, size,
		 "refused by the default policy: only root and uid %u may "
		 "use sockd without a policy file",
		 (unsigned)sockd_uid);
	return -EACCES;
}
