/* Reading cJSON trees: the one getter every parser shares. */
#ifndef CA_UTIL_JSON_H
#define CA_UTIL_JSON_H

#include <cjson/cJSON.h>

/* The string member name of object root, or NULL (absent, not a string). */
const char *ca_json_str(const cJSON *root, const char *name);

#endif
