#!/bin/bash
# The C library as a product: `cmake --install` lays out SPEC's pieces, an
# example program (tests/capi/example.c) builds against the installed
# library through `pkg-config carto-auth` and runs against the stand-in,
# and the public header compiles alone with strict warnings (C and C++).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

SRC=${CARTO_AUTH_SOURCE_DIR:-$(cd "$TESTS_DIR/.." && pwd)}
CC=${CC:-cc}
if [ -z "${CARTO_AUTH_BUILD_DIR:-}" ]; then
  echo "CARTO_AUTH_BUILD_DIR is not set (run through ctest)" >&2
  exit 1
fi
command -v "$CC" >/dev/null || t_skip_all "no C compiler ($CC)"
command -v pkg-config >/dev/null || t_skip_all "no pkg-config"

# A library built with sanitizers (-DCARTO_AUTH_SANITIZE=ON, scripts/test.sh's
# second stage) needs programs built with them too.
SAN=()
if [ -n "${CARTO_AUTH_LIB:-}" ] && readelf -d "$CARTO_AUTH_LIB" 2>/dev/null | grep -q 'libasan'; then
  SAN=(-fsanitize=address,undefined)
fi

PREFIX=$TEST_TMP/prefix
cmake --install "$CARTO_AUTH_BUILD_DIR" --prefix "$PREFIX" >"$TEST_TMP/install.log" 2>&1 || {
  cat "$TEST_TMP/install.log" >&2
  exit 1
}
# GNUInstallDirs gives lib (or lib64, or lib/<multiarch> for prefix /usr).
LIBDIR=
for d in lib lib64 lib/x86_64-linux-gnu lib/aarch64-linux-gnu; do
  if [ -e "$PREFIX/$d/pkgconfig/carto-auth.pc" ]; then LIBDIR=$PREFIX/$d; break; fi
done
if [ -z "$LIBDIR" ]; then
  LIBDIR=$(dirname "$(dirname "$(find "$PREFIX" -name carto-auth.pc | head -n 1)")")
fi
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
unset PKG_CONFIG_LIBDIR

standin_start
make_creds_file "$TEST_TMP/creds.json" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"

# --- installed layout (SPEC, Pieces) ---------------------------------------------

case_layout() {
  assert_file_exists "$PREFIX/bin/carto-auth"
  [ -x "$PREFIX/bin/carto-auth" ] || { echo "bin/carto-auth is not executable" >&2; return 1; }
  [ -L "$PREFIX/bin/git-credential-carto" ] || { echo "bin/git-credential-carto is not a link" >&2; return 1; }
  assert_eq carto-auth "$(readlink "$PREFIX/bin/git-credential-carto")" "git-credential-carto -> carto-auth"
  assert_file_exists "$LIBDIR/libcarto-auth.so"
  assert_file_exists "$LIBDIR/libcarto-auth.a"
  assert_file_exists "$PREFIX/include/carto-auth/carto_auth.h"
  assert_file_exists "$LIBDIR/pkgconfig/carto-auth.pc"
  assert_file_exists "$PREFIX/share/man/man1/carto-auth.1"
  assert_file_exists "$PREFIX/share/bash-completion/completions/carto-auth"
  assert_file_exists "$PREFIX/share/carto-auth/python/carto_auth/__init__.py"
}
t_case "cmake --install gives SPEC's pieces" case_layout

case_installed_runs() {
  assert_exit 0 "$PREFIX/bin/carto-auth" --version
  assert_match "$OUT" '^carto-auth [0-9]+\.[0-9]+\.[0-9]+$'
  _t_capture $'credentials_file='"$TEST_TMP/creds.json"$'\n\n' "$PREFIX/bin/git-credential-carto" get
  assert_rc 0
  assert_match "$(kv_get "$OUT" password)" '^eyJ' "the installed helper (as git-credential-carto) gets a token"
}
t_case "the installed helper runs, also as git-credential-carto" case_installed_runs

case_exports() {
  local others
  others=$(nm -D --defined-only "$LIBDIR/libcarto-auth.so" | awk '$2 ~ /^[TDRBVW]$/ {print $3}' |
    grep -v '^carto_auth_' || true)
  assert_empty "$others" "the shared library exports only carto_auth_*"
}
t_case "libcarto-auth.so exports only carto_auth_* symbols" case_exports

