#!/bin/bash
# The keyring in a host program: the library changes nothing process-wide
# that its host owns (SPEC "Process and library hygiene") and every call is
# bounded in time, inside a private keyring session (tests/keyring_session.sh).
#   - a child forked after the keyring was used cannot use GLib's D-Bus:
#     its keyring call fails at once with a clear message (auto mode takes
#     the file store), never hangs (tests/host/fork_host.c);
#   - the host's SIGPIPE disposition survives GIO's socket set-up
#     (tests/host/sigpipe_host.c);
#   - the host's shared GLib session bus connection keeps its exit-on-close
#     setting: the keyring talks on a connection of its own
#     (tests/host/glib_bus_host.c);
#   - a long-lived host that makes 200 handles gives back what each one
#     took: descriptors and threads stay flat (tests/host/handles_host.c).
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
pkg-config --exists gio-2.0 || t_skip_all "no gio-2.0 development files"

# A library built with sanitizers needs programs built with them too.
SAN=()
if readelf -d "$CARTO_AUTH_LIB" 2>/dev/null | grep -q 'libasan'; then
  SAN=(-fsanitize=address,undefined)
fi
LIBDIR=$(dirname "$CARTO_AUTH_LIB")
build_host() {
  local name=$1; shift
  "$CC" "${SAN[@]}" -std=gnu11 -Wall -Wextra -Werror -I"$SRC/include" \
    "$SRC/tests/host/$name.c" -L"$LIBDIR" -lcarto-auth -Wl,-rpath,"$LIBDIR" \
    "$@" -o "$TEST_TMP/$name"
}
build_host fork_host
# shellcheck disable=SC2046
build_host glib_fork_host $(pkg-config --cflags --libs gio-2.0)
build_host sigpipe_host
# shellcheck disable=SC2046
build_host glib_bus_host $(pkg-config --cflags --libs gio-2.0)
build_host handles_host

standin_start
make_creds_file "$TEST_TMP/creds.json" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
make_creds_file "$TEST_TMP/creds2.json" "$STANDIN_CLIENT_2" "$STANDIN_SECRET_2" "$STANDIN_URL"

# The child of a host that used the keyring: CARTO_AUTH_STORE=keyring fails
# at once (CARTO_AUTH_EKEYRING, -6) and says why; it does not wait for a
# bus that cannot answer.
case_fork_keyring_fails_fast() {
  export CARTO_AUTH_STORE=keyring FORK_HOST_ALARM=20
  local t0=$SECONDS
  assert_exit 1 "$TEST_TMP/fork_host" "$TEST_TMP/creds.json"
  echo "$OUT"
  assert_contains "$OUT" "parent-2: rc=0" "the parent uses the keyring"
  assert_match "$OUT" "child: rc=-6 after 0\.[0-9]+ s: .*fork" "the child fails at once, saying why"
  assert_not_contains "$OUT" "killed by signal" "the child does not hang"
  [ $((SECONDS - t0)) -lt 10 ] || { echo "took $((SECONDS - t0)) s"; false; }
  assert_eq 1 "$(printf '%s\n' "$OUT" | grep -c '^child:')" "one line for the child"
}
t_case "a forked child's keyring call fails fast with a clear message, never hangs" \
  case_fork_keyring_fails_fast

# Auto mode reacts to it as to a keyring that does not answer: the child
# gets its token through the file store.
case_fork_auto_file_store() {
  export CARTO_AUTH_STORE=auto FORK_HOST_ALARM=20
  rm -rf "$CARTO_AUTH_HOME"   # the file store starts empty
  assert_exit 0 "$TEST_TMP/fork_host" "$TEST_TMP/creds.json"
  echo "$OUT"
  assert_contains "$OUT" "parent-2: rc=0"
  assert_match "$OUT" "child: rc=0 after 0\.[0-9]+ s" "the child gets its token at once"
  assert_file_exists "$CARTO_AUTH_HOME/token_m2m.json" "the file store took over in the child"
}
t_case "auto mode: a forked child falls back to the file store" case_fork_auto_file_store

# Refusing is for a child forked after the keyring was used: a process
# forked before uses it as any process does.
case_fork_before_use() {
  export CARTO_AUTH_STORE=keyring FORK_HOST_ALARM=20 FORK_HOST_PARENT=0
  assert_exit 0 "$TEST_TMP/fork_host" "$TEST_TMP/creds.json"
  echo "$OUT"
  assert_contains "$OUT" "child: rc=0"
}
t_case "a child forked before any keyring use uses the keyring" case_fork_before_use

