/*
 * Time for bounds and deadlines: a monotonic clock, never the wall clock;
 * and the wall clock's seconds for token expiry times.
 */
#ifndef CA_UTIL_CLOCK_H
#define CA_UTIL_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC (from an arbitrary start). */
int64_t ca_clock_ms(void);

/* Seconds since the epoch (the wall clock: token expiry times only). */
int64_t ca_now(void);

#endif
