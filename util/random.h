/* The operating system's random source. */
#ifndef CA_UTIL_RANDOM_H
#define CA_UTIL_RANDOM_H

#include <stddef.h>

/* n bytes from getrandom(); CA_ERR with a message when it fails. */
int ca_random_bytes(unsigned char *buf, size_t n);

#endif
