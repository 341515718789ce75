#include "util/random.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "util/error.h"

int ca_random_bytes(unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return ca_error(CA_ERR, "the system's random source failed: %s",
				strerror(errno));
		}
		got += (size_t)r;
	}
	return 0;
}
