#!/bin/bash
# The library changes nothing process-wide that its host owns: GLib's log
# handlers belong to the host program. A host that installs its own
# handler for libsecret's log domain keeps it after libcarto-auth used the
# keyring (tests/capi/glib_log_host.c), inside a private keyring session
# (tests/keyring_session.sh). The executable alone routes libsecret's
# messages to its debug log (keyring/module.h, quiet_logs).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${CARTO_KEYRING_SESSION:-}" ]; then
  exec "$HERE/../keyring_session.sh" bash "$0" "$@"
fi
KEYRING_BUS=$DBUS_SESSION_BUS_ADDRESS
. "$HERE/../lib.sh"
export DBUS_SESSION_BUS_ADDRESS=$KEYRING_BUS   # lib.sh unsets it

SRC=${CARTO_AUTH_SOURCE_DIR:-$(cd "$TESTS_DIR/.." && pwd)}
CC=${CC:-cc}
[ -n "${CARTO_AUTH_LIB:-}" ] || t_skip_all "CARTO_AUTH_LIB is not set (run through ctest)"
command -v "$CC" >/dev/null || t_skip_all "no C compiler ($CC)"
pkg-config --exists glib-2.0 || t_skip_all "no glib-2.0 development files"
command -v secret-tool >/dev/null || t_skip_all "secret-tool is missing (libsecret-tools)"

# A library built with sanitizers needs programs built with them too.
SAN=()
if readelf -d "$CARTO_AUTH_LIB" 2>/dev/null | grep -q 'libasan'; then
  SAN=(-fsanitize=address,undefined)
fi
LIBDIR=$(dirname "$CARTO_AUTH_LIB")
HOST=$TEST_TMP/glib_log_host
# shellcheck disable=SC2046
"$CC" "${SAN[@]}" -std=c11 -Wall -Wextra -Werror -I"$SRC/include" \
  "$SRC/tests/capi/glib_log_host.c" -L"$LIBDIR" -lcarto-auth -Wl,-rpath,"$LIBDIR" \
  $(pkg-config --cflags --libs glib-2.0) -o "$HOST"

standin_start
make_creds_file "$TEST_TMP/creds.json" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"

case_host_handler_kept() {
  export CARTO_AUTH_STORE=keyring
  assert_exit 0 "$HOST" "$TEST_TMP/creds.json"
  assert_contains "$OUT" "host handler kept"
  assert_ne 0 "$(secret-tool search --all xdg:schema com.carto.auth.Token 2>&1 | grep -c '^label = ' || true)" \
    "the token went to the keyring (the keyring path was taken)"
}
t_case "a host's GLib log handler for libsecret survives the library's keyring use" case_host_handler_kept

t_done
