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
#include "util/text.h"

static int parse(struct proto_msg *msg, const char *text)
{
	ca_proto_msg_init(msg);
	return ca_proto_parse(msg, text, strlen(text));
}

static void splits_at_first_equals(void **state)
{
	struct proto_msg msg;

	(void)state;
	assert_int_equal(0, parse(&msg, "password=a=b==c\nhost=example.com\n\n"));
	assert_string_equal("a=b==c", ca_proto_get(&msg, "password"));
	assert_string_equal("example.com", ca_proto_get(&msg, "host"));
	ca_proto_msg_clear(&msg);
}

static void crlf_and_blank_line_end(void **state)
{
	struct proto_msg msg;

	(void)state;
	assert_int_equal(0, parse(&msg, "host=h\r\nusername=u\r\n\r\nignored=after\n"));
	assert_string_equal("h", ca_proto_get(&msg, "host"));
	assert_string_equal("u", ca_proto_get(&msg, "username"));
	assert_null(ca_proto_get(&msg, "ignored"));
	ca_proto_msg_clear(&msg);
}

static void last_value_wins_and_empty_values(void **state)
{
	struct proto_msg msg;

	(void)state;
	assert_int_equal(0, parse(&msg, "username=a\nusername=\npassword=\n"));
	assert_string_equal("", ca_proto_get(&msg, "username"));
	assert_string_equal("", ca_proto_get(&msg, "password"));
	ca_proto_msg_clear(&msg);
}

static void lists_append_and_clear(void **state)
{
	struct proto_msg msg;

	(void)state;
	assert_int_equal(0, parse(&msg, "capability[]=authtype\ncapability[]=state\n"));
	assert_true(ca_proto_list_has(&msg, "capability[]", "authtype"));
	assert_true(ca_proto_list_has(&msg, "capability[]", "state"));
	ca_proto_msg_clear(&msg);
	assert_int_equal(0, parse(&msg, "capability[]=authtype\ncapability[]=\ncapability[]=x\n"));
	assert_false(ca_proto_list_has(&msg, "capability[]", "authtype"));
	assert_true(ca_proto_list_has(&msg, "capability[]", "x"));
	ca_proto_msg_clear(&msg);
}

static void url_expands(void **state)
{
	struct proto_msg msg;

	(void)state;
	assert_int_equal(0, parse(&msg, "url=https://me:pw@example.com:8443/a/b.git\n"));
	assert_string_equal("https", ca_proto_get(&msg, "protocol"));
	assert_string_equal("example.com:8443", ca_proto_get(&msg, "host"));
	assert_string_equal("a/b.git", ca_proto_get(&msg, "path"));
	assert_string_equal("me", ca_proto_get(&msg, "username"));
	assert_string_equal("pw", ca_proto_get(&msg, "password"));
	ca_proto_msg_clear(&msg);
	assert_int_equal(0, parse(&msg, "username=old\nurl=https://example.com\n"));
	assert_string_equal("example.com", ca_proto_get(&msg, "host"));
	assert_null(ca_proto_get(&msg, "username"));
	assert_null(ca_proto_get(&msg, "path"));
	ca_proto_msg_clear(&msg);
	assert_int_equal(CA_EINVAL, parse(&msg, "url=no-protocol\n"));
}

/* As git's credential_from_url reads it (credential.c, url.c). */
static void expect_url(const char *url, const char *user, const char *password,
	const char *host, const char *path)
{
	struct proto_msg msg;
	char line[512];

	snprintf(line, sizeof(line), "url=%s\n", url);
	assert_int_equal(0, parse(&msg, line));
	assert_string_equal("https", ca_proto_get(&msg, "protocol"));
#define CHECK(key, want) do { \
		if (want) \
			assert_string_equal(want, ca_proto_get(&msg, key)); \
		else \
			assert_null(ca_proto_get(&msg, key)); \
	} while (0)
	CHECK("username", user);
	CHECK("password", password);
	CHECK("host", host);
	CHECK("path", path);
