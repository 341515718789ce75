#include "util/mem.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The header keeps 16-byte alignment for whatever the block holds. */
#define HEADER 16

void ca_wipe(void *ptr, size_t len)
{
	if (ptr && len)
		explicit_bzero(ptr, len);
}

void *ca_malloc(size_t size)
{
	unsigned char *block;

	if (size > SIZE_MAX - HEADER)
		return NULL;
	block = malloc(size + HEADER);
	if (!block)
		return NULL;
	memcpy(block, &size, sizeof(size));
	return block + HEADER;
}

void *ca_calloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	p = ca_malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

static size_t block_size(const void *ptr)
{
	size_t size;

	memcpy(&size, (const unsigned char *)ptr - HEADER, sizeof(size));
	return size;
}

void *ca_realloc(void *ptr, size_t size)
{
	void *fresh;
	size_t old;

	if (!ptr)
		return ca_malloc(size);
	/* Never let realloc move secrets without wiping the old copy. */
	fresh = ca_malloc(size);
	if (!fresh)
		return NULL;
	old = block_size(ptr);
	memcpy(fresh, ptr, old < size ? old : size);
	ca_free(ptr);
	return fresh;
}

void ca_free(void *ptr)
{
	unsigned char *block;

	if (!ptr)
		return;
	block = (unsigned char *)ptr - HEADER;
	explicit_bzero(block, block_size(ptr) + HEADER);
	free(block);
}

char *ca_strndup(const char *s, size_t n)
{
	char *copy;

	if (!s)
		return NULL;
	copy = ca_malloc(n + 1);
	if (!copy)
		return NULL;
	memcpy(copy, s, n);
	copy[n] = '\0';
	return copy;
}

char *ca_strdup(const char *s)
{
	return s ? ca_strndup(s, strlen(s)) : NULL;
}

int ca_streq_ct(const char *a, const char *b)
{
	size_t la, lb, i;
	unsigned char diff;

	if (!a || !b)
		return a == b;
	la = strlen(a);
	lb = strlen(b);
	diff = la != lb;
	for (i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

void ca_mem_install_hooks(void)
{
	cJSON_Hooks hooks = { ca_malloc, ca_free };

	cJSON_InitHooks(&hooks);
}

/* Wipes every string of a tree that the tree owns. */
static void scrub(cJSON *item)
{
	for (; item; item = item->next) {
		if (item->string && !(item->type & cJSON_StringIsConst))
			ca_wipe(item->string, strlen(item->string));
		/* A reference's value and children belong to another tree. */
		if (item->type & cJSON_IsReference)
			continue;
		if (item->valuestring)
			ca_wipe(item->valuestring, strlen(item->valuestring));
		scrub(item->child);
	}
}

void ca_json_delete(cJSON *root)
{
	cJSON *next;

	if (!root)
		return;
	/* Only this item and what hangs below it, as cJSON_Delete frees. */
	next = root->next;
	root->next = NULL;
	scrub(root);
	root->next = next;
	cJSON_Delete(root);
}

char *ca_json_print(const cJSON *root, int formatted)
{
	size_t size = 512;
	char *buf;

	/*
	 * Into our own buffer, grown until the text fits: cJSON's own printing
	 * would leave copies in blocks it frees unwiped.
	 */
	for (;;) {
		if (!(buf = ca_malloc(size)))
			return NULL;
		if (cJSON_PrintPreallocated((cJSON *)root, buf, (int)size, formatted))
			return buf;
		ca_free(buf);
		if (size > (1u << 26))
			return NULL;
		size *= 4;
	}
}
