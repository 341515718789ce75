#!/bin/bash
# Process hygiene (SPEC): the executable turns core dumps off and makes
# itself non-dumpable before it reads any secret, so another process of
# the same user cannot read its memory or environment through /proc and
# no core file carries a token. The library leaves that decision to its
# host program.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

command -v setpriv >/dev/null || t_skip_all "setpriv (util-linux) is missing"
[ "$(id -u)" = 0 ] || t_skip_all "needs root to run processes as another user"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# A folder the unprivileged user can reach, with the binary in it.
SHARED=$(mktemp -d /tmp/carto-auth-hygiene.XXXXXX)
on_exit rm -rf "$SHARED"
chmod 755 "$SHARED"
cp "$CARTO_AUTH" "$SHARED/carto-auth"
mkfifo -m 666 "$SHARED/stdin"

# start_waiting CMD...: CMD as nobody, blocked reading an open FIFO; sets PID.
start_waiting() {
  exec 9<>"$SHARED/stdin"
  "${NOBODY[@]}" env -i HOME=/nonexistent CARTO_AUTH_STORE=file CARTO_AUTH_HOME="$SHARED/home" \
    "$@" <"$SHARED/stdin" >/dev/null 2>&1 9>&- &
  PID=$!
  # setpriv and env exec in turn: wait until CMD itself runs and sleeps.
  wait_until 10 waiting_in "$PID" "${1##*/}"
  sleep 0.2
}

# waiting_in PID NAME: PID has exec'd NAME and sleeps (blocked on the FIFO).
waiting_in() {
  [[ $(readlink "/proc/$1/exe" 2>/dev/null) == */"$2" ]] &&
    grep -q "^State:.*S (sleeping)" "/proc/$1/status"
}

stop_waiting() {
  printf '\n' >&9
  exec 9>&-
  wait "$PID" 2>/dev/null || true
}

# read_as_nobody FILE: exit status of reading FILE as the same user.
read_as_nobody() { "${NOBODY[@]}" cat "$1" >/dev/null 2>&1; }

case_control_is_readable() {
  # The check itself works: an ordinary process of that user is readable.
  start_waiting cat
  local rc=0
  read_as_nobody "/proc/$PID/environ" || rc=$?
  stop_waiting
  assert_eq 0 "$rc" "a dumpable process's environ could not be read (the test cannot tell)"
}

case_helper_not_readable() {
  start_waiting "$SHARED/carto-auth" get
  local environ=0 mem=0 limits
  read_as_nobody "/proc/$PID/environ" || environ=$?
  "${NOBODY[@]}" dd if="/proc/$PID/mem" bs=1 count=1 skip=4194304 status=none 2>/dev/null || mem=$?
  limits=$(grep '^Max core file size' "/proc/$PID/limits")
  stop_waiting
  assert_ne 0 "$environ" "another process of the same user read the helper's environment"
  assert_ne 0 "$mem" "another process of the same user read the helper's memory"
  assert_match "$limits" '^Max core file size +0 +0 ' "core dumps are off"
}

case_library_leaves_host_alone() {
  local cc=${CC:-cc} san=() src=$TEST_TMP/host.c
  command -v "$cc" >/dev/null || { echo "no C compiler"; return 0; }
  [ -n "${CARTO_AUTH_LIB:-}" ] || { echo "CARTO_AUTH_LIB is not set"; return 1; }
  if readelf -d "$CARTO_AUTH_LIB" 2>/dev/null | grep -q libasan; then san=(-fsanitize=address,undefined); fi
  cat >"$src" <<'EOC'
#include <carto-auth/carto_auth.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>

int main(void)
{
	struct carto_auth *auth = NULL;
	struct rlimit core = { RLIM_INFINITY, RLIM_INFINITY }, after;

	setrlimit(RLIMIT_CORE, &core);
	getrlimit(RLIMIT_CORE, &core);
	if (carto_auth_from_m2m(&auth, "/nonexistent/creds.json", NULL) == 0)
		carto_auth_free(auth);
	getrlimit(RLIMIT_CORE, &after);
	printf("dumpable=%d core_unchanged=%d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0),
		after.rlim_cur == core.rlim_cur);
	return 0;
}
EOC
  "$cc" "${san[@]}" -I"$CARTO_AUTH_SOURCE_DIR/include" "$src" "$CARTO_AUTH_LIB" \
    -Wl,-rpath,"$(dirname "$CARTO_AUTH_LIB")" -o "$TEST_TMP/host"
  assert_eq "dumpable=1 core_unchanged=1" "$("$TEST_TMP/host")" "the library changed its host's process"
}

t_case "control: another process of the user can read an ordinary process" case_control_is_readable
t_case "the helper's memory and environment are closed to the user's other processes" case_helper_not_readable
t_case "the library leaves dumpability and core limits to its host" case_library_leaves_host_alone
t_done
