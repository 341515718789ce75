/* The browser a login opens (browser.c). */
#ifndef CA_AUTH_NET_BROWSER_H
#define CA_AUTH_NET_BROWSER_H

#include <sys/types.h>

/*
 * Whether there is a browser to try: $BROWSER, or a graphical session for
 * xdg-open.
 */
int ca_browser_available(void);

/*
 * Opens url in a browser: each entry of $BROWSER (':'-separated) until one
 * starts, else the system's opener. CA_ENOTFOUND when nothing started.
 */
int ca_browser_open(pid_t *out_pid, const char *url);

/* Collects the browser launcher if it has ended (never waits). */
void ca_browser_reap(pid_t pid);

#endif
