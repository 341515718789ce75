#!/bin/bash
# libcarto-auth as a guest in its host program (SPEC, "Process and library
# hygiene"): host programs in C (tests/host/) linked with the shared and
# the static library of this build, against the stand-in.
#  - host_guest.c: the host uses cJSON (with its own allocator hooks) and
#    libcurl itself, initialised before the library; after a carto_auth_*
#    call its JSON and its requests still work.
#  - host_clash.c: the host defines functions named as the library's
#    internals; its own are the ones called, and the library still works.
#  - only carto_auth_* is exported by libcarto-auth.so and libcarto-auth.a.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

SRC=${CARTO_AUTH_SOURCE_DIR:-$(cd "$TESTS_DIR/.." && pwd)}
CC=${CC:-cc}
if [ -z "${CARTO_AUTH_LIB:-}" ]; then
  echo "CARTO_AUTH_LIB is not set (run through ctest)" >&2
  exit 1
fi
command -v "$CC" >/dev/null || t_skip_all "no C compiler ($CC)"
command -v pkg-config >/dev/null || t_skip_all "no pkg-config"
LIBDIR=$(dirname "$CARTO_AUTH_LIB")
ARCHIVE=$LIBDIR/libcarto-auth.a

# A library built with sanitizers needs programs built with them too.
SAN=()
if readelf -d "$CARTO_AUTH_LIB" 2>/dev/null | grep -q 'libasan'; then
  SAN=("-fsanitize=address,undefined")
elif readelf -d "$CARTO_AUTH_LIB" 2>/dev/null | grep -q 'libtsan'; then
  SAN=(-fsanitize=thread)
fi
# shellcheck disable=SC2207
HOST_LIBS=($(pkg-config --libs libcjson libcurl) -lpthread)
# The static library's own dependencies, as shared libraries.
# shellcheck disable=SC2207
STATIC_DEPS=($(pkg-config --libs libcurl libcrypto libcjson yaml-0.1 libsecret-1 libgcrypt) -lpthread)
CFLAGS=(-std=gnu11 -Wall -Wextra -Werror -g -I"$SRC/include" "${SAN[@]}")

# build NAME SOURCE shared|static
build() {
  local name=$1 src=$2 kind=$3
  if [ "$kind" = shared ]; then
    "$CC" "${CFLAGS[@]}" "$src" -o "$TEST_TMP/$name" -L"$LIBDIR" -lcarto-auth \
      -Wl,-rpath,"$LIBDIR" "${HOST_LIBS[@]}"
  else
    "$CC" "${CFLAGS[@]}" "$src" -o "$TEST_TMP/$name" "$ARCHIVE" "${STATIC_DEPS[@]}"
  fi
}

standin_start
make_creds_file "$TEST_TMP/creds.json" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"

# --- the host's cJSON and libcurl ------------------------------------------------

case_guest() {
  local kind=$1
  rm -rf "$CARTO_AUTH_HOME"
  build "guest-$kind" "$SRC/tests/host/host_guest.c" "$kind"
  _t_capture "" "$TEST_TMP/guest-$kind" "$TEST_TMP/creds.json" "$STANDIN_URL/"
  assert_rc 0
  assert_eq "host: ok" "$OUT"
}
t_case "a host's own cJSON hooks and libcurl survive a call (shared library)" case_guest shared
t_case "a host's own cJSON hooks and libcurl survive a call (static library)" case_guest static

# --- names: only carto_auth_* -------------------------------------------------------

# The defined global symbols of a file (nm's T, D, B, R, V, W...), one a line.
exported() { nm -g --defined-only "$1" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u; }

case_exports() {
  local file=$1 others
  others=$(exported "$file" | grep -v '^carto_auth_' || true)
  assert_nonempty "$(exported "$file" | grep '^carto_auth_access_token$')" "$file exports the API"
  assert_empty "$others" "$(basename "$file") exports only carto_auth_*"
}
t_case "libcarto-auth.so exports only carto_auth_*" case_exports "$CARTO_AUTH_LIB"
t_case "libcarto-auth.a exports only carto_auth_*" case_exports "$ARCHIVE"

case_clash() {
  local kind=$1
  rm -rf "$CARTO_AUTH_HOME"
  build "clash-$kind" "$SRC/tests/host/host_clash.c" "$kind"
  _t_capture "" "$TEST_TMP/clash-$kind" "$TEST_TMP/creds.json"
  assert_rc 0
  assert_eq "host: ok" "$OUT"
}
t_case "a host that defines the library's internal names links and runs (shared)" case_clash shared
t_case "a host that defines the library's internal names links and runs (static)" case_clash static

t_done
