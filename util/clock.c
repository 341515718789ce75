#include "util/clock.h"

#include <time.h>

int64_t ca_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ca_now(void)
{
	return (int64_t)time(NULL);
}

static _Thread_local int call_depth;
static _Thread_local int64_t call_start_ms;

void ca_call_begin(void)
{
	if (call_depth++ == 0)
		call_start_ms = 0; /* set by the first ca_call_started_ms() */
}

void ca_call_end(void)
{
	if (call_depth > 0 && --call_depth == 0)
		call_start_ms = 0;
}

int64_t ca_call_started_ms(void)
{
	if (!call_start_ms)
		call_start_ms = ca_clock_ms();
	return call_start_ms;
}

void ca_call_restart(void)
{
	call_start_ms = ca_clock_ms();
}
