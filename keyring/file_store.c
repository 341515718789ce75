/*
 * The file store: JSON files under $CARTO_AUTH_HOME (default ~/.carto-auth).
 *
 *   token_oauth.json, token_m2m.json   the Python reference's files: the
 *                                      most recently obtained token of each
 *                                      mode, with identity fields added
 *   tokens/<mode>-<hash>.json          one file per identity, side by side
 *   credentials.json                   general git credentials
 *   locks/                             renewal and update locks
 *
 * Folders are 0700, files 0600, every write atomic (fs_write_atomic); a
 * file is never read through a symbolic link, nor when another user owns
 * it, and one open to others is made private before it is read.
 *
 * Which identity a token file serves (SPEC, Stores): a file we wrote names
 * its identity (mode, auth_url, client_id, org) and, for M2M, carries the
 * salted fingerprint of the client secret (secret_salt, secret_hmac). A
 * file the Python reference wrote or rewrote has no identity fields: its
 * token's own claims decide (claims_match). API base URLs are compared
 * without trailing '/', and `mode` in any case, as the reference accepts.
 *
 * Time: the reference's files (token_*.json, a cache_file) carry
 * `expiration` in the reference's frame (token.h, ca_time_to_reference);
 * tokens/ keeps true Unix time. Either way an expiration past the token's
 * own `exp` claim is cut to it, and a record without `lifetime` takes it
 * from the claims (exp - iat), for the renewal margin.
 *
 * The refresh token: the reference rewrites its files with three keys, so
 * it is never kept only there. With a cache_file, an OAuth token's refresh
 * token is also kept in tokens/<tag>-cache-<hash of the cache_file's
 * path>.json under the home, and found there when the cache_file lost it.
 */
#include "keyring/store.h"

#include "token/jwt.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/sha256.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define TOKEN_FILE_MAX (256 * 1024)
#define CREDS_FILE_MAX (4 * 1024 * 1024)
#define LOCK_TIMEOUT_MS 10000

#define MAX_WARNED 8

struct file_store {
	struct store base;
	char *home;
	char *cache_file; /* explicit single token file, or NULL */
	char *warned[MAX_WARNED]; /* files already warned about, once is enough */
};

/* A token file's content: the token and the identity it was issued to. */
struct token_record {
	struct ca_token tok;
	int has_identity;
	enum ca_mode mode;
	char *auth_url;
	char *client_id; /* m2m client id or OAuth client id */
	char *org;
	char *secret_salt; /* m2m: the client secret's fingerprint */
	char *secret_hmac;
};

static void record_clear(struct token_record *rec)
{
	ca_token_clear(&rec->tok);
	ca_free(rec->auth_url);
	ca_free(rec->client_id);
	ca_free(rec->org);
	ca_free(rec->secret_salt);
	ca_free(rec->secret_hmac);
	memset(rec, 0, sizeof(*rec));
}

static int str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* Whether two API base URLs are the same, trailing '/' left out. */
static int api_eq(const char *a, const char *b)
{
	size_t na = a ? strlen(a) : 0, nb = b ? strlen(b) : 0;

	while (na && a[na - 1] == '/')
		na--;
	while (nb && b[nb - 1] == '/')
		nb--;
	return na == nb && (!na || !memcmp(a, b, na));
}

enum frame { FRAME_TRUE, FRAME_REFERENCE };

/*
 * What the token's claims say of its time: an expiration past `exp` is
 * cut to it, and an unknown lifetime is exp - iat. A token without
 * readable claims keeps what the file says.
 */
