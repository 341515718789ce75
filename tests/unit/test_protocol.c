/* The key=value codec: git's rules (reference/credential-helpers.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/proto.h"
#include "util/error.h"
#include "util/mem.h"

static int parse(struct proto_msg *msg, const char *text)
{
	proto_msg_init(msg);
	return proto_parse(msg, text, strlen(text));
}

static void splits_at_first_equals(void **state)
{
	struct proto_msg msg;

	(void)state;
	assert_int_equal(0, parse(&msg, "password=a=b==c\nhost=example.com\n\n"));
	assert_string_equal("a=b==c", proto_get(&msg, "password"));
	assert_string_equal("example.com", proto_get(&msg, "host"));
	proto_msg_clear(&msg);
}

static void crlf_and_blank_line_end(void **state)
{
	struct proto_msg msg;

	(void)state;
	assert_int_equal(0, parse(&msg, "host=h\r\nusername=u\r\n\r\nignored=after\n"));
	assert_string_equal("h", proto_get(&msg, "host"));
	assert_string_equal("u", proto_get(&msg, "username"));
	assert_null(proto_get(&msg, "ignored"));
	proto_msg_clear(&msg);
}

static void last_value_wins_and_empty_values(void **state)
{
	struct proto_msg msg;

	(void)state;
	assert_int_equal(0, parse(&msg, "username=a\nusername=\npassword=\n"));
	assert_string_equal("", proto_get(&msg, "username"));
	assert_string_equal("", proto_get(&msg, "password"));
	proto_msg_clear(&msg);
}

static void lists_append_and_clear(void **state)
{
	struct proto_msg msg;

	(void)state;
	assert_int_equal(0, parse(&msg, "capability[]=authtype\ncapability[]=state\n"));
	assert_true(proto_list_has(&msg, "capability[]", "authtype"));
	assert_true(proto_list_has(&msg, "capability[]", "state"));
	proto_msg_clear(&msg);
	assert_int_equal(0, parse(&msg, "capability[]=authtype\ncapability[]=\ncapability[]=x\n"));
	assert_false(proto_list_has(&msg, "capability[]", "authtype"));
	assert_true(proto_list_has(&msg, "capability[]", "x"));
	proto_msg_clear(&msg);
}

static void url_expands(void **state)
{
	struct proto_msg msg;

	(void)state;
	assert_int_equal(0, parse(&msg, "url=https://me:pw@example.com:8443/a/b.git\n"));
	assert_string_equal("https", proto_get(&msg, "protocol"));
	assert_string_equal("example.com:8443", proto_get(&msg, "host"));
	assert_string_equal("a/b.git", proto_get(&msg, "path"));
	assert_string_equal("me", proto_get(&msg, "username"));
	assert_string_equal("pw", proto_get(&msg, "password"));
	proto_msg_clear(&msg);
	assert_int_equal(0, parse(&msg, "username=old\nurl=https://example.com\n"));
	assert_string_equal("example.com", proto_get(&msg, "host"));
	assert_null(proto_get(&msg, "username"));
	assert_null(proto_get(&msg, "path"));
	proto_msg_clear(&msg);
	assert_int_equal(CA_EINVAL, parse(&msg, "url=no-protocol\n"));
}

static void bad_input(void **state)
{
	struct proto_msg msg;
	char *longline;
	static const char nul[] = "host=a\0b\n";

	(void)state;
	assert_int_equal(CA_EINVAL, parse(&msg, "host=a\nnoequals\n"));
	assert_int_equal(0, msg.count);
	assert_non_null(strstr(ca_error_message(), "without '='"));
	assert_int_equal(CA_EINVAL, parse(&msg, "=value\n"));
	proto_msg_init(&msg);
	assert_int_equal(CA_EINVAL, proto_parse(&msg, nul, sizeof(nul) - 1));
	assert_non_null(strstr(ca_error_message(), "NUL"));

	longline = malloc(PROTO_MAX_LINE + 10);
	memcpy(longline, "path=", 5);
	memset(longline + 5, 'a', PROTO_MAX_LINE);
	longline[PROTO_MAX_LINE + 5] = '\0';
	assert_int_equal(CA_EINVAL, parse(&msg, longline));
	/* Exactly the limit is fine. */
	longline[PROTO_MAX_LINE] = '\0';
	assert_int_equal(0, parse(&msg, longline));
	proto_msg_clear(&msg);
	free(longline);
}

static void reads_a_stream(void **state)
{
	static const char text[] = "protocol=https\nhost=x.carto.com\n\nnot=read\n";
	struct proto_msg msg;
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	(void)state;
	proto_msg_init(&msg);
	assert_int_equal(0, proto_read(&msg, f));
	assert_string_equal("x.carto.com", proto_get(&msg, "host"));
	assert_null(proto_get(&msg, "not"));
	fclose(f);
	proto_msg_clear(&msg);
}

static void a_long_wwwauth_line_is_one_line(void **state)
{
	struct proto_msg msg;
	char text[4096];

	(void)state;
	snprintf(text, sizeof(text), "protocol=https\nwwwauth[]=Bearer realm=\"%0*d host=evil.example\"\nhost=good.example\n",
		1500, 0);
	assert_int_equal(0, parse(&msg, text));
	assert_string_equal("good.example", proto_get(&msg, "host"));
	proto_msg_clear(&msg);
}

static void writer_refuses_line_breaks(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(0, proto_write(f, "username", "me"));
	assert_int_equal(CA_EINVAL, proto_write(f, "password", "a\nb"));
	assert_int_equal(CA_EINVAL, proto_write(f, "password", "a\rb"));
	assert_int_equal(CA_EINVAL, proto_write(f, "ke=y", "v"));
	fclose(f);
	assert_string_equal("username=me\n", buf);
	free(buf);
}

static void booleans(void **state)
{
	struct proto_msg msg;

	(void)state;
	assert_int_equal(0, parse(&msg, "a=true\nb=FALSE\nc=1\nd=no\ne=maybe\n"));
	assert_int_equal(1, proto_get_bool(&msg, "a", 0));
	assert_int_equal(0, proto_get_bool(&msg, "b", 1));
	assert_int_equal(1, proto_get_bool(&msg, "c", 0));
	assert_int_equal(0, proto_get_bool(&msg, "d", 1));
	assert_int_equal(-1, proto_get_bool(&msg, "e", 1));
	assert_int_equal(7, proto_get_bool(&msg, "absent", 7));
	proto_msg_clear(&msg);
}

static void constant_time_compare(void **state)
{
	(void)state;
	assert_true(ca_streq_ct("abc", "abc"));
	assert_false(ca_streq_ct("abc", "abd"));
	assert_false(ca_streq_ct("abc", "abcd"));
	assert_false(ca_streq_ct("abc", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(splits_at_first_equals),
		cmocka_unit_test(crlf_and_blank_line_end),
		cmocka_unit_test(last_value_wins_and_empty_values),
		cmocka_unit_test(lists_append_and_clear),
		cmocka_unit_test(url_expands),
		cmocka_unit_test(bad_input),
		cmocka_unit_test(reads_a_stream),
		cmocka_unit_test(a_long_wwwauth_line_is_one_line),
		cmocka_unit_test(writer_refuses_line_breaks),
		cmocka_unit_test(booleans),
		cmocka_unit_test(constant_time_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
