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
/*
 * The span of one call, in this thread: a library call (lib/api.c) or a
 * run of the executable. Bounds that hold "per call", such as the network
 * budget (auth/net/http.h), count from the call's first use of them, so a
 * program that runs for days is bounded per call, never per process.
 *
 * ca_call_begin() starts a call unless one is running in this thread (a
 * call made from inside another belongs to it) and ca_call_end() ends the
 * call its matching ca_call_begin() started. ca_call_started_ms() is the
 * time of the call's first use of it (the first request); outside any
 * call (the executable, which does not mark its one call) that time holds
 * as long as the thread. ca_call_restart() moves it to now (after a wait
 * that does not count, as a login in the browser).
 */
void ca_call_begin(void);
void ca_call_end(void);
int64_t ca_call_started_ms(void);
void ca_call_restart(void);

#endif
