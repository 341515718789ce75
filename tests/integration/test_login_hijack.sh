#!/bin/bash
# The browser login cannot be hijacked by another local user.
#
# The attack: another user reads the browser's command line in /proc, learns
# the login's state and PKCE challenge, gets an authorization code for its
# own account bound to that challenge, and hands it to the loopback
# callback, so that the victim ends up logged in to the attacker's account.
# Here the attacker is uid 65534 (setpriv), the victim the user running the
# test (root), and the victim's browser is tests/standin/browser.sh, held
# before it opens anything so its command line stays visible. Without root
# the cases with another user are skipped; the others still run.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

ATTACKER_UID=65534
as_attacker() {
  setpriv --reuid=$ATTACKER_UID --regid=$ATTACKER_UID --clear-groups \
    env -i PATH=/usr/local/bin:/usr/bin:/bin "$@"
}
# The cases with another user need root (to become it); the others run as
# anyone.
NO_ATTACKER=
if [ "$(id -u)" != 0 ]; then
  NO_ATTACKER="needs root to act as another user"
elif ! command -v setpriv >/dev/null; then
  NO_ATTACKER="needs setpriv (util-linux)"
elif ! as_attacker test -r /proc/1/cmdline; then
  NO_ATTACKER="other users' command lines are hidden here (hidepid)"
elif ! as_attacker curl --version >/dev/null 2>&1; then
  NO_ATTACKER="the other user cannot run curl"
fi
attacker_case() {
  if [ -n "$NO_ATTACKER" ]; then t_skip "$1" "$NO_ATTACKER"; else t_case "$@"; fi
}

standin_start
CLIENT_ID=0dxb8HR3ATXCxJiPOJVHsLoHoAtbRX6u
export BROWSER=$STANDIN_BROWSER CARTO_AUTH_LOGIN_TIMEOUT=20

fresh() {
  export CARTO_AUTH_HOME=$TEST_TMP/home-$1
  PORT=$(free_port)
  export CARTO_AUTH_REDIRECT_URI="http://localhost:$PORT/callback/"
  export STANDIN_BROWSER_LOG=$TEST_TMP/browser-$1.log
  export STANDIN_BROWSER_HOLD=$TEST_TMP/hold-$1 STANDIN_BROWSER_PAUSE=$TEST_TMP/pause-$1
  : >"$STANDIN_BROWSER_LOG"
  TOKFILE=$CARTO_AUTH_HOME/token_oauth.json
  standin_reset
}

# Lets a held browser go on ("go") or give up ("stop") when the case ends.
release() { echo "$1" >"$STANDIN_BROWSER_HOLD"; echo "$1" >"$STANDIN_BROWSER_PAUSE"; }

# The attacker, run as another user with the script on standard input (so
# that its own command line carries none of it).  Arguments: what to do
# (scan, hijack or start), the stand-in's URL, the callback port, the
# client id.  Prints what it found and what it got:
#   LEAK <pid>           a command line with a state or a code challenge
#   FOUND <url>          a URL for the login found on a command line
#   START <status>       its fetch of a loopback URL it found
#   CODE <code>          the code it got for its own account (mallory)
#   CALLBACK <status>    its visit to the victim's callback
cat >"$TEST_TMP/attacker.sh" <<'ATTACK'
set -u
what=$1 standin=$2 port=$3 client_id=$4
fetch() { curl -q -s --noproxy '*' --connect-timeout 5 --max-time 10 "$@"; }
urls=()
for d in /proc/[0-9]*; do
  [ "${d#/proc/}" != "$BASHPID" ] || continue
  args=()
  mapfile -d '' args 2>/dev/null <"$d/cmdline" || continue
  for a in "${args[@]}"; do
    # Only this login's: a test running beside this one may have its own
    # browser stand-in with an authorize URL on its command line.
    case $a in
      *"$standin"*|*":$port/"*|*"%3A$port%2F"*)
        case $a in *state=*|*code_challenge*) printf 'LEAK %s\n' "${d#/proc/}" ;; esac ;;
    esac
    case $a in
      http://localhost:$port/*|http://127.0.0.1:$port/*|"$standin"/authorize\?*)
        printf 'FOUND %s\n' "$a"; urls+=("$a") ;;
    esac
  done
