#include "auth/net/discover.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "auth/net/http.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/url.h"

#define MAX_URL 2048
#define MAX_SERVER_TEXT 200
/* libyaml's loader slows down quadratically with nesting and anchors. */
#define YAML_MAX_DEPTH 64
#define YAML_MAX_ANCHORS 256

/* Copies server text into dst, printable ASCII only, truncated. */
static void server_text(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src && *src && i + 1 < size && i < MAX_SERVER_TEXT; src++)
		dst[i++] = (*src >= 0x20 && *src < 0x7f) ? *src : '?';
	dst[i] = '\0';
}

/* The "error" (or "message", "error_description") text of a JSON body. */
static void body_error_text(char *dst, size_t size, const char *body, size_t len)
{
	static const char *const keys[] = { "error_description", "message", "error" };
	cJSON *json;
	size_t i;

	dst[0] = '\0';
	if (!body || !len)
		return;
	json = cJSON_ParseWithLength(body, len);
	for (i = 0; json && i < sizeof(keys) / sizeof(keys[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, keys[i]);

		if (cJSON_IsString(v) && *v->valuestring) {
			server_text(dst, size, v->valuestring);
			break;
		}
	}
	ca_json_delete(json);
}

/* 0 for a 200 answer; else the error, with the server's text. */
static int check_status(const struct http_response *res, const char *what)
{
	char text[MAX_SERVER_TEXT + 1];

	if (res->status == 200)
		return 0;
	body_error_text(text, sizeof(text), res->body, res->len);
	return ca_error(res->status >= 400 && res->status < 500 ? CA_EREFUSED : CA_ENET,
		"%s refused (HTTP %ld%s%s)", what, res->status, *text ? ": " : "", text);
}

/* GET url (with bearer, a secret, when not NULL); 0 only for a 200 answer. */
static int get_ok(struct http_response *res, const char *url, const char *bearer,
	const char *what)
{
	struct http_request req = { .method = "GET", .url = url, .bearer = bearer,
		.what = what };
	int rc = ca_http_perform(res, &req);

	return rc < 0 ? rc : check_status(res, what);
}

int ca_api_get_json(struct cJSON **out, const char *url, const char *bearer,
	const char *what)
{
	struct http_response res = { 0 };
	cJSON *json = NULL;
	int rc;

	rc = get_ok(&res, url, bearer, what);
	if (rc < 0)
		goto out;
	json = cJSON_ParseWithLength(res.body, res.len);
	if (!cJSON_IsObject(json)) {
		rc = ca_error(CA_ENET, "%s: the answer is not a JSON object", what);
		goto out;
	}
	*out = json;
	json = NULL;
	rc = 0;
out:
	ca_json_delete(json);
	ca_http_response_clear(&res);
	return rc;
}

/* A host name (letters, digits, '-', '.') with an optional ":port". */
static int valid_domain(const char *d)
{
	const char *p = d;

	if (!*p || *p == '.' || *p == '-')
		return 0;
	for (; *p && *p != ':'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return 0;
	if (p - d > 253)
		return 0;
	if (*p == ':') {
		size_t digits = strspn(p + 1, "0123456789");

		if (digits == 0 || digits > 5 || p[1 + digits] != '\0')
			return 0;
	}
	return 1;
}

int ca_discover_parse_accounts(char **out, const char *json, size_t len)
{
	const cJSON *domain, *err;
	cJSON *root;
	char *copy = NULL;
	int rc;

	root = cJSON_ParseWithLength(json, len);
	if (!cJSON_IsObject(root)) {
		rc = ca_error(CA_ENET, "account discovery: the answer is not a JSON object");
		goto out;
	}
	err = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (err && !cJSON_IsNull(err)) {
		char text[MAX_SERVER_TEXT + 1];

		body_error_text(text, sizeof(text), json, len);
		rc = ca_error(CA_EREFUSED, "account discovery refused: %s",
			*text ? text : "unknown error");
		goto out;
	}
	domain = cJSON_GetObjectItemCaseSensitive(root, "tenant_domain");
	if (!cJSON_IsString(domain) || !valid_domain(domain->valuestring)) {
		rc = ca_error(CA_ENET, "account discovery: the answer has no valid tenant_domain");
		goto out;
	}
	copy = ca_strdup(domain->valuestring);
	if (!copy) {
		rc = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	*out = copy;
	rc = 0;
out:
	ca_json_delete(root);
	return rc;
}

/* The value node of key in a mapping node, or NULL. */
static yaml_node_t *mapping_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *pair;
	size_t klen = strlen(key);

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(doc, pair->key);

		if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == klen &&
		    memcmp(k->data.scalar.value, key, klen) == 0)
			return yaml_document_get_node(doc, pair->value);
	}
	return NULL;
}

/*
 * A first pass over the events of the first document: 0 when it nests at
 * most YAML_MAX_DEPTH deep and has at most YAML_MAX_ANCHORS anchors and
 * aliases; syntax errors are left for the loader to report.
 */
