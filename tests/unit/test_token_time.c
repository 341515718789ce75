/*
 * Token time: the Python reference's time frame (token.h,
 * ca_time_to_reference / ca_time_from_reference) in several zones and
 * around daylight-saving changes, the renewal margin, and a token file's
 * expiration capped by the token's exp claim.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyring/store.h"
#include "token/identity.h"
#include "token/token.h"
#include "util/mem.h"

/* {"sub":"any@clients","azp":"any","iat":1000,"exp":1200} */
#define JWT_1000_1200 "eyJhbGciOiJSUzI1NiJ9." \
	"eyJzdWIiOiJhbnlAY2xpZW50cyIsImF6cCI6ImFueSIsImlhdCI6MTAwMCwiZXhwIjoxMjAwfQ.c2ln"

static void zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* Unix time of a UTC date. */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
		.tm_hour = h, .tm_min = mi };

	return (int64_t)timegm(&tm);
}

static void utc_zone_is_identity(void **state)
{
	int64_t t = utc(2026, 11, 30, 15, 0);

	(void)state;
	zone("UTC");
	assert_int_equal(t, ca_time_to_reference(t));
	assert_int_equal(t, ca_time_from_reference(t));
}

/* East of UTC the reference's expiration is earlier by the offset. */
static void tokyo(void **state)
{
	int64_t t = utc(2026, 11, 30, 15, 0);

	(void)state;
	zone("Asia/Tokyo");
	assert_int_equal(t - 9 * 3600, ca_time_to_reference(t));
	assert_int_equal(t, ca_time_from_reference(t - 9 * 3600));
}

/* West of UTC later, by the offset of the day (EST or EDT). */
static void new_york(void **state)
{
	int64_t winter = utc(2026, 1, 15, 12, 0), summer = utc(2026, 7, 15, 12, 0);

	(void)state;
	zone("America/New_York");
	assert_int_equal(winter + 5 * 3600, ca_time_to_reference(winter));
	assert_int_equal(summer + 4 * 3600, ca_time_to_reference(summer));
	assert_int_equal(winter, ca_time_from_reference(winter + 5 * 3600));
	assert_int_equal(summer, ca_time_from_reference(summer + 4 * 3600));
}

/*
 * Madrid around both changes of 2026 (29 March 01:00 UTC, 25 October
 * 01:00 UTC), every 10 minutes: the round trip is exact, except where the
 * UTC wall-clock time is itself a Madrid wall-clock time that does not
 * exist or exists twice (02:00-03:00 on those days): the reference's frame
 * cannot tell those apart, and then it is off by at most the hour.
 */
static void madrid_around_dst_changes(void **state)
{
	static const int days[][3] = { { 2026, 3, 29 }, { 2026, 10, 25 } };
	size_t i;

	(void)state;
	zone("Europe/Madrid");
	for (i = 0; i < 2; i++) {
		int64_t start = utc(days[i][0], days[i][1], days[i][2], 0, 0) - 2 * 3600;
		int64_t gap = utc(days[i][0], days[i][1], days[i][2], 2, 0);
		int64_t t;

		for (t = start; t < start + 8 * 3600; t += 600) {
			int64_t ref = ca_time_to_reference(t), back = ca_time_from_reference(ref);
			/* The offset the reference sees is the local one, +1 h or +2 h. */
			int64_t shift = t - ref;

			assert_true(shift == 3600 || shift == 7200);
			if (t >= gap && t < gap + 3600)
				assert_true(back - t <= 3600 && t - back <= 3600);
			else
				assert_int_equal(t, back);
		}
	}
	/* A plain day: CET in winter (+1), CEST in summer (+2). */
	assert_int_equal(utc(2026, 1, 10, 8, 0) - 3600, ca_time_to_reference(utc(2026, 1, 10, 8, 0)));
	assert_int_equal(utc(2026, 6, 10, 8, 0) - 7200, ca_time_to_reference(utc(2026, 6, 10, 8, 0)));
}

