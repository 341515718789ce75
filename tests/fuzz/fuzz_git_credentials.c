/*
 * ca_file_store_creds_find: a plain get in credentials.json, by the fast
 * path (a byte search, candidate entries parsed) and by the full parse.
 * The input's first line is the query: up to four tab-separated values
 * (protocol, host, path, username; a missing one is absent), led by '!'
 * when the caller announces capability[]=authtype; the rest is the file.
 * Whenever the full parse accepts the file, both answer the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyring/store.h"
#include "util/error.h"

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *nl = memchr(text, '\n', size), *p, *end;
	char *head, *fields[4] = { NULL, NULL, NULL, NULL }, *save = NULL, *tok;
	struct cred query = { 0 }, fast = { 0 }, full = { 0 };
	int rc_fast, rc_full, n = 0;

	if (!nl)
		return 0;
	head = strndup(text, (size_t)(nl - text));
	if (!head)
		return 0;
	p = head;
	if (*p == '!') {
		query.capa_authtype = 1;
		p++;
	}
	/* strsep keeps empty values: "" is a value git sends. */
	for (save = (char *)p; n < 4 && (tok = strsep(&save, "\t")); n++)
		fields[n] = tok;
	query.protocol = fields[0];
	query.host = fields[1];
	query.path = fields[2];
	query.username = fields[3];
	end = text + size;
	rc_fast = ca_file_store_creds_find(&fast, nl + 1, (size_t)(end - nl - 1), &query, 1000, 0, NULL);
	rc_full = ca_file_store_creds_find(&full, nl + 1, (size_t)(end - nl - 1), &query, 1000, 1, NULL);
	if (rc_full != CA_ERR) {
		if (rc_fast != rc_full)
			abort();
		if (!rc_full && (!same(fast.protocol, full.protocol) || !same(fast.host, full.host) ||
		    !same(fast.path, full.path) || !same(fast.username, full.username) ||
		    !same(fast.password, full.password) || !same(fast.credential, full.credential) ||
		    fast.password_expiry_utc != full.password_expiry_utc))
			abort();
	}
	ca_cred_clear(&fast);
	ca_cred_clear(&full);
	free(head);
	return 0;
}