static int yaml_within_limits(const char *yaml, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t event;
	int depth = 0, anchors = 0, rc = 0, done = 0;

	if (!yaml_parser_initialize(&parser))
		return ca_error(CA_ERR, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	while (!done && rc == 0 && yaml_parser_parse(&parser, &event)) {
		const yaml_char_t *anchor = NULL;

		switch (event.type) {
		case YAML_SEQUENCE_START_EVENT:
			anchor = event.data.sequence_start.anchor;
			depth++;
			break;
		case YAML_MAPPING_START_EVENT:
			anchor = event.data.mapping_start.anchor;
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_SCALAR_EVENT:
			anchor = event.data.scalar.anchor;
			break;
		case YAML_ALIAS_EVENT:
			anchor = event.data.alias.anchor;
			break;
		case YAML_DOCUMENT_END_EVENT:
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		if (depth > YAML_MAX_DEPTH)
			rc = ca_error(CA_ENET, "the tenant's config.yaml nests too deep");
		else if (anchor && ++anchors > YAML_MAX_ANCHORS)
			rc = ca_error(CA_ENET, "the tenant's config.yaml has too many anchors");
		yaml_event_delete(&event);
	}
	yaml_parser_delete(&parser);
	return rc;
}

int ca_discover_parse_config_yaml(char **out, const char *yaml, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *apis, *base;
	int have_parser = 0, have_doc = 0, rc;
	char *url = NULL;
	size_t n;

	rc = yaml_within_limits(yaml, len);
	if (rc < 0)
		goto out;
	if (!yaml_parser_initialize(&parser)) {
		rc = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	have_parser = 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = ca_error(CA_ENET, "the tenant's config.yaml is not valid YAML "
			"(line %zu: %s)", parser.problem_mark.line + 1,
			parser.problem ? parser.problem : "parse error");
		goto out;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		rc = ca_error(CA_ENET, "the tenant's config.yaml is not a mapping");
		goto out;
	}
	apis = mapping_get(&doc, root, "apis");
	if (!apis || apis->type != YAML_MAPPING_NODE) {
		rc = ca_error(CA_ENET, "the tenant's config.yaml has no \"apis\" mapping");
		goto out;
	}
	base = mapping_get(&doc, apis, "baseUrl");
	if (!base || base->type != YAML_SCALAR_NODE || base->data.scalar.length == 0) {
		rc = ca_error(CA_ENET, "the tenant's config.yaml has no apis.baseUrl");
		goto out;
	}
	n = base->data.scalar.length;
	if (n > MAX_URL || memchr(base->data.scalar.value, '\0', n)) {
		rc = ca_error(CA_ENET, "the tenant's config.yaml has a malformed apis.baseUrl");
		goto out;
	}
	url = ca_strndup((const char *)base->data.scalar.value, n);
	if (!url) {
		rc = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
	if (!ca_url_allowed(url) || strpbrk(url, " \t\r\n?#")) {
		rc = ca_error(CA_ENET, "the tenant's config.yaml names an API base URL that "
			"is not https:// (or http:// to loopback)");
		goto out;
	}
	*out = url;
	url = NULL;
	rc = 0;
out:
	ca_free(url);
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	return rc;
}

int ca_discover_api_base_url(char **out, const struct ca_config *cfg,
	const char *access_token)
{
	struct http_response res = { 0 };
	char *domain = NULL, *config_url = NULL, *url = NULL;
	char host[CA_URL_HOST_MAX + 8];
	struct ca_url accounts;
	const char *scheme;
	int rc;

	if (!cfg->accounts_url || !ca_url_allowed(cfg->accounts_url)) {
		rc = ca_error(CA_EINVAL, "the accounts URL must be https:// (or http:// "
			"to loopback); fix CARTO_ACCOUNTS_URL");
		goto out;
	}
	ca_debug("discovering the API base URL at %s", cfg->accounts_url);
	rc = get_ok(&res, cfg->accounts_url, access_token, "account discovery");
	if (rc < 0)
		goto out;
	rc = ca_discover_parse_accounts(&domain, res.body, res.len);
	if (rc < 0)
		goto out;
	ca_http_response_clear(&res);

	/* The tenant is reached as the accounts endpoint was: http only on loopback. */
	if ((rc = ca_url_parse(&accounts, cfg->accounts_url)) < 0)
		goto out;
	scheme = accounts.scheme;
	config_url = ca_malloc(strlen(scheme) + 3 + strlen(domain) + sizeof("/config.yaml"));
	if (!config_url) {
		rc = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	sprintf(config_url, "%s://%s/config.yaml", scheme, domain);
	/* The URL parser must read back exactly the host[:port] it was given. */
	if (!ca_url_allowed(config_url) || ca_url_host(host, sizeof(host), config_url) < 0 ||
	    strcasecmp(host, domain) != 0) {
		rc = ca_error(CA_ENET, "account discovery named a tenant (%s) that is not "
			"reachable over https://", domain);
		goto out;
	}
	ca_debug("reading the tenant configuration at %s", config_url);
	/* The tenant's config is public: the token is not sent there. */
	rc = get_ok(&res, config_url, NULL, "tenant config.yaml");
	if (rc < 0)
		goto out;
	rc = ca_discover_parse_config_yaml(&url, res.body, res.len);
	if (rc < 0)
		goto out;
	ca_debug("API base URL: %s", url);
	*out = url;
	url = NULL;
out:
	if (rc < 0 && rc != CA_ERR) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", ca_error_message());
		rc = ca_error(rc, "cannot discover the API base URL: %s; pass api_base_url "
			"(--api-base-url) to skip discovery", msg);
	}
	ca_free(domain);
	ca_free(config_url);
	ca_free(url);
	ca_http_response_clear(&res);
	return rc;
}