#undef CHECK
	ca_proto_msg_clear(&msg);
}

static void url_as_git_reads_it(void **state)
{
	struct proto_msg msg;

	(void)state;
	/* user and password percent-decoded; the query ends the host */
	expect_url("https://us%40er:p%3Ax@host.example?x=1", "us@er", "p:x",
		"host.example", "?x=1");
	expect_url("https://host.example#frag", NULL, NULL, "host.example", "#frag");
	expect_url("https://u@host.example/a%2Fb/c/?q#f", "u", NULL, "host.example", "a/b/c/?q#f");
	/* the first '@' ends the user-info; ':' after it is the port */
	expect_url("https://a@b@host.example:8443/p", "a", NULL, "b@host.example:8443", "p");
	/* an '@' after the host is the path's */
	expect_url("https://host.example/x@y", NULL, NULL, "host.example", "x@y");
	/* the host is decoded too; "+" stays "+" */
	expect_url("https://h%6Fst.example/a+b", NULL, NULL, "host.example", "a+b");
	/* leading and trailing slashes of the path go */
	expect_url("https://host.example//a/b//", NULL, NULL, "host.example", "a/b");
	expect_url("https://host.example/", NULL, NULL, "host.example", NULL);
	expect_url("https://host.example/a%2F", NULL, NULL, "host.example", "a");
	expect_url("https://host.example/%41:%41", NULL, NULL, "host.example", "%41:A");
	/* empty user, empty password */
	expect_url("https://:@host.example", "", "", "host.example", NULL);
	expect_url("https://@host.example", "", NULL, "host.example", NULL);
	/* bad or short escapes and %00 are kept as they are */
	expect_url("https://a%zz%4:b%00%@host.example", "a%zz%4", "b%00%", "host.example", NULL);
	/* a decoded newline or carriage return is refused, never echoed */
	assert_int_equal(CA_EINVAL, parse(&msg, "url=https://u:hunter2%0a@host.example\n"));
	assert_non_null(strstr(ca_error_message(), "password"));
	assert_null(strstr(ca_error_message(), "hunter2"));
	assert_int_equal(CA_EINVAL, parse(&msg, "url=https://u%0d:x@host.example\n"));
	assert_non_null(strstr(ca_error_message(), "username"));
	assert_int_equal(CA_EINVAL, parse(&msg, "url=https://host%0a.example\n"));
	assert_non_null(strstr(ca_error_message(), "host"));
	assert_int_equal(CA_EINVAL, parse(&msg, "url=https://host.example/a%0Ab\n"));
	assert_non_null(strstr(ca_error_message(), "path"));
	assert_int_equal(CA_EINVAL, parse(&msg, "url=://host.example\n"));
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
	ca_proto_msg_init(&msg);
	assert_int_equal(CA_EINVAL, ca_proto_parse(&msg, nul, sizeof(nul) - 1));
	assert_non_null(strstr(ca_error_message(), "NUL"));

	longline = malloc(PROTO_MAX_LINE + 10);
	memcpy(longline, "path=", 5);
	memset(longline + 5, 'a', PROTO_MAX_LINE);
	longline[PROTO_MAX_LINE + 5] = '\0';
	assert_int_equal(CA_EINVAL, parse(&msg, longline));
	/* Exactly the limit is fine. */
	longline[PROTO_MAX_LINE] = '\0';
	assert_int_equal(0, parse(&msg, longline));
	ca_proto_msg_clear(&msg);
	free(longline);
}

static void reads_a_stream(void **state)
{
	static const char text[] = "protocol=https\nhost=x.carto.com\n\nnot=read\n";
	struct proto_msg msg;
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	(void)state;
	ca_proto_msg_init(&msg);
	assert_int_equal(0, ca_proto_read(&msg, f));
	assert_string_equal("x.carto.com", ca_proto_get(&msg, "host"));
	assert_null(ca_proto_get(&msg, "not"));
	fclose(f);
	ca_proto_msg_clear(&msg);
}

