/*
 * Memory that may hold secrets. Every block carries its size in front of
 * it so ca_free() can wipe it before giving it back (as oidc-agent does).
 *
 * cJSON and libcurl allocate with whatever their process-wide hooks say,
 * and those belong to the program: the carto-auth executable hands them
 * this allocator (ca_mem_install_hooks(), and the network module's
 * ca_http_init_executable()), the library never touches them. So the
 * library's own code wipes what it gives back to cJSON: ca_json_delete()
 * scrubs a tree before freeing it, and ca_json_print() prints into a
 * wiping block of ours. docs/design.md, "Secrets in memory".
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

struct cJSON;

/*
 * Installs the wiping allocator into cJSON, process-wide. For the
 * executable's main() only, before any thread starts: a library must not
 * change its host's allocator.
 */
void ca_mem_install_hooks(void);

/*
 * Wipes every string of the tree (values and keys, never those of a
 * reference to another tree or a constant key) and frees it with
 * cJSON_Delete. Use it for every tree that may hold a secret; NULL is fine.
 */
void ca_json_delete(struct cJSON *root);

/*
 * The tree as JSON text in a block of this allocator (free it with
 * ca_free, which wipes it), NULL when out of memory. formatted: 1 for
 * cJSON_Print's layout, 0 for cJSON_PrintUnformatted's.
 */
char *ca_json_print(const struct cJSON *root, int formatted);

#endif
