#!/bin/bash
# Network faults from the stand-in, and the debug trace (docs/reliability.md,
# "Network faults" and "Debug trace").
#
# Every failing case checks what a user sees: exit status 1, nothing on
# stdout, one clear line on stderr, no secret in it, the stored token files
# byte-for-byte unchanged, and the time it took against the stated bound.
# The bounds come from auth/net/http.c: per attempt a 10 s connect timeout and a
# 30 s total timeout, 3 attempts, backoff 0.5 s then 1 s, Retry-After
# honoured up to 10 s, 60 s for all network work of one call.
# CARTO_AUTH_HTTP_TIMEOUT_MS lowers the per-attempt timeout for the quick
# hang case; two background cases check the real defaults (60 s, 31.5 s).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/reliability_lib.sh"

# Three stand-ins: C hangs (background case), B is the foreign host a
# redirect points to, A (started last, so the helper talks to it) the rest.
standin_start
C_URL=$STANDIN_URL
STANDIN_URL=$C_URL standin_fault '{"path": "/oauth/token", "kind": "hang", "seconds": 120, "count": 0}'
standin_start
B_URL=$STANDIN_URL
standin_start
A_URL=$STANDIN_URL

CREDS=$TEST_TMP/creds.json
make_creds_file "$CREDS" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$A_URL"
CACHED=$'credentials_file='"$CREDS"$'\n\n'
NOCACHE=$'credentials_file='"$CREDS"$'\nuse_cache=false\n\n'

# -- background: the real default bounds -------------------------------------

# bg_timed NAME [VAR=VALUE...]: a get (use_cache=false) in the background with
# its own store, timed; results in $TEST_TMP/NAME.{out,err,rc,ms}.
bg_timed() {
  local name=$1
  shift
  (
    set +e
    t0=$(now_ms)
    env "$@" CARTO_AUTH_HOME="$TEST_TMP/$name.home" timeout 150 "$CARTO_AUTH" get \
      <<<"$NOCACHE" >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err"
    rc=$?
    echo $(($(now_ms) - t0)) >"$TEST_TMP/$name.ms"
    echo $rc >"$TEST_TMP/$name.rc"
  ) &
}

# A server that accepts nothing: its listen queue is full, so new SYNs are
# dropped and connecting hangs until the connect timeout.
"$PYTHON" -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
port = s.getsockname()[1]
fillers = []
for _ in range(4):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", port))
    except BlockingIOError: pass
    fillers.append(c)
open(sys.argv[1] + ".tmp", "w").write(f"{port}\n")
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(90)' "$TEST_TMP/blackhole.port" &
BLACKHOLE=$!
on_exit "kill $BLACKHOLE 2>/dev/null"
wait_until 5 test -s "$TEST_TMP/blackhole.port"

bg_timed hang60 CARTO_AUTH_URL="$C_URL"
bg_timed connect CARTO_AUTH_URL="http://127.0.0.1:$(cat "$TEST_TMP/blackhole.port")"

# -- helpers ------------------------------------------------------------------

run "$CACHED" get
[ "$RC" = 0 ] || { echo "setup: the first get failed: $ERR" >&2; exit 1; }

# fault_get FAULT_JSON [INPUT]: a clean slate at A, the fault(s) (if not
# empty), then a get
# that must ask the server.  Sets OUT, ERR, RC, MS (elapsed) and REQS (token
# requests A received); SNAP holds the store as it was before.
fault_get() {
  standin_reset
  [ -z "$1" ] || standin_fault "$1"
  SNAP=$(store_digest "$CARTO_AUTH_HOME")
  local t0
  t0=$(now_ms)
  run "${2:-$NOCACHE}" get
  MS=$(elapsed_since "$t0")
  REQS=$(standin_requests /oauth/token)
}

# expect_failure MESSAGE REQUESTS MIN_MS MAX_MS
expect_failure() {
  assert_failure "$1"
  assert_eq "$2" "$REQS" "token requests sent"
  assert_between "$3" "$4" "$MS" "elapsed ms"
  assert_eq "$SNAP" "$(store_digest "$CARTO_AUTH_HOME")" "the stored token files are unchanged"
  echo "  $MS ms, $REQS request(s): $ERR" >&2
}

