/* Time for bounds and deadlines: a monotonic clock, never the wall clock. */
#ifndef CA_UTIL_CLOCK_H
#define CA_UTIL_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC (from an arbitrary start). */
int64_t ca_clock_ms(void);

#endif