static void a_long_wwwauth_line_is_one_line(void **state)
{
	struct proto_msg msg;
	char text[4096];

	(void)state;
	snprintf(text, sizeof(text), "protocol=https\nwwwauth[]=Bearer realm=\"%0*d host=evil.example\"\nhost=good.example\n",
		1500, 0);
	assert_int_equal(0, parse(&msg, text));
	assert_string_equal("good.example", ca_proto_get(&msg, "host"));
	ca_proto_msg_clear(&msg);
}

static void writer_refuses_line_breaks(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(0, ca_proto_write(f, "username", "me"));
	assert_int_equal(CA_ERR, ca_proto_write(f, "password", "a\nb"));
	assert_int_equal(CA_ERR, ca_proto_write(f, "password", "a\rb"));
	assert_int_equal(CA_ERR, ca_proto_write(f, "ke=y", "v"));
	assert_int_equal(CA_ERR, ca_proto_write(f, "", "v"));
	fclose(f);
	assert_string_equal("username=me\n", buf);
	free(buf);
}

/* Every class of character the protocol never prints (util/text.h). */
static const char *const unsafe_values[] = {
	"a\tb", "a\vaccess_token=evil", "a\fb", "a\x1b]52;c;ZWNobw==\x07", "a\x1b[2J",
	"\x01", "\x1f", "a\x7f", "a\xc2\x80", "a\xc2\x85" "b", "a\xc2\x9f", "a\xe2\x80\xa8" "b",
	"a\xe2\x80\xa9" "b", "a\xff", "a\xc0\x8a", "a\xe0\x80\x8a", "a\xed\xa0\x80",
	"a\xe2\x80", "a\xf4\x90\x80\x80", "\xc3", "a\x80",
};

static void writer_refuses_control_characters(void **state)
{
	char *buf = NULL, msg[1024];
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	for (i = 0; i < sizeof(unsafe_values) / sizeof(*unsafe_values); i++) {
		assert_int_equal(CA_ERR, ca_proto_write(f, "password", unsafe_values[i]));
		snprintf(msg, sizeof(msg), "%s", ca_error_message());
		assert_non_null(strstr(msg, "password"));
		assert_null(strstr(msg, unsafe_values[i])); /* never the value */
		assert_int_equal(CA_ERR, ca_proto_write(f, unsafe_values[i], "v"));
	}
	/* printable UTF-8 passes: accents, the euro sign, NBSP, an emoji */
	assert_int_equal(0, ca_proto_write(f, "username", "Jos\xc3\xa9 \xe2\x82\xac\xc2\xa0\xf0\x9f\x98\x80"));
	fclose(f);
	assert_string_equal("username=Jos\xc3\xa9 \xe2\x82\xac\xc2\xa0\xf0\x9f\x98\x80\n", buf);
	free(buf);
}