# A child of a host that used GLib's D-Bus itself is the library's first
# user there: nothing tells it that GDBus cannot answer. Each wait has a
# deadline of its own (5 s to connect), so the call ends, and auto mode
# takes the file store.
case_glib_fork() {
  export CARTO_AUTH_STORE=$1 FORK_HOST_ALARM=20
  rm -rf "$CARTO_AUTH_HOME"   # the file store starts empty
  local t0=$SECONDS want=0
  [ "$1" = keyring ] && want=1
  assert_exit "$want" "$TEST_TMP/glib_fork_host" "$TEST_TMP/creds.json"
  echo "$OUT"
  assert_not_contains "$OUT" "killed by signal" "the child does not hang"
  [ $((SECONDS - t0)) -lt 10 ] || { echo "took $((SECONDS - t0)) s"; false; }
  if [ "$1" = keyring ]; then
    assert_match "$OUT" "child: rc=-6 after [5-7]\.[0-9]+ s: cannot connect to the session bus: no answer within 5 s"
  else
    assert_match "$OUT" "child: rc=0 after"
    assert_file_exists "$CARTO_AUTH_HOME/token_m2m.json" "the file store took over in the child"
  fi
}
t_case "a child forked from a GLib host that used D-Bus: the keyring call ends within its deadline" \
  case_glib_fork keyring
t_case "a child forked from a GLib host that used D-Bus: auto mode takes the file store" \
  case_glib_fork auto

case_sigpipe_kept() {
  export CARTO_AUTH_STORE=$1
  assert_exit 0 "$TEST_TMP/sigpipe_host" "$TEST_TMP/creds.json"
  echo "$OUT"
  assert_contains "$OUT" "SIGPIPE after the library: host handler"
}
t_case "file store: the host's SIGPIPE handler is kept" case_sigpipe_kept file
t_case "keyring store: the host's SIGPIPE handler is kept" case_sigpipe_kept keyring

# The first run stores a new token (libsecret's path), the second reads
# it back (the fast path): neither touches the host's connection.
case_shared_bus_exit_on_close() {
  export CARTO_AUTH_STORE=keyring
  standin_reset
  assert_exit 0 "$TEST_TMP/glib_bus_host" "$TEST_TMP/creds2.json"
  echo "$OUT"
  assert_contains "$OUT" "exit-on-close before: 1, after: 1" "storing through libsecret"
  assert_exit 0 "$TEST_TMP/glib_bus_host" "$TEST_TMP/creds2.json"
  echo "$OUT"
  assert_contains "$OUT" "exit-on-close before: 1, after: 1" "reading through the fast path"
  assert_eq 1 "$(standin_requests /oauth/token)" "one token fetched, then read from the keyring"
}
t_case "the host's shared D-Bus connection keeps its exit-on-close setting" \
  case_shared_bus_exit_on_close

# The executable decides its own SIGPIPE policy (helper/main.c): a reader
# gone before the answer is one line and exit 1 with either store, not a
# silent death by SIGPIPE. (The keyring no longer sets SIG_IGN for it.)
case_executable_reader_gone() {
  export CARTO_AUTH_STORE=$1
  printf 'credentials_file=%s\n\n' "$TEST_TMP/creds.json" >"$TEST_TMP/get.in"
  run_helper "$(cat "$TEST_TMP/get.in")" get   # the token is stored
  assert_rc 0
  # `true` has gone when the answer is written.
  { sleep 0.5; rc=0; "$CARTO_AUTH" get <"$TEST_TMP/get.in" 2>"$TEST_TMP/gone.err" || rc=$?
    echo "$rc" >"$TEST_TMP/gone.rc"; } | true
  cat "$TEST_TMP/gone.err"
  assert_eq 1 "$(cat "$TEST_TMP/gone.rc")" "exit status with the reader gone"
  assert_eq "carto-auth: cannot write the answer to standard output" "$(cat "$TEST_TMP/gone.err")"
}
t_case "the executable, file store: a reader gone before the answer is exit 1 and one line" \
  case_executable_reader_gone file
t_case "the executable, keyring store: a reader gone before the answer is exit 1 and one line" \
  case_executable_reader_gone keyring

# A service makes a handle per request: each handle's own bus connection,
# main contexts and cancellables must go with it. "get" reads the stored
# token (the fast path); "store" fetches a new one each time and stores it
# (libsecret's path, whose fast path read comes first).
case_handles_flat() {
  export CARTO_AUTH_STORE=keyring HANDLES_HOST_LIST=1
  standin_reset
  assert_exit 0 "$TEST_TMP/handles_host" "$TEST_TMP/creds.json" 200 "$1"
  echo "$OUT"
  local f10 t10 fN tN
  f10=$(sed -n 's/^after 10 calls: fds=\([0-9]*\).*/\1/p' <<<"$OUT")
  t10=$(sed -n 's/^after 10 calls: .*threads=\([0-9]*\)/\1/p' <<<"$OUT")
  fN=$(sed -n 's/^after 200 calls: fds=\([0-9]*\).*/\1/p' <<<"$OUT")
  tN=$(sed -n 's/^after 200 calls: .*threads=\([0-9]*\)/\1/p' <<<"$OUT")
  [ -n "$f10" ] && [ -n "$fN" ] || { echo "no counts"; false; }
  assert_eq "$f10" "$fN" "descriptors: as many after 200 calls as after 10"
  assert_eq "$t10" "$tN" "threads: as many after 200 calls as after 10"
  if [ "$1" = store ]; then
    assert_eq 200 "$(standin_requests /oauth/token)" "a token fetched and stored each time"
  fi
}
t_case "200 handles in one process, reading the stored token: open descriptors and threads stay flat" \
  case_handles_flat get
t_case "200 handles in one process, storing a new token each time: open descriptors and threads stay flat" \
  case_handles_flat store

t_done