done
[ "$what" != scan ] || exit 0
[ "${#urls[@]}" -gt 0 ] || { echo "NOTHING"; exit 0; }
jar=$(mktemp)
authorize=
case ${urls[0]} in
  "$standin"/authorize\?*) authorize=${urls[0]} ;;
  *)
    out=$(fetch -c "$jar" -b "$jar" -o /dev/null -w '%{http_code} %{redirect_url}' "${urls[0]}") || true
    printf 'START %s\n' "${out%% *}"
    case ${out#* } in "$standin"/authorize\?*) authorize=${out#* } ;; esac
    ;;
esac
[ "$what" != start ] || { rm -f "$jar"; exit 0; }
if [ -z "$authorize" ]; then
  # Nothing learned: its own challenge and a guessed state, for the default path.
  authorize="$standin/authorize?client_id=$client_id&response_type=code&audience=carto-cloud-native-api&redirect_uri=http%3A%2F%2Flocalhost%3A$port%2Fcallback%2F&code_challenge_method=S256&code_challenge=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&state=guess&scope=offline_access"
fi
location=$(fetch -o /dev/null -w '%{redirect_url}' "$authorize&account=mallory") || true
code=$(printf '%s' "$location" | sed -nE 's/.*[?&]code=([^&#]*).*/\1/p')
printf 'CODE %s\n' "$code"
status=$(fetch -b "$jar" -c "$jar" -o /dev/null -w '%{http_code}' "$location") || true
printf 'CALLBACK %s\n' "${status:-000}"
rm -f "$jar"
ATTACK

attack() {
  as_attacker bash -s -- "$1" "$STANDIN_URL" "$PORT" "$CLIENT_ID" <"$TEST_TMP/attacker.sh"
}

# Starts the login in the background and waits for its browser to be launched.
start_login() {
  run_helper_bg login '' login
  wait_until 10 grep -q '^URL ' "$STANDIN_BROWSER_LOG"
}

# Waits for the login to end; sets OUT, ERR, RC.
end_login() {
  wait_helpers
  helper_result login
  release stop
}

# The victim is not logged in to the attacker's account, by any measure: no
# token for mallory stored, none shown by status, and the attacker's code
# never reached the token endpoint.
assert_not_mallory() {
  local code=$1
  if [ -e "$TOKFILE" ]; then
    assert_not_contains "$(cat "$TOKFILE")" mallory "the attacker's token was stored"
  fi
  local status_out
  status_out=$("$CARTO_AUTH" status 2>&1 || true)
  assert_not_contains "$status_out" "mallory" "carto-auth status shows the attacker's account"
  if [ -n "$code" ]; then
    local exchanged
    exchanged=$(standin_request_json /oauth/token | "$PYTHON" -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r.get("form", {}).get("code") == sys.argv[1]))' "$code")
    assert_eq 0 "$exchanged" "the attacker's code was exchanged"
  fi
}

line_of() { printf '%s\n' "$1" | sed -n "s/^$2 //p" | head -n1; }

# --- (a) no command line carries the state or the challenge -------------------

case_cmdline() {
  fresh cmdline
  start_login
  local seen
  seen=$(attack scan)
  release go
  wait_helpers
  helper_result login
  assert_rc 0 "the login, let go on, completes"
  printf '%s\n' "$seen" | grep -q '^FOUND ' ||
    { echo "the browser's command line was not visible to the other user" >&2; return 1; }
  assert_not_contains "$seen" "LEAK" "a command line carries the state or the challenge"
  local url
  while IFS= read -r url; do
    assert_match "$url" "^http://localhost:$PORT/start/[A-Za-z0-9_-]{20,}\$" \
      "the browser's URL is the loopback start page alone"
  done < <(sed -n 's/^FOUND //p' <<<"$seen")
  assert_eq "auth0|demo-user" "$(json_file_get "$TOKFILE" account)"
}
attacker_case "no command line carries the state or the PKCE challenge" case_cmdline

# --- (b) another user races to the start page and posts its own code -------------

case_hijack() {
  fresh hijack
  start_login
  local got code
  got=$(attack hijack)
  code=$(line_of "$got" CODE)
  end_login
  [ -z "${SHOW_ATTACK:-}" ] || printf '%s\n%s\n' "$got" "$ERR" >&2
  assert_not_mallory "$code"
  assert_rc 1 "the login did not fail"
  assert_ne 302 "$(line_of "$got" START)" "the other user got the start page's redirect"
  assert_ne 302 "$(line_of "$got" CALLBACK)" "the other user's callback was taken"
  assert_contains "$ERR" "someone else may be trying to use this login"
  assert_contains "$ERR" "another user"
  assert_no_file "$TOKFILE"
}
attacker_case "another user's code never completes the login" case_hijack