# expect_success REQUESTS MIN_MS MAX_MS
expect_success() {
  assert_rc 0
  assert_match "$(kv_get "$OUT" password)" '^eyJ' "a token is printed"
  assert_eq "$1" "$REQS" "token requests sent"
  assert_between "$2" "$3" "$MS" "elapsed ms"
  echo "  $MS ms, $REQS request(s): success" >&2
}

# -- 5xx and 429 ----------------------------------------------------------------

case_5xx_retried() {
  local st
  for st in 500 502 503; do
    fault_get '{"path": "/oauth/token", "kind": "status", "status": '$st', "count": 2}'
    expect_success 3 1500 4000   # backoff 0.5 s + 1 s
  done
}
t_case "500, 502, 503 twice: retried with backoff, then a token" case_5xx_retried

case_5xx_persisting() {
  local st
  for st in 500 502 503; do
    fault_get '{"path": "/oauth/token", "kind": "status", "status": '$st', "count": 3}'
    expect_failure "token request to 127.0.0.1:${A_URL##*:} failed: the server answered HTTP $st (tried 3 times)" 3 1500 4000
  done
}
t_case "500, 502, 503 persisting: exit 1 after 3 attempts, one clear line" case_5xx_persisting

case_retry_after() {
  fault_get '{"path": "/oauth/token", "kind": "status", "status": 429, "retry_after": "2"}'
  expect_success 2 2000 4000
  fault_get '{"path": "/oauth/token", "kind": "status", "status": 503, "retry_after": "3"}'
  expect_success 2 3000 5000
  # The other form: an HTTP date, here 5 s ahead, read in whole seconds and
  # after the set-up (a second or so on a loaded machine): >= 3 s.
  fault_get '{"path": "/oauth/token", "kind": "status", "status": 503, "retry_after": "'"$(date -u -d "@$(($(date +%s) + 5))" '+%a, %d %b %Y %H:%M:%S GMT')"'"}'
  expect_success 2 2900 7500
}
t_case "429 and 503 with Retry-After (seconds or a date): the wait is honoured" case_retry_after

case_retry_after_cap() {
  fault_get '{"path": "/oauth/token", "kind": "status", "status": 429, "retry_after": "999999"}'
  expect_success 2 10000 12500   # HTTP_RETRY_AFTER_CAP_S = 10
}
t_case "a huge Retry-After is capped at 10 s" case_retry_after_cap

case_429_persisting() {
  fault_get '{"path": "/oauth/token", "kind": "status", "status": 429, "retry_after": "1", "count": 3}'
  expect_failure "failed: the server answered HTTP 429 (tried 3 times)" 3 2000 4000
}
t_case "429 persisting: exit 1 after 3 attempts" case_429_persisting

# -- no answer, broken answers ---------------------------------------------------

case_hang() {
  # 3 attempts of 1.5 s, backoff 0.5 s and 1 s: 6 s.
  export CARTO_AUTH_HTTP_TIMEOUT_MS=1500
  fault_get '{"path": "/oauth/token", "kind": "hang", "seconds": 60, "count": 0}'
  expect_failure "Operation timed out after " 3 5500 8500
  # libcurl reports when it noticed the time-out: a millisecond early
  # (1499 ms was seen) or late by however long a loaded machine kept it.
  assert_match "$ERR" "Operation timed out after ([0-9]+) milliseconds with 0 bytes received \(tried 3 times\)"
  assert_between 1400 5000 "${BASH_REMATCH[1]}" "the attempt's reported time-out (ms)"
  standin_reset
}
t_case "a server that never answers: each attempt ends at its timeout (lowered to 1.5 s)" case_hang

case_reset() {
  fault_get '{"path": "/oauth/token", "kind": "reset"}'
  expect_success 2 400 3000
  fault_get '{"path": "/oauth/token", "kind": "reset", "count": 3}'
  expect_failure "Connection reset by peer (tried 3 times)" 3 1500 4000
}
t_case "a connection reset: retried; persisting, a clear error" case_reset

