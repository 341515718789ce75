/* Paste mode of the OAuth login (paste.c). */
#ifndef CA_AUTH_NET_PASTE_H
#define CA_AUTH_NET_PASTE_H

#include "auth/config.h"

#define OAUTH_MAX_PASTE 8192

/*
 * The login URL on the terminal (redirecting to CARTO's page that shows
 * the code), the code read back: up to three attempts before the login's
 * deadline. CA_ELOGIN without a terminal, on end of input or timeout.
 */
int ca_paste_code(char **out_code, const struct ca_config *cfg,
	const char *challenge, const char *state);

/*
 * What a user pasted: the bare code, or a whole redirect URL carrying
 * code= (whose state, when present, must be expected_state). Surrounding
 * blanks are ignored. CA_EREFUSED for a URL with error=, CA_EINVAL for
 * anything else that is not a code.
 */
int ca_oauth_parse_pasted(char **out_code, const char *line, const char *expected_state);

#endif