# --- the public header alone -----------------------------------------------------------

case_header_c() {
  local std
  printf '#include <carto-auth/carto_auth.h>\nint main(void) { return carto_auth_version() == 0; }\n' >"$TEST_TMP/h.c"
  for std in c99 c11 gnu17; do
    "$CC" -std=$std -Wall -Wextra -pedantic -Werror -I"$PREFIX/include" -c "$TEST_TMP/h.c" \
      -o "$TEST_TMP/h.o" || { echo "the header does not compile alone as $std" >&2; return 1; }
  done
}
t_case "the public header compiles alone: -Wall -Wextra -pedantic -Werror (C99, C11)" case_header_c

case_header_cxx() {
  if ! command -v "${CXX:-g++}" >/dev/null; then
    echo "no C++ compiler; skipped" >&2
    return 0
  fi
  printf '#include <carto-auth/carto_auth.h>\nint main() { carto_auth *a = 0; carto_auth_free(a); return 0; }\n' >"$TEST_TMP/h.cc"
  "${CXX:-g++}" -std=c++11 -Wall -Wextra -pedantic -Werror -I"$PREFIX/include" -c "$TEST_TMP/h.cc" \
    -o "$TEST_TMP/hcc.o"
}
t_case "the public header compiles as C++ too" case_header_cxx

# --- the example, built through pkg-config ------------------------------------------------

EXAMPLE=$TEST_TMP/example