case_truncated() {
  fault_get '{"path": "/oauth/token", "kind": "truncate"}'
  expect_success 2 400 3000
  fault_get '{"path": "/oauth/token", "kind": "truncate", "count": 3}'
  expect_failure "transfer closed with" 3 1500 4000
  assert_contains "$ERR" "(tried 3 times)"
}
t_case "a truncated body: retried; persisting, a clear error; never stored" case_truncated

case_nonjson() {
  fault_get '{"path": "/oauth/token", "kind": "nonjson"}'
  expect_failure "token request failed: the answer is not JSON" 1 0 2000
}
t_case "a 200 that is not JSON: refused, not retried, not stored" case_nonjson

case_wrongtypes() {
  fault_get '{"path": "/oauth/token", "kind": "wrongtypes"}'
  expect_failure "token request failed: the answer has no valid access_token" 1 0 2000
}
t_case "JSON with wrong types: refused, not stored" case_wrongtypes

case_big() {
  fault_get '{"path": "/oauth/token", "kind": "big"}'
  expect_failure "the answer is larger than 1048576 bytes (1 MiB); refused without parsing it" 1 0 3000
}
t_case "a 5 MB answer: refused without being parsed" case_big

case_redirect() {
  local st
  for st in 302 307 308; do
    fault_get '{"path": "/oauth/token", "kind": "redirect", "status": '$st', "url": "'"$B_URL"'/oauth/token"}'
    expect_failure "failed: unexpected redirect (HTTP $st), not followed" 1 0 2000
  done
  assert_eq 0 "$(STANDIN_URL=$B_URL standin_requests)" "the other host received nothing"
}
t_case "a redirect to another host: not followed, nothing (no secret) sent there" case_redirect

case_refused_connection() {
  local port
  port=$(free_port)
  standin_reset
  SNAP=$(store_digest "$CARTO_AUTH_HOME")
  local t0
  t0=$(now_ms)
  CARTO_AUTH_URL=http://127.0.0.1:$port run "$NOCACHE" get
  MS=$(elapsed_since "$t0")
  REQS=0
  expect_failure "Couldn't connect to server (tried 3 times)" 0 1500 4000
}
t_case "nobody listening: 3 attempts with backoff, then a clear error" case_refused_connection

# -- OAuth: a failing refresh keeps the refresh token ---------------------------------

case_oauth_refresh_fails() {
  export CARTO_AUTH_HOME=$TEST_TMP/oauth
  standin_reset
  standin_fault '{"path": "/oauth/token", "grant_type": "authorization_code", "kind": "expires_in", "value": 100}'
  run $'mode=oauth\napi_base_url='"$A_URL"$'\n\n' get
  assert_rc 0 "login"
  # A 100 s token is due for renewal with min_ttl=300 (without it, only
  # once less than half its lifetime is left).
  local input=$'mode=oauth\napi_base_url='"$A_URL"$'\ninteractive=false\nmin_ttl=300\n\n'
  # The refresh token is single-use (rotation): once the request may have
  # reached the server, it is not sent again (docs/reliability.md).
  local once="; not retried, as it carries a single-use secret the server may already have used"
  fault_get '{"path": "/oauth/token", "kind": "status", "status": 503, "count": 3}' "$input"
  expect_failure "token renewal to 127.0.0.1:${A_URL##*:} failed: the server answered HTTP 503$once" 1 0 5000
  fault_get '{"path": "/oauth/token", "kind": "reset", "count": 3}' "$input"
  expect_failure "Connection reset by peer$once" 1 0 5000
  # Once the server is back, the kept refresh token renews.
  fault_get "" "$input"
  expect_success 1 0 3000
  assert_eq "refresh_token" "$(standin_last_form grant_type)"
  # A 429 means the grant was not processed: retried after Retry-After.
  # (The renewed token has a day left: min_ttl beyond that renews it again.)
  input=$'mode=oauth\napi_base_url='"$A_URL"$'\ninteractive=false\nmin_ttl=90000\n\n'
  fault_get '{"path": "/oauth/token", "kind": "status", "status": 429, "retry_after": "1", "count": 1}' "$input"
  expect_success 2 900 3000
  assert_eq "refresh_token" "$(standin_last_form grant_type)"
}
t_case "OAuth: a failing refresh is tried once (429 again), keeps the stored token and its refresh token" case_oauth_refresh_fails

