#!/bin/bash
# Concurrency: one lock per identity serialises renewals, and one renewal
# serves every caller that waited (docs/reliability.md, "Concurrency").
#
# Parallel callers are made to really overlap: the stand-in delays (2-3 s) the one
# token request that should happen, so every other caller is either waiting
# on the identity's lock or starting while it is held.  The debug trace
# (CARTO_AUTH_DEBUG=1) says which path each caller took.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/reliability_lib.sh"

standin_start
CREDS=$TEST_TMP/creds.json
make_creds_file "$CREDS" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
M2M=$'credentials_file='"$CREDS"$'\n\n'
OAUTH=$'mode=oauth\napi_base_url='"$STANDIN_URL"$'\ninteractive=false\n\n'
# The renewal cases store a 100 s token: without min_ttl it is reused while
# 50 s (half its lifetime) are left, so they ask for the 300 s margin.
M2M_300=$'credentials_file='"$CREDS"$'\nmin_ttl=300\n\n'
OAUTH_300=$'mode=oauth\napi_base_url='"$STANDIN_URL"$'\ninteractive=false\nmin_ttl=300\n\n'

# -- the lock wait is bounded: started first, checked last (it takes 61 s) ----
# A live holder keeps the identity's lock (flock(1) on the lock file) longer
# than any carto-auth would; a caller with login_timeout=1 gives up after
# login_timeout + 60 s with a clear message.
LOCKHOME=$TEST_TMP/lockhome
CARTO_AUTH_HOME=$LOCKHOME run_helper "$M2M" get   # creates the lock file
[ "$RC" = 0 ] || { echo "setup get failed: $ERR" >&2; exit 1; }
LOCKFILE=$(ls "$LOCKHOME"/locks/m2m-*.lock)
"$PYTHON" -c 'import fcntl, sys, time
f = open(sys.argv[1])
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(75)' "$LOCKFILE" "$TEST_TMP/holder.locked" &
HOLDER=$!
on_exit "kill $HOLDER 2>/dev/null"
wait_until 10 test -f "$TEST_TMP/holder.locked"
LOCKWAIT_T0=$(now_ms)
(
  set +e
  CARTO_AUTH_HOME=$LOCKHOME CARTO_AUTH_DEBUG=0 timeout 120 "$CARTO_AUTH" get \
    <<<$'credentials_file='"$CREDS"$'\nuse_cache=false\nlogin_timeout=1\n' \
    >"$TEST_TMP/lockwait.out" 2>"$TEST_TMP/lockwait.err"
  rc=$?
  echo $(($(date +%s%3N) - LOCKWAIT_T0)) >"$TEST_TMP/lockwait.ms"
  echo $rc >"$TEST_TMP/lockwait.rc"
) &


# parallel N NAME STDIN: N gets at once; waits for all; keeps their output.
parallel() {
  local n=$1 name=$2 input=$3 i
  for ((i = 1; i <= n; i++)); do
    run_helper_bg "$name.$i" "$input" get
  done
  wait_helpers
}

# check_parallel N NAME: all succeeded with one token; prints it.  Also
# checks the trace: exactly one caller asked the server, every other one
# used the token it stored (after waiting on the lock, or from the cache).
check_parallel() {
  local n=$1 name=$2 i tok first='' renewed=0 waited=0 hit=0
  for ((i = 1; i <= n; i++)); do
    helper_result "$name.$i"
    assert_rc 0 "caller $i"
    tok=$(kv_get "$OUT" password)
    [ -n "$first" ] || first=$tok
    assert_eq "$first" "$tok" "caller $i got the same token"
    case $ERR in *"new token from the server"*) renewed=$((renewed + 1)) ;; esac
    case $ERR in *"another process renewed the token meanwhile"*) waited=$((waited + 1)) ;; esac
    case $ERR in *"broker: cache hit"*) hit=$((hit + 1)) ;; esac
    assert_no_known_secret "$ERR"
  done
  assert_eq 1 "$renewed" "one caller renewed"
  assert_eq $((n - 1)) $((waited + hit)) "the others used its token"
  echo "  $n callers: 1 renewed, $waited waited on the lock, $hit read the cache afterwards" >&2
  printf '%s\n' "$first" >"$TEST_TMP/$name.token"
}

