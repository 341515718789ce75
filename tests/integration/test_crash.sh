#!/bin/bash
# Crash safety: kill -9 at random moments during renewals always leaves the
# store holding a whole valid token (the old or the new one), mode 600, and
# the temporary files of killed writers are removed by the next write
# (docs/reliability.md, "Crash safety").
#
# CRASH_ITERATIONS (default 100) sets the length of the M2M loop.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/reliability_lib.sh"

ITERATIONS=${CRASH_ITERATIONS:-100}

standin_start
CREDS=$TEST_TMP/creds.json
make_creds_file "$CREDS" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"

temps() { find "$1" -name '*.tmp.*' | wc -l; }

# valid_at_server TOKEN...: each was issued by the stand-in and is still
# valid there (GET /accounts with it answers 200), so it is a whole token.
valid_at_server() {
  local tok
  for tok in "$@"; do
    curl -q -sf --noproxy '*' --max-time 5 -o /dev/null \
      -H "Authorization: Bearer $tok" "$STANDIN_URL/accounts" || {
      echo "  a stored token is not one the server issued" >&2
      return 1
    }
  done
}

# crash_loop N INPUT GRANT [LOGIN_FUNCTION]: N times, start a renewal and
# kill -9 it after a random 0..50 ms, with the server answering after a
# random 0..30 ms; after each kill the store must hold whole tokens, mode
# 600.  With LOGIN_FUNCTION, a run that ends "login needed" (a rotated
# refresh token lost to a kill) is allowed: it must say so in one line, and
# LOGIN_FUNCTION logs in again.  Prints statistics.
crash_loop() {
  local n=$1 input=$2 grant=$3 login=${4:-} i pid rc ms delay killed=0 finished=0 left_temp=0
  local toks relogin=0
  printf '%s' "$input" >"$TEST_TMP/crash.in"
  mkdir -p "$TEST_TMP/crash"
  for ((i = 1; i <= n; i++)); do
    standin_reset
    delay=$(printf '0.%03d' $((RANDOM % 31)))
    standin_fault '{"path": "/oauth/token", "grant_type": "'"$grant"'", "kind": "delay", "seconds": '"$delay"'}'
    ms=$(printf '0.%03d' $((RANDOM % 51)))
    "$CARTO_AUTH" get <"$TEST_TMP/crash.in" >"$TEST_TMP/crash/$i.out" 2>"$TEST_TMP/crash/$i.err" &
    pid=$!
    sleep "$ms"
    kill -9 "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" 2>/dev/null || rc=$?
    keep_output "$TEST_TMP/crash/$i.out" "$TEST_TMP/crash/$i.err"
    case $rc in
      0) finished=$((finished + 1)) ;;
      137) killed=$((killed + 1)) ;;
      1) if [ -z "$login" ] || [ "$(wc -l <"$TEST_TMP/crash/$i.err")" != 1 ] ||
           ! grep -q 'run: carto-auth login' "$TEST_TMP/crash/$i.err"; then
           echo "  iteration $i: exit status 1: $(cat "$TEST_TMP/crash/$i.err")" >&2
           return 1
         fi
         relogin=$((relogin + 1))
         standin_reset
         "$login" ;;
      *) echo "  iteration $i: exit status $rc: $(cat "$TEST_TMP/crash/$i.err")" >&2; return 1 ;;
    esac
    [ "$(temps "$CARTO_AUTH_HOME")" -eq 0 ] || left_temp=$((left_temp + 1))
    # At most the killed writer's own temporary files (one per token file).
    [ "$(temps "$CARTO_AUTH_HOME")" -le 2 ] || {
      echo "  iteration $i: stray temporary files pile up:" >&2
      find "$CARTO_AUTH_HOME" -name '*.tmp.*' >&2
      return 1
    }
    toks=$(token_files_whole "$CARTO_AUTH_HOME") || { echo "  iteration $i" >&2; return 1; }
    [ -n "$toks" ] || { echo "  iteration $i: no token file left" >&2; return 1; }
    # One token per line: split on purpose.
    # shellcheck disable=SC2086
    valid_at_server $toks
  done
  echo "  $n runs: $killed killed (kill -9), $finished finished${login:+, $relogin needed a login}; $left_temp kills left a temporary file behind" >&2
  echo "$left_temp" >"$TEST_TMP/left_temp"
}