static void margin_rule(void **state)
{
	struct ca_token tok = { .access_token = "t", .expiration = 1000 };

	(void)state;
	/* Lifetime unknown: 300 s. */
	assert_int_equal(300, ca_token_margin(&tok, CA_MIN_TTL_AUTO));
	tok.lifetime = 120;
	assert_int_equal(60, ca_token_margin(&tok, CA_MIN_TTL_AUTO));
	tok.lifetime = 600;
	assert_int_equal(300, ca_token_margin(&tok, CA_MIN_TTL_AUTO));
	tok.lifetime = 86400;
	assert_int_equal(300, ca_token_margin(&tok, CA_MIN_TTL_AUTO));
	/* An explicit min_ttl is honoured as given. */
	tok.lifetime = 120;
	assert_int_equal(300, ca_token_margin(&tok, 300));
	assert_int_equal(0, ca_token_margin(&tok, 0));
	/* A 120 s token: reused with 60 s left, not with 59; min_ttl=300 renews. */
	assert_true(ca_token_valid(&tok, 940, CA_MIN_TTL_AUTO));
	assert_false(ca_token_valid(&tok, 941, CA_MIN_TTL_AUTO));
	assert_false(ca_token_valid(&tok, 900, 300));
	assert_false(ca_token_valid(&tok, 1000, CA_MIN_TTL_AUTO));
}

static void lifetime_from_the_grant(void **state)
{
	static const char body[] = "{\"access_token\":\"eyJx\",\"expires_in\":120}";
	struct ca_token tok;

	(void)state;
	ca_token_init(&tok);
	assert_int_equal(0, ca_token_parse_response(&tok, body, strlen(body), 200, 1000));
	assert_int_equal(1120, tok.expiration);
	assert_int_equal(120, tok.lifetime);
	ca_token_clear(&tok);
}

/* A file that claims more than the token's exp is cut to it; the lifetime comes from iat/exp. */
static void file_expiration_capped_by_exp(void **state)
{
	static const char file[] = "{\"api_base_url\":\"https://x.api.carto.com\","
		"\"access_token\":\"" JWT_1000_1200 "\",\"expiration\":864000}";
	static const char below[] = "{\"api_base_url\":\"https://x.api.carto.com\","
		"\"access_token\":\"" JWT_1000_1200 "\",\"expiration\":1100}";
	struct ca_token tok;

	(void)state;
	zone("UTC");
	ca_token_init(&tok);
	assert_int_equal(0, ca_file_store_token_parse(&tok, file, sizeof(file) - 1, NULL));
	assert_int_equal(1200, tok.expiration);
	assert_int_equal(200, tok.lifetime);
	ca_token_clear(&tok);
	assert_int_equal(0, ca_file_store_token_parse(&tok, below, sizeof(below) - 1, NULL));
	assert_int_equal(1100, tok.expiration);
	ca_token_clear(&tok);
}

/* Our records keep the granted lifetime across a write and a read. */
static void record_keeps_lifetime(void **state)
{
	struct ca_identity id;
	struct ca_token tok = { .access_token = "opaque", .expiration = 5000,
		.api_base_url = "https://x.api.carto.com", .lifetime = 90 }, back;
	char *json;

	(void)state;
	ca_identity_init(&id);
	id.auth_url = CA_DEFAULT_AUTH_URL;
	id.client_id = CA_DEFAULT_CLIENT_ID;
	json = ca_file_store_token_json(&id, &tok);
	assert_non_null(json);
	ca_token_init(&back);
	assert_int_equal(0, ca_file_store_token_parse(&back, json, strlen(json), &id));
	assert_int_equal(5000, back.expiration);
	assert_int_equal(90, back.lifetime);
	ca_token_clear(&back);
	ca_free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(utc_zone_is_identity),
		cmocka_unit_test(tokyo),
		cmocka_unit_test(new_york),
		cmocka_unit_test(madrid_around_dst_changes),
		cmocka_unit_test(margin_rule),
		cmocka_unit_test(lifetime_from_the_grant),
		cmocka_unit_test(file_expiration_capped_by_exp),
		cmocka_unit_test(record_keeps_lifetime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