case_empty_store() {
  export CARTO_AUTH_HOME=$TEST_TMP/empty CARTO_AUTH_DEBUG=1
  local before
  before=$(standin_requests /oauth/token client_credentials)
  standin_fault '{"path": "/oauth/token", "kind": "delay", "seconds": 2}'
  parallel 32 empty "$M2M"
  check_parallel 32 empty
  assert_eq $((before + 1)) "$(standin_requests /oauth/token client_credentials)" \
    "exactly one token request"
  assert_eq "$(cat "$TEST_TMP/empty.token")" "$(json_file_get "$CARTO_AUTH_HOME/token_m2m.json" access_token)"
  token_files_whole "$CARTO_AUTH_HOME" >/dev/null
  keep_bg
}
t_case "32 parallel gets on an empty store: one token request, one token" case_empty_store

case_expiring_token() {
  export CARTO_AUTH_HOME=$TEST_TMP/expiring CARTO_AUTH_DEBUG=1
  local before old
  # A stored token with 100 s left: under min_ttl=300.
  standin_fault '{"path": "/oauth/token", "kind": "expires_in", "value": 100}'
  run "$M2M" get
  assert_rc 0
  old=$(kv_get "$OUT" password)
  before=$(standin_requests /oauth/token client_credentials)
  standin_fault '{"path": "/oauth/token", "kind": "delay", "seconds": 2}'
  parallel 32 expiring "$M2M_300"
  check_parallel 32 expiring
  assert_ne "$old" "$(cat "$TEST_TMP/expiring.token")" "renewed"
  assert_eq $((before + 1)) "$(standin_requests /oauth/token client_credentials)" \
    "exactly one token request"
  keep_bg
}
t_case "32 parallel gets with an expiring token: one renewal" case_expiring_token

# OAuth: log in once with the scripted browser; the login's token says
# expires_in=100, so it is due for renewal at once with min_ttl=300.
oauth_login() {
  standin_fault '{"path": "/oauth/token", "grant_type": "authorization_code", "kind": "expires_in", "value": 100}'
  run $'mode=oauth\napi_base_url='"$STANDIN_URL"$'\n\n' get
  assert_rc 0 "login"
}

state_get() { json_get "$(standin_state)" "$1"; }

case_oauth_refresh() {
  export CARTO_AUTH_HOME=$TEST_TMP/oauth CARTO_AUTH_DEBUG=1
  local codes refreshes
  oauth_login
  codes=$(standin_requests /oauth/token authorization_code)
  refreshes=$(standin_requests /oauth/token refresh_token)
  standin_fault '{"path": "/oauth/token", "grant_type": "refresh_token", "kind": "delay", "seconds": 2}'
  parallel 16 oauth "$OAUTH_300"
  check_parallel 16 oauth
  assert_eq $((refreshes + 1)) "$(standin_requests /oauth/token refresh_token)" \
    "exactly one refresh_token grant"
  assert_eq "$codes" "$(standin_requests /oauth/token authorization_code)" "no new login"
  assert_eq 0 "$(state_get refresh_reuse_detected)" "no refresh token used twice"
  assert_eq 0 "$(state_get revoked_families)" "no family revoked"
  # The rotated refresh token was stored: the next renewal works.
  run $'mode=oauth\napi_base_url='"$STANDIN_URL"$'\ninteractive=false\nuse_cache=false\n\n' get
  assert_rc 0 "a later refresh with the stored (rotated) refresh token"
  assert_eq 0 "$(state_get refresh_reuse_detected)"
  keep_bg
}
t_case "16 parallel OAuth gets: one refresh grant, no refresh token reused" case_oauth_refresh