case_m2m_crash_loop() {
  export CARTO_AUTH_HOME=$TEST_TMP/m2m
  run $'credentials_file='"$CREDS"$'\n\n' get
  assert_rc 0
  # use_cache=false: every run renews and writes both token files.
  crash_loop "$ITERATIONS" $'credentials_file='"$CREDS"$'\nuse_cache=false\n' client_credentials
  # The next write removes what killed writers left behind.
  run $'credentials_file='"$CREDS"$'\nuse_cache=false\n\n' get
  assert_rc 0
  assert_eq 0 "$(temps "$CARTO_AUTH_HOME")" "no temporary file left after the next write"
  assert_eq "$(kv_get "$OUT" password)" "$(json_file_get "$CARTO_AUTH_HOME/token_m2m.json" access_token)"
  assert_file_mode "$CARTO_AUTH_HOME/token_m2m.json" 600
  assert_file_mode "$CARTO_AUTH_HOME/tokens/$(ls "$CARTO_AUTH_HOME/tokens")" 600
}
t_case "kill -9 at random moments of $ITERATIONS M2M renewals: always a whole token" case_m2m_crash_loop

# With refresh-token rotation a kill after the server rotated the refresh
# token (it did so even if the client died while waiting for the answer)
# but before the new one was stored loses that rotation: the stored refresh
# token is spent, and using it makes the server revoke its family.  No client
# can prevent that; the store must still be whole, and the next call must
# say clearly, in one line, that a login is needed.
oauth_login() {
  run "" login --api-base-url "$STANDIN_URL"
  assert_rc 0 "login"
}

case_oauth_crash_loop() {
  export CARTO_AUTH_HOME=$TEST_TMP/oauth
  oauth_login
  crash_loop 30 $'mode=oauth\napi_base_url='"$STANDIN_URL"$'\ninteractive=false\nuse_cache=false\n' \
    refresh_token oauth_login
  run $'mode=oauth\napi_base_url='"$STANDIN_URL"$'\ninteractive=false\nuse_cache=false\n\n' get
  if [ "$RC" != 0 ]; then
    assert_failure "run: carto-auth login"
    oauth_login
  fi
  assert_eq 0 "$(temps "$CARTO_AUTH_HOME")" "no temporary file left after the next write"
  token_files_whole "$CARTO_AUTH_HOME" >/dev/null
}
t_case "kill -9 during OAuth refreshes: a whole token, then a renewal or a clear login message" case_oauth_crash_loop

# Stray temporary files of dead writers, planted: removed by the next write;
# other files that merely look alike are kept.
case_stray_temps_removed() {
  export CARTO_AUTH_HOME=$TEST_TMP/stray
  local id
  run $'credentials_file='"$CREDS"$'\n\n' get
  assert_rc 0
  id=$(ls "$CARTO_AUTH_HOME/tokens")
  echo '{"access_token": "eyJ.half' >"$CARTO_AUTH_HOME/token_m2m.json.tmp.Ab12Cd"
  echo '{"access_token": "eyJ.half' >"$CARTO_AUTH_HOME/tokens/$id.tmp.zz99ZZ"
  echo 'keep me' >"$CARTO_AUTH_HOME/notes.tmp.abcdef"
  echo 'keep me' >"$CARTO_AUTH_HOME/token_m2m.json.tmp.toolong1"
  run $'credentials_file='"$CREDS"$'\nuse_cache=false\n\n' get
  assert_rc 0
  assert_no_file "$CARTO_AUTH_HOME/token_m2m.json.tmp.Ab12Cd"
  assert_no_file "$CARTO_AUTH_HOME/tokens/$id.tmp.zz99ZZ"
  assert_file_exists "$CARTO_AUTH_HOME/notes.tmp.abcdef" "another file's look-alike is kept"
  assert_file_exists "$CARTO_AUTH_HOME/token_m2m.json.tmp.toolong1" "not mkstemp's pattern: kept"
}
t_case "stray temporary files of dead writers are removed by the next write" case_stray_temps_removed

# A writer holding the folder lock is waited for, and its temporary file is
# not touched while it holds the lock.
case_folder_lock_respected() {
  export CARTO_AUTH_HOME=$TEST_TMP/stray
  local holder t0 ms
  echo 'in progress' >"$CARTO_AUTH_HOME/token_m2m.json.tmp.Live01"
  "$PYTHON" -c 'import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
fcntl.flock(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(3)
# Still held: the temporary file must be there.
sys.exit(0 if os.path.exists(sys.argv[3]) else 3)' "$CARTO_AUTH_HOME" "$TEST_TMP/locked" \
    "$CARTO_AUTH_HOME/token_m2m.json.tmp.Live01" &
  holder=$!
  wait_until 5 test -f "$TEST_TMP/locked"
  t0=$(now_ms)
  run $'credentials_file='"$CREDS"$'\nuse_cache=false\n\n' get
  ms=$(elapsed_since "$t0")
  assert_rc 0
  wait "$holder" || { echo "  the live writer's temporary file was removed" >&2; return 1; }
  assert_between 1000 10000 "$ms" "the write waited for the folder lock (ms)"
  assert_no_file "$CARTO_AUTH_HOME/token_m2m.json.tmp.Live01" "removed once its writer was gone"
}
t_case "a live writer's folder lock is waited for, its temporary file kept" case_folder_lock_respected

t_case "no secret in any stderr of this script" case_no_secret_anywhere
t_done