static void escaper_shows_unsafe_characters(void **state)
{
	char out[128], *buf = NULL;
	size_t len = 0, i;
	FILE *f;

	(void)state;
	ca_text_escape(out, sizeof(out), "api \x1b]0;title\x07 x\x1b]52;c;ZWNobw==\x07");
	assert_string_equal("api \\x1b]0;title\\x07 x\\x1b]52;c;ZWNobw==\\x07", out);
	ca_text_escape(out, sizeof(out), "a\tb\vc\x7f" "d\xc2\x85" "e\xe2\x80\xa8" "f\xe2\x80\xa9" "g\xff");
	assert_string_equal("a\\x09b\\x0bc\\x7fd\\u0085e\\u2028f\\u2029g\\xff", out);
	/* bidirectional controls: escaped for a terminal, printable on the protocol */
	ca_text_escape(out, sizeof(out), "a\xe2\x80\xae" "b\xe2\x81\xa6" "c\xe2\x80\x8f" "d\xd8\x9c" "e\xe2\x80\xaa");
	assert_string_equal("a\\u202eb\\u2066c\\u200fd\\u061ce\\u202a", out);
	assert_true(ca_text_printable("a\xe2\x80\xae" "b"));
	ca_text_escape(out, sizeof(out), "\xe2\x80\x8d \xe2\x80\xaf \xe2\x81\xaa");
	assert_string_equal("\xe2\x80\x8d \xe2\x80\xaf \xe2\x81\xaa", out);
	ca_text_escape(out, sizeof(out), "caf\xc3\xa9 \xe2\x82\xac \\x1b");
	assert_string_equal("caf\xc3\xa9 \xe2\x82\xac \\x1b", out);
	/* an overlong ESC is four stray bytes, each escaped */
	ca_text_escape(out, sizeof(out), "\xe0\x80\x9b");
	assert_string_equal("\\xe0\\x80\\x9b", out);
	/* truncation never cuts an escape or a character in half */
	assert_int_equal(1, ca_text_escape(out, 5, "a\x1b" "b"));
	assert_string_equal("a", out);
	assert_int_equal(5, ca_text_escape(out, 6, "a\x1b" "b"));
	assert_string_equal("a\\x1b", out);
	assert_int_equal(1, ca_text_escape(out, 3, "a\xe2\x82\xac"));
	assert_int_equal(0, ca_text_escape(out, 1, "abc"));
	assert_string_equal("", out);
	ca_text_escape(out, sizeof(out), NULL);
	assert_string_equal("", out);
	/* whatever comes in, nothing unsafe goes out */
	for (i = 0; i < sizeof(unsafe_values) / sizeof(*unsafe_values); i++) {
		ca_text_escape(out, sizeof(out), unsafe_values[i]);
		assert_true(ca_text_printable(out));
	}

	f = open_memstream(&buf, &len);
	ca_text_put_line(f, "x\x1b[31my\xe2\x80\xa8");
	fclose(f);
	assert_string_equal("x\\x1b[31my\\u2028\n", buf);
	free(buf);
}

/* The library's messages are safe on a terminal whoever prints them. */
static void error_messages_are_escaped(void **state)
{
	(void)state;
	assert_int_equal(CA_EINVAL, ca_error(CA_EINVAL, "cannot read %s: no such file",
		"/tmp/a\x1b]0;pwned\x07\xc2\x85\xe2\x80\xa8\n.json"));
	assert_string_equal("cannot read /tmp/a\\x1b]0;pwned\\x07\\u0085\\u2028 .json: no such file",
		ca_error_message());
	assert_int_equal(CA_EINVAL, ca_error_prefix("in \x1b[2J"));
	assert_true(ca_text_printable(ca_error_message()));
	assert_non_null(strstr(ca_error_message(), "in \\x1b[2J: cannot read"));
}

static void store_input_must_print_back(void **state)
{
	struct proto_msg msg;

	(void)state;
	assert_int_equal(0, parse(&msg, "protocol=https\nhost=h\nusername=u\npassword=p\xc3\xa9\n"
		"capability[]=a\tb\n"));
	assert_int_equal(0, ca_proto_msg_check_printable(&msg));
	ca_proto_msg_clear(&msg);
	assert_int_equal(0, parse(&msg, "protocol=https\nhost=h\npassword=secret\vaccess_token=x\n"));
	assert_int_equal(CA_EINVAL, ca_proto_msg_check_printable(&msg));
	assert_non_null(strstr(ca_error_message(), "password"));
	assert_null(strstr(ca_error_message(), "secret"));
	ca_proto_msg_clear(&msg);
	assert_int_equal(0, parse(&msg, "pass\x1bword=x\n"));
	assert_int_equal(CA_EINVAL, ca_proto_msg_check_printable(&msg));
	ca_proto_msg_clear(&msg);
}