# -- debug trace --------------------------------------------------------------------

# every_line_is_protocol TEXT: stdout carries only key=value lines.
every_line_is_protocol() {
  local line re='^[][a-z_]+='
  while IFS= read -r line; do
    [[ $line =~ $re ]] || { echo "  not a protocol line on stdout: $line" >&2; return 1; }
  done <<<"$1"
}

case_debug_m2m() {
  export CARTO_AUTH_HOME=$TEST_TMP/debug
  standin_reset
  CARTO_AUTH_DEBUG=1 run "$CACHED" get
  assert_rc 0
  every_line_is_protocol "$OUT"
  assert_contains "$ERR" "carto-auth: debug: store: using the file store (CARTO_AUTH_STORE=file)"
  assert_contains "$ERR" "debug: broker: cache miss (file store)"
  assert_contains "$ERR" "debug: broker: identity lock taken after"
  assert_match "$ERR" "debug: http: POST 127\.0\.0\.1:[0-9]+ -> HTTP 200 \([0-9]+ ms, attempt 1\)"
  assert_contains "$ERR" "debug: broker: new token from the server, "
  assert_contains "$ERR" "debug: file store: token saved to $CARTO_AUTH_HOME/tokens/m2m-"
  assert_not_contains "$ERR" "$STANDIN_SECRET_1"
  assert_not_contains "$ERR" "$(kv_get "$OUT" password)"
  local tok
  tok=$(kv_get "$OUT" password)
  run "$CACHED" --debug get
  assert_rc 0
  assert_eq "$tok" "$(kv_get "$OUT" password)"
  assert_match "$ERR" "debug: broker: cache hit \(file store\): [0-9]+ s left, min_ttl 300"
  assert_not_contains "$ERR" "http:"
  assert_not_contains "$ERR" "$tok"
  assert_not_contains "$ERR" "$STANDIN_SECRET_1"
}
t_case "debug trace, M2M miss then hit: requests, timings, store decisions, no secret" case_debug_m2m

case_debug_oauth_refresh() {
  export CARTO_AUTH_HOME=$TEST_TMP/debug-oauth
  standin_reset
  standin_fault '{"path": "/oauth/token", "grant_type": "authorization_code", "kind": "expires_in", "value": 100}'
  CARTO_AUTH_DEBUG=1 run $'mode=oauth\napi_base_url='"$A_URL"$'\n\n' get
  assert_rc 0 "login"
  local old_refresh new_refresh s
  old_refresh=$(json_file_get "$CARTO_AUTH_HOME/token_oauth.json" refresh_token)
  run $'mode=oauth\napi_base_url='"$A_URL"$'\ninteractive=false\nmin_ttl=300\n\n' --debug get
  assert_rc 0
  assert_contains "$ERR" "debug: broker: the stored token has "
  assert_contains "$ERR" "under min_ttl 300: renewing"
  assert_contains "$ERR" "debug: broker: renewing with the refresh token"
  assert_match "$ERR" "debug: http: POST 127\.0\.0\.1:[0-9]+ -> HTTP 200"
  new_refresh=$(json_file_get "$CARTO_AUTH_HOME/token_oauth.json" refresh_token)
  assert_ne "$old_refresh" "$new_refresh" "rotated"
  # Every secret of the exchange: none in either trace.
  for s in "$old_refresh" "$new_refresh" "$(kv_get "$OUT" password)" \
    "$(json_get "$(standin_request_json /oauth/token)" 0.form.code_verifier)" \
    "$(json_get "$(standin_request_json /oauth/token)" 0.form.code)"; do
    [ -n "$s" ] || continue
    assert_not_contains "$ERR" "$s" "a secret in the trace"
    assert_not_contains "$(cat "$KEPT"/err.*)" "$s" "a secret in a kept trace"
  done
}
t_case "debug trace, OAuth refresh: the renewal and its request, no secret" case_debug_oauth_refresh

