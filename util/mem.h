/*
 * Memory that may hold secrets. Every block carries its size in front of
 * it so ca_free() can wipe it before giving it back (as oidc-agent does);
 * cJSON and libcurl are handed the same allocator.
 */
#ifndef CA_UTIL_MEM_H
#define CA_UTIL_MEM_H

#include <stddef.h>

void *ca_malloc(size_t size);
void *ca_calloc(size_t n, size_t size);
void *ca_realloc(void *ptr, size_t size);
void ca_free(void *ptr);
char *ca_strdup(const char *s);
char *ca_strndup(const char *s, size_t n);

/* Frees *p and sets it to NULL. */
#define ca_clear_ptr(p) do { ca_free(*(p)); *(p) = NULL; } while (0)

/* Wipes len bytes in a way the compiler cannot drop. */
void ca_wipe(void *ptr, size_t len);

/* Constant-time comparison of two strings (length leaks, content not). */
int ca_streq_ct(const char *a, const char *b);

/* Installs the wiping allocator into cJSON; idempotent and cheap. */
void ca_mem_init_json(void);

#endif