# The same, against a login whose browser already fetched the start page:
# the other user learns nothing and the login is stopped.
case_hijack_after_start() {
  fresh hijack2
  start_login
  echo go >"$STANDIN_BROWSER_HOLD"
  wait_until 10 grep -q '^START ' "$STANDIN_BROWSER_LOG"
  local got code
  got=$(attack hijack)
  code=$(line_of "$got" CODE)
  end_login
  assert_rc 1
  assert_ne 302 "$(line_of "$got" START)" "the other user got the start page's redirect"
  assert_contains "$ERR" "someone else may be trying to use this login"
  assert_no_file "$TOKFILE"
  assert_not_mallory "$code"
  assert_eq 0 "$(standin_requests /oauth/token authorization_code)" "a code was exchanged"
}
attacker_case "another user after the browser: refused, and the login stops" case_hijack_after_start

# Another user who skips the start page and goes straight to the callback is
# refused, and the login goes on for the user's own browser.
case_other_user_callback() {
  fresh othercb
  start_login
  local status
  status=$(as_attacker curl -q -s --noproxy '*' --max-time 10 -o /dev/null -w '%{http_code}' \
    "http://localhost:$PORT/callback/?code=attackers-code&state=guess" || true)
  release go
  wait_helpers
  helper_result login
  assert_eq 403 "$status" "the other user's callback"
  assert_rc 0 "the user's own login"
  wait_until 10 grep -q '^CALLBACK 302' "$STANDIN_BROWSER_LOG"
  assert_eq "auth0|demo-user" "$(json_file_get "$TOKFILE" account)"
  assert_not_mallory attackers-code
}
attacker_case "another user's callback is refused and the login goes on" case_other_user_callback

# --- (c) the start page is one-time ---------------------------------------------------

case_start_twice_same_user() {
  fresh twice
  start_login
  echo go >"$STANDIN_BROWSER_HOLD"
  wait_until 10 grep -q '^START ' "$STANDIN_BROWSER_LOG"
  assert_eq "START 302" "$(grep '^START ' "$STANDIN_BROWSER_LOG")" "the browser's start page"
  local url status
  url=$(sed -n 's/^URL //p' "$STANDIN_BROWSER_LOG")
  status=$(curl -q -sS --noproxy '*' --max-time 10 -o /dev/null -w '%{http_code}' "$url" || true)
  end_login
  assert_ne 302 "$status" "the second fetch was redirected"
  assert_rc 1
  assert_contains "$ERR" "the login page was opened twice; someone else may be trying to use this login"
  assert_no_file "$TOKFILE"
  assert_eq 0 "$(standin_requests /oauth/token authorization_code)" "a code was exchanged"
}
t_case "a second fetch of the start page stops the login" case_start_twice_same_user

case_start_twice_browser() {
  fresh twice2
  echo go >"$TEST_TMP/hold-twice2"
  STANDIN_BROWSER_MODE=start-twice run_helper '' login
  release stop
  assert_rc 1
  assert_contains "$ERR" "the login page was opened twice"
  assert_no_file "$TOKFILE"
}
t_case "the same browser opening the start page twice also stops it" case_start_twice_browser

# --- the callback needs the cookie of the browser that opened the start page ----------

case_cookie_required() {
  fresh cookie
  echo go >"$TEST_TMP/hold-cookie"
  echo go >"$TEST_TMP/pause-cookie"
  STANDIN_BROWSER_MODE=no-cookie-first run_helper '' login
  assert_rc 0
  assert_eq "NO_COOKIE 400" "$(grep '^NO_COOKIE ' "$STANDIN_BROWSER_LOG")" \
    "the callback without the cookie was refused"
  wait_until 10 grep -q '^CALLBACK 302' "$STANDIN_BROWSER_LOG"
  assert_eq 1 "$(standin_requests /oauth/token authorization_code)"
  assert_eq "auth0|demo-user" "$(json_file_get "$TOKFILE" account)"
}
t_case "the callback with the right state but without the cookie is refused" case_cookie_required

t_done