static void apply_claims_time(struct ca_token *tok)
{
	struct ca_jwt_claims claims;

	if (ca_jwt_claims_parse(&claims, tok->access_token)) {
		ca_error_clear();
		return;
	}
	if (claims.exp > 0 && tok->expiration > claims.exp)
		tok->expiration = claims.exp;
	if (tok->lifetime <= 0 && claims.exp > 0 && claims.iat > 0 && claims.exp > claims.iat)
		tok->lifetime = claims.exp - claims.iat;
	ca_jwt_claims_clear(&claims);
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static char *dup_or_null(const char *s)
{
	return (s && *s) ? ca_strdup(s) : NULL;
}

/*
 * Parses a token file; CA_EINVAL when it is not a whole valid token, with
 * *why (may be NULL) saying what is wrong.
 */
static int record_parse_why(struct token_record *rec, const char **why, const char *json,
	size_t len, enum frame frame)
{
	const cJSON *exp, *mode, *life;
	const char *access, *api, *reason = NULL;
	cJSON *root = NULL;
	int error = CA_EINVAL;

	memset(rec, 0, sizeof(*rec));
	if (!len) {
		reason = "it is empty";
		goto out;
	}
	root = cJSON_ParseWithLength(json, len);
	if (!root || !cJSON_IsObject(root)) {
		reason = "it is not a JSON object (truncated?)";
		goto out;
	}
	access = ca_json_str(root, "access_token");
	api = ca_json_str(root, "api_base_url");
	exp = cJSON_GetObjectItemCaseSensitive(root, "expiration");
	if (!access || !*access || !api || !*api || !cJSON_IsNumber(exp) ||
	    ca_time_from_double(&rec->tok.expiration, exp->valuedouble) ||
	    strpbrk(access, "\r\n") || strpbrk(api, "\r\n")) {
		reason = "access_token, api_base_url or expiration is missing or of the wrong type";
		goto out;
	}
	if (frame == FRAME_REFERENCE)
		rec->tok.expiration = ca_time_from_reference(rec->tok.expiration);
	life = cJSON_GetObjectItemCaseSensitive(root, "lifetime");
	if (cJSON_IsNumber(life) && (ca_time_from_double(&rec->tok.lifetime, life->valuedouble) ||
	    rec->tok.lifetime < 0))
		rec->tok.lifetime = 0;
	/*
	 * Our records name their identity (mode, auth_url, client_id). The
	 * mode is taken in any case ("M2M"); a file with a mode but no
	 * identity beside it is judged by its claims, as the reference's are.
	 */
	mode = cJSON_GetObjectItemCaseSensitive(root, "mode");
	if (mode && (!cJSON_IsString(mode) || (strcasecmp(mode->valuestring, "m2m") &&
	    strcasecmp(mode->valuestring, "oauth")))) {
		reason = "its mode is neither \"m2m\" nor \"oauth\"";
		goto out;
	}
	if (mode && ca_json_str(root, "auth_url") && ca_json_str(root, "client_id")) {
		rec->has_identity = 1;
		rec->mode = strcasecmp(mode->valuestring, "m2m") ? CA_MODE_OAUTH : CA_MODE_M2M;
		rec->auth_url = dup_or_null(ca_json_str(root, "auth_url"));
		rec->client_id = dup_or_null(ca_json_str(root, "client_id"));
		rec->org = dup_or_null(ca_json_str(root, "org"));
		rec->secret_salt = dup_or_null(ca_json_str(root, "secret_salt"));
		rec->secret_hmac = dup_or_null(ca_json_str(root, "secret_hmac"));
	}
	rec->tok.access_token = ca_strdup(access);
	rec->tok.api_base_url = ca_strdup(api);
	rec->tok.refresh_token = dup_or_null(ca_json_str(root, "refresh_token"));
	rec->tok.account = dup_or_null(ca_json_str(root, "account"));
	if (rec->tok.refresh_token && strpbrk(rec->tok.refresh_token, "\r\n"))
		ca_clear_ptr(&rec->tok.refresh_token);
	error = rec->tok.access_token && rec->tok.api_base_url ? 0 : ca_error(CA_ERR, "out of memory");
	if (!error)
		apply_claims_time(&rec->tok);
out:
	ca_json_delete(root);
	if (error)
		record_clear(rec);
	if (why)
		*why = reason;
	return error;
}

static int record_parse(struct token_record *rec, const char *json, size_t len)
{
	return record_parse_why(rec, NULL, json, len, FRAME_TRUE);
}

/* Whether sub is exactly "<client_id>@clients", Auth0's M2M subject. */
static int names_m2m_client(const char *sub, const char *client_id)
{
	size_t n = strlen(client_id);

	return !strncmp(sub, client_id, n) && !strcmp(sub + n, "@clients");
}

/*
 * Whether the claims of a token without identity fields (the Python
 * reference's file) name the identity id. M2M: sub "<client_id>@clients"
 * or azp "<client_id>", and neither naming anyone else. OAuth: only the
 * reference's own identity (the default auth server and public client, no
 * organization), a token without org_id, and azp (when present) that client.
 * A token whose claims cannot be read matches nothing.
 */
static int claims_match(const char *access_token, const struct ca_identity *id)
{
	struct ca_jwt_claims claims;
	int match = 0;

	if (ca_jwt_claims_parse(&claims, access_token)) {
		ca_error_clear();
		return 0;
	}
	if (id->mode == CA_MODE_M2M) {
		match = id->client_id && *id->client_id && (claims.sub || claims.azp) &&
			(!claims.sub || names_m2m_client(claims.sub, id->client_id)) &&
			(!claims.azp || !strcmp(claims.azp, id->client_id));
	} else {
		match = str_eq(id->auth_url, CA_DEFAULT_AUTH_URL) && !id->org &&
			str_eq(id->client_id, CA_DEFAULT_CLIENT_ID) && !claims.has_org_id &&
			(!claims.azp || !strcmp(claims.azp, CA_DEFAULT_CLIENT_ID));
	}
	ca_jwt_claims_clear(&claims);
	return match;
}

/*
 * Whether a token file belongs to the identity of id (SPEC, Stores). With
 * check_secret, an M2M token also needs id's client secret (reading);
 * without, the identity alone decides (erasing).
 */
static int record_matches(const struct token_record *rec, const struct ca_identity *id,
	int check_secret)
{
	if (!rec->has_identity) {
		/* Written by the Python reference: no identity fields. */
		if (id->mode == CA_MODE_M2M && !api_eq(rec->tok.api_base_url, id->api_base_url))
			return 0;
		return claims_match(rec->tok.access_token, id);
	}
	if (rec->mode != id->mode || !str_eq(rec->auth_url, id->auth_url))
		return 0;
	if (id->mode == CA_MODE_M2M)
		return str_eq(rec->client_id, id->client_id) &&
			api_eq(rec->tok.api_base_url, id->api_base_url) &&
			(!check_secret ||
			 ca_store_fp_matches(rec->secret_salt, rec->secret_hmac, id));
	return str_eq(rec->org, id->org) && str_eq(rec->client_id, id->client_id);
}

int ca_file_store_token_parse(struct ca_token *out, const char *json, size_t len,
	const struct ca_identity *id)
{
	struct token_record rec;
	int error;

	if ((error = record_parse(&rec, json, len)))
		return error;
	if (id && !record_matches(&rec, id, 1)) {
		record_clear(&rec);
		return CA_ENOTFOUND;
	}
	ca_token_move(out, &rec.tok);
	record_clear(&rec);
	return 0;
}

static char *token_json(const struct ca_identity *id, const struct ca_token *tok, enum frame frame)
{
	struct store_fp fp = { "", "" };
	cJSON *root;
	char *json = NULL;

	if (id->mode == CA_MODE_M2M && id->has_secret && ca_store_fp_new(&fp, id))
		return NULL;
	root = cJSON_CreateObject();
	if (!root)
		return NULL;
	/* The reference's three keys first, then the identity. */
	if (!cJSON_AddStringToObject(root, "api_base_url", tok->api_base_url ? tok->api_base_url : "") ||
	    !cJSON_AddStringToObject(root, "access_token", tok->access_token) ||
	    !cJSON_AddNumberToObject(root, "expiration", (double)(frame == FRAME_REFERENCE ?
		ca_time_to_reference(tok->expiration) : tok->expiration)) ||
	    !cJSON_AddStringToObject(root, "mode", ca_mode_name(id->mode)) ||
	    !cJSON_AddStringToObject(root, "auth_url", id->auth_url) ||
	    !cJSON_AddStringToObject(root, "client_id", id->client_id))
		goto out;
	if (id->org && !cJSON_AddStringToObject(root, "org", id->org))
		goto out;
	if (id->mode == CA_MODE_M2M && id->has_secret &&
	    (!cJSON_AddStringToObject(root, "secret_salt", fp.salt) ||
	     !cJSON_AddStringToObject(root, "secret_hmac", fp.hmac)))
		goto out;
	if (tok->refresh_token && !cJSON_AddStringToObject(root, "refresh_token", tok->refresh_token))
		goto out;
	if (tok->account && !cJSON_AddStringToObject(root, "account", tok->account))
		goto out;
	if (tok->lifetime > 0 && !cJSON_AddNumberToObject(root, "lifetime", (double)tok->lifetime))
		goto out;
	json = ca_json_print(root, 1);
out:
	ca_json_delete(root);
	return json;
}

char *ca_file_store_token_json(const struct ca_identity *id, const struct ca_token *tok)
{
	return token_json(id, tok, FRAME_TRUE);
}

static char *reference_path(const struct file_store *fs, enum ca_mode mode)
{
	if (fs->cache_file)
		return ca_strdup(fs->cache_file);
	return ca_fs_join(fs->home, mode == CA_MODE_M2M ? "token_m2m.json" : "token_oauth.json");
}

/*
 * The per-identity record. With a cache_file, only an OAuth identity has
 * one, to keep its refresh token (the cache_file holds the token), named
 * after the identity and the cache_file's path: another cache_file (another
 * user's login through the same client) never sees it.
 */
static char *identity_path(const struct file_store *fs, const struct ca_identity *id)
{
	unsigned char digest[SHA256_DIGEST_LEN];
	char tag[40], name[96];

	if (fs->cache_file && id->mode != CA_MODE_OAUTH)
		return NULL;
	ca_identity_tag(id, tag);
	if (fs->cache_file) {
		ca_sha256(digest, fs->cache_file, strlen(fs->cache_file));
		snprintf(name, sizeof(name), "tokens/%s-cache-%02x%02x%02x%02x%02x%02x%02x%02x.json",
			tag, digest[0], digest[1], digest[2], digest[3], digest[4], digest[5],
			digest[6], digest[7]);
	} else {
		snprintf(name, sizeof(name), "tokens/%s.json", tag);
	}
	return ca_fs_join(fs->home, name);
}

/*
 * Reads one token file. A damaged or planted file (symbolic link, not a
 * regular file, another user's, too large, not a whole token) is skipped
 * with a warning, not fatal: the next save replaces it.
 */
/* Warns about path once per store object (a get reads the store twice). */
static void warn_once(struct file_store *fs, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void warn_once(struct file_store *fs, const char *path, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	size_t i;

	for (i = 0; i < MAX_WARNED && fs->warned[i]; i++)
		if (!strcmp(fs->warned[i], path))
			return;
	if (i < MAX_WARNED)
		fs->warned[i] = ca_strdup(path);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ca_warn("%s", line);
}

static int read_record(struct file_store *fs, struct token_record *rec, const char *path,
	enum frame frame)
{
	const char *why = NULL;
	char *json = NULL;
	size_t len;
	int error, repaired = 0;

	error = ca_fs_read_private(&json, &len, &repaired, path, TOKEN_FILE_MAX);
	if (error == CA_ENOTFOUND)
		return error;
	if (error) {
		warn_once(fs, path, "ignoring token file: %s; it will be replaced", ca_error_message());
		ca_error_clear();
		return CA_ENOTFOUND;
	}
	if (repaired)
		warn_once(fs, path, "%s was readable by other users; made it private (0600)", path);
	error = record_parse_why(rec, &why, json, len, frame);
	ca_free(json);
	if (error) {
		warn_once(fs, path, "ignoring damaged token file %s: %s; it will be replaced", path,
			why ? why : ca_error_message());
		ca_error_clear();
		return CA_ENOTFOUND;
	}
	return 0;
}

/* The store's folders, when they exist, must be private and real (never followed). */
static int check_dirs(const struct file_store *fs)
{
	char *tokens;
	int error;

	if (fs->cache_file)
		return 0;
	error = ca_fs_check_private_dir(fs->home);
	if (error)
		return error;
	tokens = ca_fs_join(fs->home, "tokens");
	error = tokens ? ca_fs_check_private_dir(tokens) : ca_error(CA_ERR, "out of memory");
	ca_free(tokens);
	return error == CA_ENOTFOUND ? 0 : error;
}

static int file_token_load(struct store *s, struct ca_token *out, const struct ca_identity *id)
{
	struct file_store *fs = (struct file_store *)s;
	char *paths[2] = { identity_path(fs, id), reference_path(fs, id->mode) };
	struct token_record rec, best, side;
	char *refresh = NULL; /* a refresh token of this identity (secret) */
	int found = 0, has_side = 0, other_secret = 0, i, error;

	memset(&best, 0, sizeof(best));
	if ((error = check_dirs(fs))) {
		ca_free(paths[0]);
		ca_free(paths[1]);
		return error;
	}
	for (i = 0; i < 2; i++) {
		int mine;

		if (!paths[i] || read_record(fs, &rec, paths[i], i ? FRAME_REFERENCE : FRAME_TRUE))
			continue;
		mine = record_matches(&rec, id, 1);
		/*
		 * Our record knows this client's secret by its fingerprint, and
		 * it is another: the reference's rewrite of its file (no
		 * fingerprint, claims only) does not vouch for this one either.
		 */
		if (i == 0 && !mine && id->mode == CA_MODE_M2M && record_matches(&rec, id, 0))
			other_secret = 1;
		if (i == 1 && mine && other_secret && !rec.has_identity) {
			ca_debug("file store: %s holds this client's token, and the stored "
				"fingerprint is of another client secret", paths[i]);
			mine = 0;
		}
		if (!mine)
			ca_debug("file store: %s holds %s", paths[i], record_matches(&rec, id, 0) ?
				"this client's token for another client secret" :
				"another identity's token");
		if (mine && rec.tok.refresh_token && !refresh) {
			refresh = rec.tok.refresh_token;
			rec.tok.refresh_token = NULL;
		}
		/* With a cache_file, the record in tokens/ only keeps the refresh token. */
		if (mine && i == 0 && fs->cache_file) {
			side = rec;
			has_side = 1;
		} else if (mine && (!found || rec.tok.expiration > best.tok.expiration)) {
			ca_debug("file store: %s token found in %s (expires in %lld s)",
				ca_mode_name(id->mode), paths[i],
				(long long)(rec.tok.expiration - ca_now()));
			record_clear(&best);
			best = rec;
			found = 1;
		} else {
			record_clear(&rec);
		}
	}
	if (!found && has_side && refresh) {
		/*
		 * The cache_file no longer names this identity (the reference
		 * rewrote it, or it is gone): its access token is the cache_file's
		 * to vouch for, so the record is taken as expired, for its refresh
		 * token.
		 */
		ca_debug("file store: only a refresh token for this identity, in %s", paths[0]);
		best = side;
		has_side = 0;
		best.tok.expiration = 0;
		found = 1;
	}
	if (has_side)
		record_clear(&side);
	if (!found)
		ca_debug("file store: no %s token for this identity in %s", ca_mode_name(id->mode),
			paths[0] ? paths[0] : paths[1]);
	ca_free(paths[0]);
	ca_free(paths[1]);
	if (!found) {
		ca_free(refresh);
		return CA_ENOTFOUND;
	}
	/*
	 * The reference rewrites its file without the refresh token: the
	 * other record's is this identity's too.
	 */
	if (!best.tok.refresh_token && refresh) {
		ca_debug("file store: the refresh token comes from %s", fs->cache_file ?
			"the identity's record in tokens/" : "the identity's other record");
		best.tok.refresh_token = refresh;
		refresh = NULL;
	}
	ca_free(refresh);
	ca_token_move(out, &best.tok);
	record_clear(&best);
	return 0;
}

static int ensure_dirs(const struct file_store *fs, int need_tokens)
{
	char *tokens;
	int error;

	if (fs->cache_file && !need_tokens)
		return 0;
	if ((error = ca_fs_private_dir(fs->home)))
		return error;
	tokens = ca_fs_join(fs->home, "tokens");
	error = tokens ? ca_fs_private_dir(tokens) : ca_error(CA_ERR, "out of memory");
	ca_free(tokens);
	return error;
}

static int file_token_save(struct store *s, const struct ca_identity *id, const struct ca_token *tok)
{
	struct file_store *fs = (struct file_store *)s;
	char *json = NULL, *rjson = NULL, *ipath = NULL, *rpath = NULL;
	/* With a cache_file, tokens/ keeps only what has a refresh token. */
	int side = fs->cache_file && id->mode == CA_MODE_OAUTH;
	int error;

	if ((error = ensure_dirs(fs, side && tok->refresh_token)))
		return error;
	ca_error_clear();
	json = token_json(id, tok, FRAME_TRUE);
	rjson = json ? token_json(id, tok, FRAME_REFERENCE) : NULL;
	if (!json || !rjson) {
		/* The random source may have failed (its message is kept). */
		error = ca_error_code() ? ca_error_code() : ca_error(CA_ERR, "out of memory");
		goto out;
	}
	ipath = identity_path(fs, id);
	rpath = reference_path(fs, id->mode);
	if (!rpath || ((!fs->cache_file || side) && !ipath)) {
		error = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	if (ipath && side && !tok->refresh_token)
		error = ca_fs_remove(ipath); /* no refresh token left to keep */
	else if (ipath)
		error = ca_fs_write_atomic(ipath, json, strlen(json));
	if (error)
		goto out;
	/* The reference's file holds the most recent token of the mode. */
	error = ca_fs_write_atomic(rpath, rjson, strlen(rjson));
	ca_debug("file store: token saved to %s", fs->cache_file ? rpath : ipath);
out:
	ca_free(json);
	ca_free(rjson);
	ca_free(ipath);
	ca_free(rpath);
	return error;
}

static int file_token_erase(struct store *s, const struct ca_identity *id)
{
	struct file_store *fs = (struct file_store *)s;
	char *ipath = identity_path(fs, id), *rpath = reference_path(fs, id->mode);
	struct token_record rec;
	int error = 0, found = 0;

	if (ipath) {
		found = exists(ipath);
		error = ca_fs_remove(ipath);
	}
	if (!error && rpath && read_record(fs, &rec, rpath, FRAME_REFERENCE) == 0) {
		if (record_matches(&rec, id, 0)) {
			found = 1;
			error = ca_fs_remove(rpath);
		}
		record_clear(&rec);
	}
	ca_free(ipath);
	ca_free(rpath);
	if (!error && !found)
		return CA_ENOTFOUND;
	return error;
}

static int list_one(struct file_store *fs, const char *path, enum frame frame,
	store_token_cb cb, void *payload)
{
	struct store_token_info info;
	struct token_record rec;
	int stop;

	if (read_record(fs, &rec, path, frame))
		return 0;
	memset(&info, 0, sizeof(info));
	info.mode = rec.has_identity ? rec.mode :
		(strstr(path, "token_m2m") ? CA_MODE_M2M : CA_MODE_OAUTH);
	info.auth_url = rec.auth_url ? rec.auth_url : CA_DEFAULT_AUTH_URL;
	info.client_id = rec.client_id;
	info.org = rec.org;
	info.api_base_url = rec.tok.api_base_url;
	info.account = rec.tok.account;
	info.location = path;
	info.expiration = rec.tok.expiration;
	info.has_refresh_token = rec.tok.refresh_token != NULL;
	stop = cb(&info, payload);
	record_clear(&rec);
	return stop;
}

/* Whether the reference file at path repeats a per-identity file. */
static int reference_is_copy(struct file_store *fs, const char *path)
{
	struct token_record rec;
	struct ca_identity id;
	char *ipath;
	int copy = 0;

	if (read_record(fs, &rec, path, FRAME_REFERENCE))
		return 1;
	if (rec.has_identity) {
		ca_identity_init(&id);
		id.mode = rec.mode;
		id.auth_url = rec.auth_url;
		id.client_id = rec.client_id;
		id.org = rec.org;
		id.api_base_url = rec.tok.api_base_url;
		ipath = identity_path(fs, &id);
		copy = ipath && exists(ipath);
		ca_free(ipath);
	}
	record_clear(&rec);
	return copy;
}

static int file_token_list(struct store *s, store_token_cb cb, void *payload)
{
	struct file_store *fs = (struct file_store *)s;
	char *dir = NULL, *path;
	struct dirent *entry;
	DIR *d = NULL;
	int i, stop = 0;

	for (i = 0; i < 2 && !stop; i++) {
		path = reference_path(fs, i ? CA_MODE_OAUTH : CA_MODE_M2M);
		if (path && (fs->cache_file || !reference_is_copy(fs, path)))
			stop = list_one(fs, path, FRAME_REFERENCE, cb, payload);
		ca_free(path);
		if (fs->cache_file)
			return 0;
	}
	dir = ca_fs_join(fs->home, "tokens");
	d = dir ? opendir(dir) : NULL;
	while (d && !stop && (entry = readdir(d))) {
		size_t n = strlen(entry->d_name);

		if (n < 6 || strcmp(entry->d_name + n - 5, ".json"))
			continue;
		path = ca_fs_join(dir, entry->d_name);
		if (path)
			stop = list_one(fs, path, FRAME_TRUE, cb, payload);
		ca_free(path);
	}
	if (d)
		closedir(d);
	ca_free(dir);
	return 0;
}

static int file_token_erase_info(struct store *s, const struct store_token_info *info)
{
	struct ca_identity id;
	int error;

	ca_identity_init(&id);
	id.mode = info->mode;
	id.auth_url = info->auth_url;
	id.client_id = info->client_id;
	id.org = info->org;
	id.api_base_url = info->api_base_url;
	error = file_token_erase(s, &id);
	/* A file listed but not matched by identity (foreign copy) goes too. */
	if (info->location && strcmp(info->location, "keyring"))
		ca_fs_remove(info->location);
	return error == CA_ENOTFOUND ? 0 : error;
}

/* ---- general git credentials: credentials.json ---- */

static const char *const cred_fields[] = { "protocol", "host", "path", "username" };

static char **cred_field(struct cred *c, size_t i)
{
	char **fields[] = { &c->protocol, &c->host, &c->path, &c->username };

	return fields[i];
}

void ca_cred_clear(struct cred *c)
{
	if (!c)
		return;
	ca_free(c->protocol);
	ca_free(c->host);
	ca_free(c->path);
	ca_free(c->username);
	ca_free(c->password);
	ca_free(c->oauth_refresh_token);
	ca_free(c->authtype);
	ca_free(c->credential);
	memset(c, 0, sizeof(*c));
}

int ca_cred_usable(const struct cred *query, const struct cred *have)
{
	return have->password || (query->capa_authtype && have->authtype && have->credential);
}

int ca_cred_matches(const struct cred *want, const struct cred *have)
{
	size_t i;

	for (i = 0; i < 4; i++) {
		const char *w = *cred_field((struct cred *)want, i);
		const char *h = *cred_field((struct cred *)have, i);

		if (w && (!h || strcmp(w, h)))
			return 0;
	}
	return 1;
}

static int cred_from_json(struct cred *c, const cJSON *item)
{
	const cJSON *expiry = cJSON_GetObjectItemCaseSensitive(item, "password_expiry_utc");
	size_t i;

	memset(c, 0, sizeof(*c));
	if (!cJSON_IsObject(item))
		return CA_EINVAL;
	for (i = 0; i < 4; i++) {
		const char *v = ca_json_str(item, cred_fields[i]);

		if (v && !(*cred_field(c, i) = ca_strdup(v)))
			goto oom;
	}
	if (ca_json_str(item, "password") && !(c->password = ca_strdup(ca_json_str(item, "password"))))
		goto oom;
	if (ca_json_str(item, "oauth_refresh_token") &&
	    !(c->oauth_refresh_token = ca_strdup(ca_json_str(item, "oauth_refresh_token"))))
		goto oom;
	if (ca_json_str(item, "authtype") && ca_json_str(item, "credential") &&
	    (!(c->authtype = ca_strdup(ca_json_str(item, "authtype"))) ||
	     !(c->credential = ca_strdup(ca_json_str(item, "credential")))))
		goto oom;
	if (cJSON_IsNumber(expiry))
		(void)ca_time_from_double(&c->password_expiry_utc, expiry->valuedouble);
	return 0;
oom:
	ca_cred_clear(c);
	return ca_error(CA_ERR, "out of memory");
}

static cJSON *cred_to_json(const struct cred *c)
{
	cJSON *item = cJSON_CreateObject();
	size_t i;

	for (i = 0; item && i < 4; i++) {
		const char *v = *cred_field((struct cred *)c, i);

		if (v && !cJSON_AddStringToObject(item, cred_fields[i], v))
			goto fail;
	}
	if (item && c->password && !cJSON_AddStringToObject(item, "password", c->password))
		goto fail;
	if (item && c->oauth_refresh_token &&
	    !cJSON_AddStringToObject(item, "oauth_refresh_token", c->oauth_refresh_token))
		goto fail;
	if (item && c->authtype && c->credential &&
	    (!cJSON_AddStringToObject(item, "authtype", c->authtype) ||
	     !cJSON_AddStringToObject(item, "credential", c->credential)))
		goto fail;
	if (item && c->password_expiry_utc &&
	    !cJSON_AddNumberToObject(item, "password_expiry_utc", (double)c->password_expiry_utc))
		goto fail;
	return item;
fail:
	ca_json_delete(item);
	return NULL;
}

/*
 * Loads credentials.json as a cJSON array (empty when missing), under the
 * token files' rules: the store folder must be private and real, the file
 * is never read through a symbolic link nor when another user owns it
 * (refused: CA_ERR, nothing touched), and a file open to others is made
 * 0600 before it is read, with a warning. Unlike a token file, a refused
 * credentials file is not replaced: its credentials cannot be obtained again.
 */
/* Reads credentials.json under those rules; CA_ENOTFOUND when missing. */
static int creds_read(char **text, size_t *len, const struct file_store *fs)
{
	char *path = ca_fs_join(fs->home, "credentials.json");
	char why[512];
	int error, repaired = 0;

	*text = NULL;
	if (!path)
		return ca_error(CA_ERR, "out of memory");
	error = ca_fs_check_private_dir(fs->home);
	if (!error)
		error = ca_fs_read_private(text, len, &repaired, path, CREDS_FILE_MAX);
	if (error && error != CA_ENOTFOUND) {
		/* A planted or unreadable store is a failure, not bad input. */
		snprintf(why, sizeof(why), "%s", ca_error_message());
		error = ca_error(CA_ERR, "%s", why);
	} else if (!error && repaired) {
		ca_warn("%s was readable by other users; made it private (0600)", path);
	}
	ca_free(path);
	return error;
}

/* Parses credentials.json's text (NULL: none) into its array. */
static int creds_parse(cJSON **out, const char *home, const char *text, size_t len)
{
	char *path = NULL;
	cJSON *root = NULL, *list;
	int error = 0;

	if (!text) {
		list = cJSON_CreateArray();
	} else {
		root = cJSON_ParseWithLength(text, len);
		list = cJSON_DetachItemFromObjectCaseSensitive(root, "credentials");
		if (!cJSON_IsArray(list)) {
			ca_json_delete(list);
			path = home ? ca_fs_join(home, "credentials.json") : NULL;
			error = ca_error(CA_ERR, "%s is damaged; move it away to start afresh",
				path ? path : "credentials.json");
			goto out;
		}
	}
	if (!list) {
		error = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	*out = list;
out:
	ca_json_delete(root);
	ca_free(path);
	return error;
}

static int creds_load(cJSON **out, const struct file_store *fs)
{
	char *text = NULL;
	size_t len = 0;
	int error = creds_read(&text, &len, fs);

	if (!error || error == CA_ENOTFOUND)
		error = creds_parse(out, fs->home, error ? NULL : text, len);
	ca_free(text);
	return error;
}

static int creds_save(const struct file_store *fs, cJSON *list)
{
	char *path = ca_fs_join(fs->home, "credentials.json"), *text = NULL;
	cJSON *root = cJSON_CreateObject();
	int error;

	if (!path || !root || !cJSON_AddNumberToObject(root, "version", 1)) {
		error = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	cJSON_AddItemReferenceToObject(root, "credentials", list);
	text = ca_json_print(root, 1);
	error = text ? ca_fs_write_atomic(path, text, strlen(text)) : ca_error(CA_ERR, "out of memory");
out:
	ca_json_delete(root);
	ca_free(text);
	ca_free(path);
	return error;
}

static int creds_lock(int *fd, const struct file_store *fs)
{
	return ca_fs_lock_named(fd, fs->home, "credentials.lock", LOCK_TIMEOUT_MS);
}

/*
 * The fast path of a plain get (docs/performance.md): credentials.json's
 * text is walked without building a tree, each entry of "credentials"
 * found by its braces (outside strings); only an entry whose text holds
 * every value the query gives as a whole JSON string (or that holds an
 * escape, which a byte search cannot judge) is parsed, with cJSON, and
 * checked as the full parse would. When the full parse accepts the file,
 * the answer is the full parse's (tests/fuzz/fuzz_git_credentials.c checks
 * it). Anything unexpected on the way (not an object, no "credentials"
 * array, an entry that is not an object or does not parse) returns 1: the
 * caller then parses the whole file, which reports the damage. Entries
 * that cannot match are delimited but not checked: damage inside them
 * shows at the next store or erase, which parse the whole file.
 */
static const char *scan_ws(const char *p, const char *end)
{
	while (p < end && (unsigned char)*p <= ' ')  /* as cJSON skips */
		p++;
	return p;
}

/* Past the closing quote of the string at p; NULL when it has none. */
static const char *scan_string(const char *p, const char *end, int *escaped)
{
	for (p++; p < end; p++) {
		if (*p == '\\' || (unsigned char)*p < ' ') {
			/* an escape, or a raw control byte cJSON would cut at */
			*escaped = 1;
			p += *p == '\\';
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* Past the value at p: a string, a bracketed value, or a bare word. */
static const char *scan_value(const char *p, const char *end, int *escaped)
{
	int depth = 0;

	if (p < end && *p == '"')
		return scan_string(p, end, escaped);
	if (p < end && *p != '{' && *p != '[') {
		while (p < end && (unsigned char)*p > ' ' && !strchr(",}]", *p))
			p++;
		return p;
	}
	while (p < end) {
		if (*p == '"') {
			if (!(p = scan_string(p, end, escaped)))
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

/* Whether "value" (quotes included) is in s[0, n). */
static int scan_has_string(const char *s, size_t n, const char *value)
{
	size_t len = strlen(value);
	const char *p = s, *end = s + n;

	while ((p = memchr(p, '"', (size_t)(end - p))) && (size_t)(end - p) >= len + 2) {
		if (!memcmp(p + 1, value, len) && p[len + 1] == '"')
			return 1;
		p++;
	}
	return 0;
}

/* Whether the entry s[0, n) may match query (no false "no"). */
static int scan_candidate(const char *s, size_t n, int escaped, const struct cred *query)
{
	size_t i;

	for (i = 0; !escaped && i < 4; i++) {
		const char *v = *cred_field((struct cred *)query, i);

		if (v && !scan_has_string(s, n, v))
			return 0;
	}
	return 1;
}

/* One candidate entry: 0 and *out when it answers query, else CA_ENOTFOUND; 1: damaged. */
static int scan_entry(struct cred *out, const char *s, size_t n, const struct cred *query, int64_t now)
{
	cJSON *item = cJSON_ParseWithLength(s, n);
	struct cred c;
	int error;

	if (!item)
		return 1;
	error = cred_from_json(&c, item);
	ca_json_delete(item);
	if (error)
		return error == CA_EINVAL ? 1 : error;
	if (ca_cred_usable(query, &c) && ca_cred_matches(query, &c) &&
	    !(c.password_expiry_utc && c.password_expiry_utc <= now)) {
		*out = c;
		return 0;
	}
	ca_cred_clear(&c);
	return CA_ENOTFOUND;
}

static int creds_scan_get(struct cred *out, const char *text, size_t len,
	const struct cred *query, int64_t now)
{
	const char *p = text, *end = text + len, *key, *key_end;
	int escaped, error;

	p = scan_ws(p, end);
	if (p >= end || *p++ != '{')
		return 1;
	for (;;) { /* the top object's keys, up to "credentials" */
		p = scan_ws(p, end);
		escaped = 0;
		if (p >= end || *p != '"' || !(key_end = scan_string(p, end, &escaped)))
			return 1;
		/*
		 * An escaped key may spell "credentials" too, and the parser
		 * takes the first of two: such a file is the full parse's.
		 */
		if (escaped)
			return 1;
		key = p;
		p = scan_ws(key_end, end);
		if (p >= end || *p++ != ':')
			return 1;
		p = scan_ws(p, end);
		if (key_end - key == 13 && !memcmp(key, "\"credentials\"", 13))
			break;
		if (!(p = scan_value(p, end, &escaped)))
			return 1;
		p = scan_ws(p, end);
		if (p >= end || *p++ != ',')
			return 1;
	}
	if (p >= end || *p++ != '[')
		return 1;
	p = scan_ws(p, end);
	if (p < end && *p == ']')
		return CA_ENOTFOUND;
	for (;;) {
		const char *entry = p;

		escaped = 0;
		if (p >= end || *p != '{' || !(p = scan_value(p, end, &escaped)))
			return 1;
		if (scan_candidate(entry, (size_t)(p - entry), escaped, query) &&
		    (error = scan_entry(out, entry, (size_t)(p - entry), query, now)) != CA_ENOTFOUND)
			return error;
		p = scan_ws(p, end);
		if (p < end && *p == ']')
			return CA_ENOTFOUND;
		if (p >= end || *p++ != ',')
			return 1;
		p = scan_ws(p, end);
	}
}

int ca_file_store_creds_find(struct cred *out, const char *text, size_t len,
	const struct cred *query, int64_t now, int full, const char *home)
{
	cJSON *list = NULL, *item;
	struct cred c;
	int error;

	if (!full && (error = creds_scan_get(out, text, len, query, now)) != 1)
		return error;
	if ((error = creds_parse(&list, home, text, len)))
		return error;
	error = CA_ENOTFOUND;
	cJSON_ArrayForEach(item, list) {
		if (cred_from_json(&c, item))
			continue;
		if (ca_cred_usable(query, &c) && ca_cred_matches(query, &c) &&
		    !(c.password_expiry_utc && c.password_expiry_utc <= now)) {
			*out = c;
			error = 0;
			break;
		}
		ca_cred_clear(&c);
	}
	ca_json_delete(list);
	return error;
}

static int file_cred_get(struct store *s, struct cred *out, const struct cred *query)
{
	struct file_store *fs = (struct file_store *)s;
	char *text = NULL;
	size_t len = 0;
	int error = creds_read(&text, &len, fs);

	if (!error)
		error = ca_file_store_creds_find(out, text, len, query, ca_now(), 0, fs->home);
	ca_free(text);
	return error;
}

/* Removes entries matching want (and want's password if set); 1 if any went. */
static int creds_remove(cJSON *list, const struct cred *want, int exact)
{
	cJSON *item = list ? list->child : NULL, *next;
	struct cred c;
	int removed = 0;
	size_t i;

	for (; item; item = next) {
		int match;

		next = item->next;
		if (cred_from_json(&c, item))
			continue;
		match = ca_cred_matches(want, &c);
		for (i = 0; exact && match && i < 4; i++)
			match = str_eq(*cred_field((struct cred *)want, i), *cred_field(&c, i)) &&
				(!*cred_field((struct cred *)want, i) == !*cred_field(&c, i));
		if (match && want->password && !str_eq(want->password, c.password))
			match = 0;
		if (match && want->credential && !str_eq(want->credential, c.credential))
			match = 0;
		if (match) {
			ca_json_delete(cJSON_DetachItemViaPointer(list, item));
			removed = 1;
		}
		ca_cred_clear(&c);
	}
	return removed;
}

static int file_cred_store(struct store *s, const struct cred *c)
{
	struct file_store *fs = (struct file_store *)s;
	struct cred key = *c;
	cJSON *list = NULL, *item;
	int fd = -1, error;

	if ((error = creds_lock(&fd, fs)) || (error = creds_load(&list, fs)))
		goto out;
	/* replace whatever password or credential the same key had */
	key.password = key.credential = key.authtype = NULL;
	creds_remove(list, &key, 1);
	item = cred_to_json(c);
	if (!item) {
		error = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	cJSON_AddItemToArray(list, item);
	error = creds_save(fs, list);
out:
	ca_json_delete(list);
	ca_fs_unlock(fd);
	return error;
}

static int file_cred_erase(struct store *s, const struct cred *query)
{
	struct file_store *fs = (struct file_store *)s;
	cJSON *list = NULL;
	int fd = -1, error;

	if ((error = creds_lock(&fd, fs)) || (error = creds_load(&list, fs)))
		goto out;
	if (creds_remove(list, query, 0))
		error = creds_save(fs, list);
out:
	ca_json_delete(list);
	ca_fs_unlock(fd);
	return error;
}

static void file_store_free(struct store *s)
{
	struct file_store *fs = (struct file_store *)s;
	size_t i;

	if (!fs)
		return;
	ca_free(fs->home);
	ca_free(fs->cache_file);
	for (i = 0; i < MAX_WARNED; i++)
		ca_free(fs->warned[i]);
	ca_free(fs);
}

static const struct store_ops file_store_ops = {
	.name = "file",
	.token_load = file_token_load,
	.token_save = file_token_save,
	.token_erase = file_token_erase,
	.token_list = file_token_list,
	.token_erase_info = file_token_erase_info,
	.cred_get = file_cred_get,
	.cred_store = file_cred_store,
	.cred_erase = file_cred_erase,
	.free = file_store_free,
};

int ca_file_store_open(struct store **out, const struct ca_store_options *opts)
{
	struct file_store *fs = ca_calloc(1, sizeof(*fs));

	if (!fs)
		return ca_error(CA_ERR, "out of memory");
	fs->base.ops = &file_store_ops;
	fs->home = ca_strdup(opts->home);
	fs->cache_file = opts->cache_file ? ca_strdup(opts->cache_file) : NULL;
	if (!fs->home || (opts->cache_file && !fs->cache_file)) {
		file_store_free(&fs->base);
		return ca_error(CA_ERR, "out of memory");
	}
	*out = &fs->base;
	return 0;
}