case_debug_error() {
  export CARTO_AUTH_HOME=$TEST_TMP/debug
  export CARTO_AUTH_DEBUG=1
  fault_get '{"path": "/oauth/token", "kind": "status", "status": 503, "count": 3}'
  assert_rc 1
  assert_empty "$OUT"
  assert_contains "$ERR" "debug: http: POST 127.0.0.1:${A_URL##*:} -> HTTP 503"
  assert_contains "$ERR" "debug: http: waiting 500 ms before attempt 2"
  assert_contains "$ERR" "debug: http: waiting 1000 ms before attempt 3"
  # The last line is the error, as without the trace.
  assert_contains "$(printf '%s\n' "$ERR" | tail -n 1)" "carto-auth: get: token request to 127.0.0.1:${A_URL##*:} failed: the server answered HTTP 503 (tried 3 times)"
  assert_not_contains "$ERR" "$STANDIN_SECRET_1"
}
t_case "debug trace of an error: each attempt and wait, then the one error line" case_debug_error

case_debug_single_use() {
  # The OAuth login of case_oauth_refresh_fails, renewed (min_ttl beyond a day).
  export CARTO_AUTH_HOME=$TEST_TMP/oauth
  export CARTO_AUTH_DEBUG=1
  fault_get '{"path": "/oauth/token", "kind": "reset", "count": 3}' \
    $'mode=oauth\napi_base_url='"$A_URL"$'\ninteractive=false\nmin_ttl=90000\n\n'
  assert_rc 1
  assert_empty "$OUT"
  assert_eq 1 "$REQS" "token requests sent"
  assert_match "$ERR" "debug: http: POST 127\.0\.0\.1:${A_URL##*:} -> .*Connection reset by peer \([0-9]+ ms, attempt 1\)"
  assert_contains "$ERR" "debug: http: no retry of the token renewal, as it carries a single-use secret the server may already have used"
  assert_not_contains "$ERR" "before attempt 2"
  assert_match "$(printf '%s\n' "$ERR" | tail -n 1)" "^carto-auth: get: token renewal to 127\.0\.0\.1:${A_URL##*:} failed: .*Connection reset by peer; not retried, as it carries a single-use secret"
}
t_case "debug trace of a refresh not retried: the attempt, why no retry, the one error line" case_debug_single_use

# -- the background cases --------------------------------------------------------

bg_result() {
  wait_until 100 test -s "$TEST_TMP/$1.rc"
  RC=$(cat "$TEST_TMP/$1.rc") OUT=$(cat "$TEST_TMP/$1.out") ERR=$(cat "$TEST_TMP/$1.err")
  MS=$(cat "$TEST_TMP/$1.ms")
  keep_output "$TEST_TMP/$1.out" "$TEST_TMP/$1.err"
}

case_hang_default() {
  bg_result hang60
  # 30 s, backoff 0.5 s, then what is left of the 60 s budget.
  assert_failure "token request to 127.0.0.1:${C_URL##*:} failed: Operation timed out after"
  assert_between 59500 63000 "$MS" "ended by the 60 s budget (ms)"
  assert_eq 2 "$(STANDIN_URL=$C_URL standin_requests /oauth/token)" "attempts"
  echo "  $MS ms: $ERR" >&2
}
t_case "a server that never answers, default timeouts: the call ends at 60 s" case_hang_default

case_connect_timeout_default() {
  bg_result connect
  # 3 attempts of 10 s connect timeout, backoff 0.5 s and 1 s: 31.5 s.
  assert_failure "Timeout was reached (tried 3 times)"
  assert_contains "$ERR" "Failed to connect to 127.0.0.1 port"
  assert_between 31000 34000 "$MS" "3 connect timeouts of 10 s + 1.5 s backoff (ms)"
  echo "  $MS ms: $ERR" >&2
}
t_case "a host that never accepts, default timeouts: 3 x 10 s connect timeout" case_connect_timeout_default

t_case "no secret in any stderr of this script" case_no_secret_anywhere
t_done