/* The index keeps git's semantics: order, last value wins, lists. */
static void index_keeps_semantics(void **state)
{
	struct proto_msg msg;
	size_t i;

	(void)state;
	assert_int_equal(0, parse(&msg, "a=1\nl[]=x\nb=2\na=3\nl[]=y\nl[]=\nl[]=z\nc=4\n"));
	assert_int_equal(4, msg.count);
	assert_string_equal("b", msg.attrs[0].key);
	assert_string_equal("a", msg.attrs[1].key);
	assert_string_equal("3", msg.attrs[1].value);
	assert_string_equal("l[]", msg.attrs[2].key);
	assert_string_equal("z", msg.attrs[2].value);
	assert_string_equal("c", msg.attrs[3].key);
	assert_string_equal("d", (ca_proto_set(&msg, "d", "d"), msg.attrs[4].key));
	assert_false(ca_proto_list_has(&msg, "l[]", "x"));
	assert_true(ca_proto_list_has(&msg, "l[]", "z"));
	assert_int_equal(0, ca_proto_set(&msg, "a", NULL));
	assert_int_equal(4, msg.count);
	assert_null(ca_proto_get(&msg, "a"));
	for (i = 0; i < msg.count; i++)
		assert_non_null(msg.attrs[i].key);
	assert_string_equal("4", ca_proto_get(&msg, "c"));
	assert_int_equal(0, ca_proto_set_default(&msg, "c", "5"));
	assert_string_equal("4", ca_proto_get(&msg, "c"));
	assert_int_equal(0, ca_proto_apply_line(&msg, "c=6", 3));
	assert_string_equal("6", ca_proto_get(&msg, "c"));
	assert_int_equal(4, msg.count);
	ca_proto_msg_clear(&msg);
	ca_proto_msg_clear(&msg); /* a cleared message clears again */
}

/* 80,000 distinct keys, and as many lists cleared one by one. */
static void many_keys(void **state)
{
	const size_t n = 80000;
	struct proto_msg msg;
	char *text, *p, key[32];
	size_t i;

	(void)state;
	text = malloc(n * 40);
	p = text;
	for (i = 0; i < n; i++)
		p += sprintf(p, "k%zu[]=v%zu\n", i, i);
	for (i = 0; i < n; i += 2)
		p += sprintf(p, "k%zu[]=\n", i);
	ca_proto_msg_init(&msg);
	assert_int_equal(0, ca_proto_parse(&msg, text, (size_t)(p - text)));
	assert_int_equal(n / 2, msg.count);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%zu[]", i);
		if (i % 2)
			assert_non_null(ca_proto_get(&msg, key));
		else
			assert_null(ca_proto_get(&msg, key));
	}
	assert_string_equal("k1[]", msg.attrs[0].key);
	assert_string_equal("v79999", msg.attrs[n / 2 - 1].value);
	ca_proto_msg_clear(&msg);
	free(text);
}

static void booleans(void **state)
{
	struct proto_msg msg;

	(void)state;
	assert_int_equal(0, parse(&msg, "a=true\nb=FALSE\nc=1\nd=no\ne=maybe\n"));
	assert_int_equal(1, ca_proto_get_bool(&msg, "a", 0));
	assert_int_equal(0, ca_proto_get_bool(&msg, "b", 1));
	assert_int_equal(1, ca_proto_get_bool(&msg, "c", 0));
	assert_int_equal(0, ca_proto_get_bool(&msg, "d", 1));
	assert_int_equal(-1, ca_proto_get_bool(&msg, "e", 1));
	assert_int_equal(7, ca_proto_get_bool(&msg, "absent", 7));
	ca_proto_msg_clear(&msg);
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
		cmocka_unit_test(url_as_git_reads_it),
		cmocka_unit_test(bad_input),
		cmocka_unit_test(reads_a_stream),
		cmocka_unit_test(a_long_wwwauth_line_is_one_line),
		cmocka_unit_test(writer_refuses_line_breaks),
		cmocka_unit_test(writer_refuses_control_characters),
		cmocka_unit_test(escaper_shows_unsafe_characters),
		cmocka_unit_test(error_messages_are_escaped),
		cmocka_unit_test(store_input_must_print_back),
		cmocka_unit_test(index_keeps_semantics),
		cmocka_unit_test(many_keys),
		cmocka_unit_test(booleans),
		cmocka_unit_test(constant_time_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