# in_prefix FLAG FILE FLAGS...: whether one -I/-L directory of FLAGS holds
# FILE and lies in $PREFIX (the .pc file may name it relative to itself).
in_prefix() {
  local flag=$1 file=$2 word dir real_prefix
  shift 2
  real_prefix=$(realpath "$PREFIX")
  for word in "$@"; do
    [[ $word == "$flag"* ]] || continue
    dir=${word#"$flag"}
    if [ -e "$dir/$file" ] && [[ $(realpath "$dir") == "$real_prefix"/* ]]; then
      return 0
    fi
  done
  return 1
}

case_build_example() {
  local flags
  flags=$(pkg-config --cflags --libs carto-auth)
  # shellcheck disable=SC2086
  in_prefix -I carto-auth/carto_auth.h $flags ||
    { echo "pkg-config --cflags does not point into $PREFIX: $flags" >&2; return 1; }
  # shellcheck disable=SC2086
  in_prefix -L libcarto-auth.so $flags ||
    { echo "pkg-config --libs does not point into $PREFIX: $flags" >&2; return 1; }
  assert_contains "$flags" "-lcarto-auth"
  # shellcheck disable=SC2086
  "$CC" "${SAN[@]}" -std=c11 -Wall -Wextra -Werror "$SRC/tests/capi/example.c" $flags -o "$EXAMPLE"
  assert_file_exists "$EXAMPLE"
}
t_case "example.c builds with \$(pkg-config --cflags --libs carto-auth)" case_build_example

run_example() { _t_capture "" env LD_LIBRARY_PATH="$LIBDIR" "$EXAMPLE" "$@"; }

case_run_example() {
  run_example "$TEST_TMP/creds.json"
  assert_rc 0
  assert_contains "$OUT" "library: "
  assert_match "$OUT" 'token: eyJ[^ ]*\.\.\. \([0-9]+ bytes\)'
  assert_contains "$OUT" "api_base_url: $STANDIN_URL"
  assert_contains "$OUT" "dw_project: carto-dw-ac-demo1234"
  assert_eq 1 "$(standin_requests /oauth/token)" "one token request"
  assert_eq 1 "$(standin_requests /v3/connections/carto-dw/token)"
  assert_empty "$ERR"
  assert_file_mode "$CARTO_AUTH_HOME/token_m2m.json" 600
  kv_get "$(sed 's/: /=/' <<<"$OUT")" expiration >"$TEST_TMP/expiration"
}
t_case "the example gets a token, the API base URL and DW credentials" case_run_example

case_second_run_cached() {
  run_example "$TEST_TMP/creds.json"
  assert_rc 0
  assert_eq 1 "$(standin_requests /oauth/token)" "the second run made no token request"
  assert_eq "$(cat "$TEST_TMP/expiration")" "$(kv_get "$(sed 's/: /=/' <<<"$OUT")" expiration)" \
    "the same (stored) token"
}
t_case "a second run uses the stored token" case_second_run_cached

case_shared_with_helper() {
  run_helper "" token --m2m "$TEST_TMP/creds.json"
  assert_rc 0
  assert_eq 1 "$(standin_requests /oauth/token)" "the helper uses the library's token"
}
t_case "the library and the helper share the store" case_shared_with_helper

case_example_errors() {
  printf '{"api_base_url": "%s", "client_id": "x"}\n' "$STANDIN_URL" >"$TEST_TMP/bad.json"
  run_example "$TEST_TMP/bad.json"
  assert_rc 1
  assert_eq "example: reading the credentials file: missing attribute client_secret in $TEST_TMP/bad.json (code -3)" "$ERR"
  make_creds_file "$TEST_TMP/unknown.json" unknown-client-0009 some-secret-0009 "$STANDIN_URL"
  run_example "$TEST_TMP/unknown.json"
  assert_rc 1
  assert_contains "$ERR" "example: getting a token: "
  assert_contains "$ERR" "refused"
  assert_contains "$ERR" "(code -5)"
  assert_not_contains "$ERR" some-secret-0009
}
t_case "errors: carto_auth_last_error() and the code say what went wrong" case_example_errors

# The library follows SPEC's renewal margin when min_ttl is left at 0:
# a 120 s token is reused while half its life is left, by a new handle
# each time (a plugin that makes one per request), not renewed per call.
case_margin_default() {
  cat >"$TEST_TMP/margin.c" <<'EOC'
#include <carto-auth/carto_auth.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct carto_auth_options opts;
	char first[4096] = "";
	int i;

	memset(&opts, 0, sizeof(opts)); /* min_ttl 0: the default margin */
	opts.cache_file = argv[2];
	for (i = 0; i < 4; i++) {
		struct carto_auth *auth = NULL;
		const char *token;
		long long exp;
		int64_t e;

		if (carto_auth_from_m2m(&auth, argv[1], &opts) ||
		    carto_auth_access_token(auth, &token, &e)) {
			fprintf(stderr, "margin: %s\n", carto_auth_last_error());
			carto_auth_free(auth);
			return 1;
		}
		exp = (long long)e;
		if (!i)
			snprintf(first, sizeof(first), "%s", token);
		printf("call %d: %s token, %lld\n", i + 1, strcmp(first, token) ? "another" : "the first", exp);
		carto_auth_free(auth);
	}
	(void)argc;
	return 0;
}
EOC
  # shellcheck disable=SC2046
  "$CC" "${SAN[@]}" -std=c11 -Wall -Wextra -Werror "$TEST_TMP/margin.c" \
    $(pkg-config --cflags --libs carto-auth) -o "$TEST_TMP/margin"
  local before
  standin_fault '{"path": "/oauth/token", "kind": "expires_in", "value": 120, "count": 0}'
  before=$(standin_requests /oauth/token)
  _t_capture "" env LD_LIBRARY_PATH="$LIBDIR" "$TEST_TMP/margin" "$TEST_TMP/creds.json" "$TEST_TMP/margin-token.json"
  local after
  after=$(standin_requests /oauth/token)
  standin_reset # the fault lasts until a reset
  assert_rc 0
  assert_empty "$ERR"
  assert_eq 4 "$(grep -c 'the first token' <<<"$OUT")" "4 calls, one token: $OUT"
  assert_eq $((before + 1)) "$after" "one token request for 4 calls"
}
t_case "min_ttl 0: a 120 s token is reused while half its life is left" case_margin_default

case_static() {
  local libs
  # libcarto-auth.a itself, and its dependencies as shared libraries.
  # shellcheck disable=SC2046
  libs=$(pkg-config --libs $(pkg-config --print-requires-private carto-auth))
  # shellcheck disable=SC2086
  # shellcheck disable=SC2046
  "$CC" "${SAN[@]}" -std=c11 $(pkg-config --cflags carto-auth) "$SRC/tests/capi/example.c" \
    "$LIBDIR/libcarto-auth.a" $libs -o "$TEST_TMP/example-static"
  _t_capture "" "$TEST_TMP/example-static" "$TEST_TMP/creds.json"
  assert_rc 0
  assert_contains "$OUT" "dw_project: carto-dw-ac-demo1234"
}
t_case "the example links with libcarto-auth.a (dependencies shared)" case_static

t_done