# min_ttl above what the server grants (86400 s): every stored token is
# "due", yet the callers that waited take the one renewed meanwhile.
case_oauth_min_ttl_above_lifetime() {
  export CARTO_AUTH_HOME=$TEST_TMP/oauth CARTO_AUTH_DEBUG=1
  local refreshes
  refreshes=$(standin_requests /oauth/token refresh_token)
  # A caller that started after the renewal would rightly renew again (its
  # token is under min_ttl): the server's 10 s delay keeps all 16 inside it,
  # even sanitizer builds on a loaded machine.
  standin_fault '{"path": "/oauth/token", "grant_type": "refresh_token", "kind": "delay", "seconds": 10}'
  parallel 16 ttl $'mode=oauth\napi_base_url='"$STANDIN_URL"$'\ninteractive=false\nmin_ttl=90000\n\n'
  check_parallel 16 ttl
  assert_eq $((refreshes + 1)) "$(standin_requests /oauth/token refresh_token)" \
    "one refresh_token grant although min_ttl > the token's lifetime"
  assert_eq 0 "$(state_get refresh_reuse_detected)"
  keep_bg
}
t_case "min_ttl above the server's lifetime: still one renewal for all waiters" case_oauth_min_ttl_above_lifetime

requests_above() { [ "$(standin_requests /oauth/token)" -gt "$1" ]; }

# A caller killed (kill -9) while it holds the lock, waiting on the server.
case_lock_released_on_kill() {
  export CARTO_AUTH_HOME=$TEST_TMP/killed
  local pid before lock t0 ms
  run "$M2M" get
  assert_rc 0
  lock=$(ls "$CARTO_AUTH_HOME"/locks/m2m-*.lock)
  before=$(standin_requests /oauth/token)
  standin_fault '{"path": "/oauth/token", "kind": "hang", "seconds": 60}'
  "$CARTO_AUTH" get <<<$'credentials_file='"$CREDS"$'\nuse_cache=false\n' \
    >"$TEST_TMP/killed.out" 2>"$TEST_TMP/killed.err" &
  pid=$!
  wait_until 10 requests_above "$before"
  # It holds the lock now.
  if flock -n "$lock" true; then echo "the lock is not held" >&2; return 1; fi
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  keep_output "$TEST_TMP/killed.out" "$TEST_TMP/killed.err"
  flock -n "$lock" true || { echo "the lock outlived its holder" >&2; return 1; }
  t0=$(now_ms)
  run $'credentials_file='"$CREDS"$'\nuse_cache=false\n\n' get
  ms=$(elapsed_since "$t0")
  assert_rc 0 "a new get after the kill"
  assert_between 0 3000 "$ms" "the new get did not wait for the dead holder (ms)"
  assert_eq $((before + 2)) "$(standin_requests /oauth/token)"
  token_files_whole "$CARTO_AUTH_HOME" >/dev/null
}
t_case "a lock is released when its holder is killed (kill -9)" case_lock_released_on_kill

case_lock_wait_bounded() {
  local rc ms
  wait_until 90 test -s "$TEST_TMP/lockwait.rc"
  rc=$(cat "$TEST_TMP/lockwait.rc")
  ms=$(cat "$TEST_TMP/lockwait.ms")
  RC=$rc OUT=$(cat "$TEST_TMP/lockwait.out") ERR=$(cat "$TEST_TMP/lockwait.err")
  keep_output "$TEST_TMP/lockwait.out" "$TEST_TMP/lockwait.err"
  assert_failure "timed out after 61 s waiting for another carto-auth"
  assert_between 60500 66000 "$ms" "gave up after login_timeout + 60 s (ms)"
  echo "  gave up after $ms ms" >&2
}
t_case "a lock held by a live process blocks at most login_timeout + 60 s" case_lock_wait_bounded

t_case "no secret in any stderr of this script" case_no_secret_anywhere
t_done
