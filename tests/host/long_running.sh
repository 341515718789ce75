#!/bin/bash
# The long-running host test (tests/host/long_running.c): 8 threads, each
# with its own handle, renewing tokens that live 4 s (the stand-in's
# --expires-in 4, min_ttl 2: a renewal every 2 s or so) for SECONDS while
# the host uses cJSON and libcurl itself. Every call must succeed; under
# ASan no leak and no memory error, under TSan no race (the library's build
# decides which: ctest label "host"; scripts/test.sh runs it under both
# for 3 minutes).
#
# usage: long_running.sh SECONDS   (HOST_TEST_SECONDS overrides it, for a
# quicker run by hand; CI leaves it unset)
set -euo pipefail
seconds=${HOST_TEST_SECONDS:-${1:-180}}
. "$(dirname "$0")/../lib.sh"

SRC=${CARTO_AUTH_SOURCE_DIR:-$(cd "$TESTS_DIR/.." && pwd)}
CC=${CC:-cc}
if [ -z "${CARTO_AUTH_LIB:-}" ]; then
  echo "CARTO_AUTH_LIB is not set (run through ctest)" >&2
  exit 1
fi
command -v "$CC" >/dev/null || t_skip_all "no C compiler ($CC)"
LIBDIR=$(dirname "$CARTO_AUTH_LIB")

SAN=()
if readelf -d "$CARTO_AUTH_LIB" | grep -q libasan; then
  SAN=("-fsanitize=address,undefined")
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
elif readelf -d "$CARTO_AUTH_LIB" | grep -q libtsan; then
  SAN=(-fsanitize=thread)
  # Any report fails the run (exit status 66).
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
fi

standin_start --expires-in 4
make_creds_file "$TEST_TMP/creds1.json" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
make_creds_file "$TEST_TMP/creds2.json" "$STANDIN_CLIENT_2" "$STANDIN_SECRET_2" "$STANDIN_URL"

# shellcheck disable=SC2046
"$CC" -std=gnu11 -Wall -Wextra -Werror -g "${SAN[@]}" -I"$SRC/include" \
  "$SRC/tests/host/long_running.c" -o "$TEST_TMP/long_running" \
  -L"$LIBDIR" -lcarto-auth -Wl,-rpath,"$LIBDIR" $(pkg-config --libs libcjson libcurl) -lpthread

case_long_running() {
  local calls renewals requests
  # shellcheck disable=SC2034 # read by _t_capture (tests/lib.sh)
  HELPER_TIMEOUT=$((seconds + 120))
  echo "running for $seconds s${SAN[*]:+ with ${SAN[*]}}" >&2
  _t_capture "" "$TEST_TMP/long_running" "$seconds" 2 "$STANDIN_URL/" \
    "$TEST_TMP/creds1.json" "$TEST_TMP/creds2.json"
  echo "$OUT" >&2
  assert_rc 0
  assert_empty "$ERR" "no failure, no sanitizer report"
  calls=$(sed -n 's/.*calls=\([0-9]*\).*/\1/p' <<<"$OUT")
  renewals=$(sed -n 's/.*renewals=\([0-9]*\).*/\1/p' <<<"$OUT")
  requests=$(standin_requests /oauth/token)
  echo "token requests at the stand-in: $requests" >&2
  # A token is good for 2 to 3 s (whole seconds): each of the 8 threads
  # renews every 3 s or so; ask for a third of that.
  [ "$renewals" -ge "$seconds" ] ||
    { echo "only $renewals renewals in $seconds s" >&2; return 1; }
  [ "$requests" -ge $((seconds / 3)) ] ||
    { echo "only $requests token requests in $seconds s" >&2; return 1; }
  [ "$calls" -ge "$renewals" ]
}
t_case "8 threads keep renewing short-lived tokens while the host uses cJSON and libcurl" case_long_running

t_done
