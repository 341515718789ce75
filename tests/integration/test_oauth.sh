#!/bin/bash
# OAuth end to end against the stand-in: the browser login with PKCE and
# discovery, the loopback server's patience (favicon, wrong state), error
# callbacks, timeouts, paste mode through a pseudo-terminal, SSO
# organizations, renewal by refresh token with rotation, invalid_grant,
# non-interactive callers, parallel callers sharing one login, and the
# CARTO Data Warehouse.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

standin_start
CLIENT_ID=0dxb8HR3ATXCxJiPOJVHsLoHoAtbRX6u
GET=$'mode=oauth\n\n'

# Each case gets its own store, loopback port and browser log, and a stand-in
# with an empty request log.
fresh() {
  export CARTO_AUTH_HOME=$TEST_TMP/home-$1
  export CARTO_AUTH_REDIRECT_URI="http://localhost:$(free_port)/callback/"
  export STANDIN_BROWSER_LOG=$TEST_TMP/browser-$1.log
  : >"$STANDIN_BROWSER_LOG"
  TOKFILE=$CARTO_AUTH_HOME/token_oauth.json
  standin_reset
}

# No token, refresh token or code may reach standard error.
assert_no_secret() {
  # The start page's random nonce may hold any base64url text (even "eyJ"):
  # it is no secret (docs/oauth.md), so it is left out of the search.
  local err
  err=$(printf '%s' "$ERR" | sed -E 's#/start/[A-Za-z0-9_-]+#/start/NONCE#g')
  assert_not_contains "$err" "eyJ" "an access token on stderr"
  assert_not_contains "$err" "v1." "a refresh token on stderr"
  assert_not_contains "$err" "code=" "an authorization code on stderr"
}

# A login that must not happen: any browser launch or /authorize fails it.
no_browser_launched() {
  assert_empty "$(cat "$STANDIN_BROWSER_LOG")" "the browser was launched"
  assert_eq 0 "$(standin_requests /authorize)" "an /authorize request"
}

# json_query JSON_LIST INDEX KEY: a query parameter of a recorded request.
req_query() { json_get "$(standin_request_json "$1")" "$2.query.$3"; }

login_once() {
  run_helper '' login "$@"
  assert_rc 0
  assert_file_exists "$TOKFILE"
  # The scripted browser logs the callback's answer after the helper has
  # it: wait, so a case that empties the log next finds no late line there.
  wait_until 10 grep -q '^CALLBACK 302' "$STANDIN_BROWSER_LOG" || true
}

# --- the browser login -------------------------------------------------------

case_full_login() {
  fresh full
  run_helper '' login
  assert_rc 0
  assert_empty "$OUT" "login prints nothing on stdout"
  assert_contains "$ERR" "Opening the browser to log in to CARTO (Ctrl-C to cancel)"
  assert_contains "$ERR" "Waiting for the login in the browser (300 s left)"
  assert_no_secret
  wait_until 10 grep -q '^CALLBACK 302' "$STANDIN_BROWSER_LOG"
  assert_file_mode "$TOKFILE" 600
  assert_eq "$STANDIN_URL" "$(json_file_get "$TOKFILE" api_base_url)" "discovered API base URL"

  # the authorize request, as the platform reference has it
  assert_eq 1 "$(standin_requests /authorize)"
  assert_eq "$CLIENT_ID" "$(req_query /authorize 0 client_id)"
  assert_eq code "$(req_query /authorize 0 response_type)"
  assert_eq carto-cloud-native-api "$(req_query /authorize 0 audience)"
  assert_eq "$CARTO_AUTH_REDIRECT_URI" "$(req_query /authorize 0 redirect_uri)"
  assert_eq S256 "$(req_query /authorize 0 code_challenge_method)"
  assert_eq offline_access "$(req_query /authorize 0 scope)"
  assert_match "$(req_query /authorize 0 state)" '^[A-Za-z0-9_-]{22,}$' "a random state"
  ! req_query /authorize 0 organization >/dev/null || { echo "organization sent" >&2; return 1; }

  # the token request (the stand-in verified the PKCE verifier)
  assert_eq 1 "$(standin_requests /oauth/token authorization_code)"
  assert_eq "$CLIENT_ID" "$(standin_last_form client_id)"
  assert_eq carto-cloud-native-api "$(standin_last_form audience)"
  assert_eq "$CARTO_AUTH_REDIRECT_URI" "$(standin_last_form redirect_uri)"
  assert_match "$(standin_last_form code_verifier)" '^[A-Za-z0-9._~-]{43,128}$'

  # discovery: the accounts endpoint with the token, config.yaml without
  assert_eq 1 "$(standin_requests /accounts)"
  assert_match "$(json_get "$(standin_request_json /accounts)" 0.headers.authorization)" '^Bearer eyJ'
  assert_eq 1 "$(standin_requests /config.yaml)"
  ! json_get "$(standin_request_json /config.yaml)" 0.headers.authorization >/dev/null ||
    { echo "the token was sent to the tenant" >&2; return 1; }

  # a get answers from the store, with the SPEC's lines
  run_helper "$GET" get
  assert_rc 0
  assert_empty "$ERR"
  assert_eq "$(json_file_get "$TOKFILE" access_token)" "$(kv_get "$OUT" password)"
  assert_eq "$(kv_get "$OUT" password)" "$(kv_get "$OUT" access_token)"
  assert_eq "auth0|demo-user" "$(kv_get "$OUT" username)" "the user id"
  assert_eq oauth "$(kv_get "$OUT" mode)"
  assert_eq "$STANDIN_URL" "$(kv_get "$OUT" api_base_url)"
  assert_eq 1 "$(standin_requests /oauth/token)" "no second token request"
}
t_case "login in the browser with PKCE and discovery, then get from the store" case_full_login

case_get_logs_in() {
  fresh get
  run_helper $'protocol=https\nhost=gcp-us-east1.api.carto.com\nmode=oauth\n\n' get
  assert_rc 0
  assert_eq "gcp-us-east1.api.carto.com" "$(kv_get "$OUT" host)"
  assert_match "$(kv_get "$OUT" password)" '^eyJ'
  # standard output holds protocol lines only; the progress went to stderr
  if printf '%s\n' "$OUT" | grep -qv '^[a-z_]*='; then
    echo "non-protocol line on stdout" >&2; return 1
  fi
  assert_contains "$ERR" "Waiting for the login in the browser"
  assert_no_secret
}
t_case "a get with nothing stored logs in through the browser" case_get_logs_in

case_api_base_url_given() {
  fresh given
  login_once --api-base-url https://gcp-us-east1.api.carto.com
  assert_eq https://gcp-us-east1.api.carto.com "$(json_file_get "$TOKFILE" api_base_url)"
  assert_eq 0 "$(standin_requests /accounts)" "no discovery"
}
t_case "a given api_base_url skips discovery" case_api_base_url_given

case_favicon_first() {
  fresh favicon
  STANDIN_BROWSER_MODE=favicon-first login_once
  grep -q '^FAVICON 404' "$STANDIN_BROWSER_LOG"
  wait_until 10 grep -q '^CALLBACK 302' "$STANDIN_BROWSER_LOG"
}
t_case "a favicon request first gets a 404 and the login goes on" case_favicon_first

case_wrong_state_first() {
  fresh wrongstate
  STANDIN_BROWSER_MODE=wrong-state-first login_once
  grep -q '^WRONG_STATE 400' "$STANDIN_BROWSER_LOG"
  wait_until 10 grep -q '^CALLBACK 302' "$STANDIN_BROWSER_LOG"
  assert_eq 1 "$(standin_requests /oauth/token authorization_code)"
}
t_case "a wrong state gets an error page and the login goes on" case_wrong_state_first

case_error_callback() {
  fresh errorcb
  standin_fault '{"kind": "authorize_error"}'
  STANDIN_BROWSER_MODE=error run_helper '' login
  assert_rc 1
  assert_contains "$ERR" "login failed: access_denied (User cancelled)"
  wait_until 10 grep -q '^CALLBACK 302' "$STANDIN_BROWSER_LOG"
  assert_no_file "$TOKFILE"
  assert_eq 0 "$(standin_requests /oauth/token)"
}
t_case "an error callback ends the login with its error" case_error_callback

case_timeout() {
  fresh timeout
  local t0=$SECONDS
  STANDIN_BROWSER_MODE=never CARTO_AUTH_LOGIN_TIMEOUT=2 run_helper '' login
  assert_rc 1
  assert_contains "$ERR" "timed out after 2 s waiting for the browser login"
  [ $((SECONDS - t0)) -lt 15 ] || { echo "took $((SECONDS - t0)) s" >&2; return 1; }
  STANDIN_BROWSER_MODE=never run_helper '' login --timeout 1
  assert_rc 1
  assert_contains "$ERR" "timed out after 1 s"
  assert_no_file "$TOKFILE"
}
t_case "a login nobody completes times out" case_timeout

case_port_in_use() {
  fresh portinuse
  local port=${CARTO_AUTH_REDIRECT_URI#http://localhost:}
  port=${port%%/*}
  "$PYTHON" -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
open(sys.argv[2], "w").close(); time.sleep(30)' "$port" "$TEST_TMP/listening" &
  local pid=$!
  wait_until 5 test -e "$TEST_TMP/listening"
  run_helper '' login
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  assert_rc 1
  assert_contains "$ERR" "port $port is in use by another program"
  no_browser_launched
}
t_case "a taken port is named in the message" case_port_in_use

case_discovery_error() {
  fresh discovery
  standin_settings '{"config_yaml": "apis:\n  mapsUrl: https://x\n"}'
  run_helper '' login
  assert_rc 1
  assert_contains "$ERR" "cannot discover the API base URL"
  assert_contains "$ERR" "apis.baseUrl"
  assert_contains "$ERR" "--api-base-url"
  standin_reset
  standin_fault '{"kind": "status", "status": 401, "path": "/accounts"}'
  run_helper '' login
  assert_rc 1
  assert_contains "$ERR" "account discovery refused (HTTP 401"
  assert_no_secret
}
t_case "discovery errors are reported clearly" case_discovery_error

# --- paste mode through a pseudo-terminal ---------------------------------------

# pty_run ANSWER STDIN_FILE CMD...: run CMD with a pseudo-terminal as its
# controlling terminal (standard error too), standard input from STDIN_FILE
# and standard output to $TEST_TMP/pty.out.  At each "Code: " prompt it
# answers from ANSWER, a comma-separated list of: code (the bare code),
# url (the whole redirect URL), foreign (a URL with another state), junk.
# Sets RC, OUT (stdout) and ERR (the terminal transcript).
cat >"$TEST_TMP/pty_run.py" <<'PY'
import os, pty, re, select, sys, time, urllib.parse, urllib.request

answers = sys.argv[1].split(",")
stdin_file, cmd = sys.argv[2], sys.argv[3:]
out_path = os.environ["TEST_TMP"] + "/pty.out"

pid, fd = pty.fork()
if pid == 0:
    os.dup2(os.open(stdin_file, os.O_RDONLY), 0)
    os.dup2(os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
    os.execvp(cmd[0], cmd)

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None

def location(url):
    opener = urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({}))
    try:
        opener.open(url, timeout=10)
    except urllib.error.HTTPError as err:
        return err.headers["Location"]
    raise SystemExit("no redirect from " + url)

transcript = b""
deadline = time.time() + 60
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if not ready:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    transcript += data
    if transcript.endswith(b"Code: ") and answers:
        text = transcript.decode(errors="replace")
        url = re.findall(r"(http\S+/authorize\?\S+)", text)[-1]
        redirect = location(url)
        answer = answers.pop(0)
        if answer == "code":
            line = urllib.parse.parse_qs(urllib.parse.urlsplit(redirect).query)["code"][0]
        elif answer == "url":
            line = redirect
        elif answer == "foreign":
            line = re.sub(r"state=[^&]*", "state=someone-else", redirect)
        else:
            line = "this is not a code"
        os.write(fd, line.encode() + b"\r")
        transcript += b"<answered " + answer.encode() + b">"
_, status = os.waitpid(pid, 0)
sys.stderr.write(transcript.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
PY

pty_run() {
  local answers=$1 stdin_file=$2
  shift 2
  _t_capture "" "$PYTHON" "$TEST_TMP/pty_run.py" "$answers" "$stdin_file" "$@"
  OUT=$(cat "$TEST_TMP/pty.out")
}

case_paste_code() {
  fresh paste
  pty_run code /dev/null "$CARTO_AUTH" login --no-browser
  assert_rc 0
  assert_contains "$ERR" "open this URL in a browser"
  assert_contains "$ERR" "redirect_uri=https%3A%2F%2Fapp.carto.com%2Fauth%2Ftoken"
  assert_file_exists "$TOKFILE"
  assert_empty "$(cat "$STANDIN_BROWSER_LOG")" "no browser in paste mode"
  assert_eq https://app.carto.com/auth/token "$(standin_last_form redirect_uri)"
  assert_eq 1 "$(standin_requests /oauth/token authorization_code)"
}
t_case "paste mode: the code typed on the terminal" case_paste_code

case_paste_url_after_mistakes() {
  fresh pasteurl
  pty_run junk,foreign,url /dev/null "$CARTO_AUTH" login --no-browser
  [ -z "${SHOW_TRANSCRIPT:-}" ] || printf '%s\n' "$ERR" >&2
  assert_rc 0
  assert_contains "$ERR" "not a login code"
  assert_contains "$ERR" "another login attempt"
  assert_file_exists "$TOKFILE"
  # three prompts, one authorize URL: the same login throughout
  assert_eq 1 "$(standin_requests /oauth/token authorization_code)"
}
t_case "paste mode: the whole URL, after a bad line and a foreign URL" case_paste_url_after_mistakes

case_paste_get_keeps_stdout() {
  fresh pasteget
  printf 'mode=oauth\nopen_browser=false\n\n' >"$TEST_TMP/get.in"
  pty_run code "$TEST_TMP/get.in" "$CARTO_AUTH" get
  assert_rc 0
  assert_match "$(kv_get "$OUT" password)" '^eyJ'
  assert_not_contains "$OUT" "Code:" "the prompt went to the terminal"
  assert_not_contains "$OUT" "authorize" "the URL went to the terminal"
  assert_not_contains "$ERR" "password=" "protocol lines stayed off the terminal"
}
t_case "paste mode in a get: protocol on stdout, prompt on the terminal" case_paste_get_keeps_stdout

case_no_browser_falls_back_to_paste() {
  fresh fallback
  BROWSER=$TEST_TMP/no-such-browser pty_run code /dev/null "$CARTO_AUTH" login
  assert_rc 0
  assert_contains "$ERR" "No browser could be opened"
  assert_eq https://app.carto.com/auth/token "$(standin_last_form redirect_uri)"
  fresh fallback2
  pty_run code /dev/null env -u BROWSER -u DISPLAY -u WAYLAND_DISPLAY "$CARTO_AUTH" login
  assert_rc 0
  assert_contains "$ERR" "No browser here"
  assert_eq https://app.carto.com/auth/token "$(standin_last_form redirect_uri)"
  fresh fallback3
  BROWSER=false pty_run code /dev/null "$CARTO_AUTH" login
  assert_rc 0
  assert_contains "$ERR" "could not be opened (it exited with status 1)"
  assert_eq https://app.carto.com/auth/token "$(standin_last_form redirect_uri)"
}
t_case "a browser that cannot start turns the login into paste mode" case_no_browser_falls_back_to_paste

case_no_terminal() {
  fresh notty
  assert_exit 1 setsid -w "$CARTO_AUTH" login --no-browser
  assert_contains "$ERR" "carto-auth login"
  assert_contains "$ERR" "terminal"
  assert_eq 0 "$(standin_requests /authorize)"
  BROWSER=false assert_exit 1 setsid -w "$CARTO_AUTH" login
  assert_contains "$ERR" "no browser could be opened and there is no terminal"
}
t_case "no browser and no terminal: a clear failure" case_no_terminal

# --- organizations -----------------------------------------------------------------

case_org() {
  fresh org
  login_once --org acme
  assert_eq acme "$(req_query /authorize 0 organization)"
  run_helper $'mode=oauth\norg=acme\n\n' get
  assert_rc 0
  assert_eq "auth0|sso-user-acme" "$(kv_get "$OUT" username)"
  assert_eq 1 "$(standin_requests /authorize)" "the org's token was reused"
  # another identity: the org's token is not handed out for it
  run_helper $'mode=oauth\ninteractive=false\n\n' get
  assert_rc 1
  assert_empty "$OUT"
}
t_case "org: organization= on /authorize, and a token per organization" case_org

# --- refresh tokens ----------------------------------------------------------------

state_of() { json_get "$(standin_state)" "$1"; }

case_refresh_and_rotation() {
  fresh refresh
  login_once
  local tok1 rt1 rt2 reuse0 revoked0
  tok1=$(json_file_get "$TOKFILE" access_token)
  rt1=$(json_file_get "$TOKFILE" refresh_token)
  assert_match "$rt1" '^v1\.' "a refresh token was stored"
  reuse0=$(state_of refresh_reuse_detected)
  revoked0=$(state_of revoked_families)
  : >"$STANDIN_BROWSER_LOG"
  standin_reset

  # min_ttl beyond the token's lifetime: renewed, without any browser
  run_helper $'mode=oauth\nmin_ttl=90000\ninteractive=false\n\n' get
  assert_rc 0
  assert_ne "$tok1" "$(kv_get "$OUT" password)" "a new access token"
  assert_eq "$(json_file_get "$TOKFILE" access_token)" "$(kv_get "$OUT" password)" "stored"
  assert_eq 1 "$(standin_requests /oauth/token refresh_token)"
  assert_eq "$rt1" "$(standin_last_form refresh_token)"
  assert_eq "$CLIENT_ID" "$(standin_last_form client_id)"
  no_browser_launched
  rt2=$(json_file_get "$TOKFILE" refresh_token)
  assert_ne "$rt1" "$rt2" "the rotated refresh token was stored"
  assert_eq "$STANDIN_URL" "$(json_file_get "$TOKFILE" api_base_url)" "api_base_url kept"

  # the second renewal uses the rotated token: no reuse, no revocation
  run_helper $'mode=oauth\nmin_ttl=90000\ninteractive=false\n\n' get
  assert_rc 0
  assert_eq 2 "$(standin_requests /oauth/token refresh_token)"
  assert_eq "$rt2" "$(standin_last_form refresh_token)"
  assert_eq "$reuse0" "$(state_of refresh_reuse_detected)" "a refresh token was reused"
  assert_eq "$revoked0" "$(state_of revoked_families)" "a family was revoked"
  assert_no_secret
}
t_case "renewal by refresh token without a browser, with rotation" case_refresh_and_rotation

case_refresh_short_token() {
  fresh short
  standin_fault '{"kind": "expires_in", "value": 5}'
  login_once
  sleep 4
  # less than half its 5 s lifetime left: renewed by the refresh token
  run_helper $'mode=oauth\ninteractive=false\n\n' get
  assert_rc 0
  assert_eq 1 "$(standin_requests /oauth/token refresh_token)"
  assert_eq 1 "$(standin_requests /authorize)" "only the first login"
}
t_case "a token close to expiry is renewed by its refresh token" case_refresh_short_token

case_invalid_grant() {
  fresh invalid
  login_once
  standin_revoke_refresh
  standin_reset
  : >"$STANDIN_BROWSER_LOG"

  # not interactive: fails clearly and forgets the dead refresh token
  run_helper $'mode=oauth\nmin_ttl=90000\ninteractive=false\n\n' get
  assert_rc 1
  assert_empty "$OUT"
  assert_contains "$ERR" "carto-auth login"
  assert_eq 1 "$(standin_requests /oauth/token refresh_token)"
  no_browser_launched
  ! json_file_get "$TOKFILE" refresh_token >/dev/null ||
    { echo "the dead refresh token is still stored" >&2; return 1; }

  # interactive: a new browser login, and a live refresh token again
  standin_reset
  run_helper $'mode=oauth\nmin_ttl=90000\n\n' get
  assert_rc 0
  assert_eq 0 "$(standin_requests /oauth/token refresh_token)" "no refresh token left to try"
  assert_eq 1 "$(standin_requests /authorize)"
  assert_eq 1 "$(standin_requests /oauth/token authorization_code)"
  assert_match "$(json_file_get "$TOKFILE" refresh_token)" '^v1\.'
}
t_case "invalid_grant: the refresh token is forgotten and a login follows" case_invalid_grant

case_invalid_grant_then_browser() {
  fresh invalid2
  login_once
  standin_revoke_refresh
  standin_reset
  : >"$STANDIN_BROWSER_LOG"
  run_helper $'mode=oauth\nmin_ttl=90000\n\n' get
  assert_rc 0
  assert_eq 1 "$(standin_requests /oauth/token refresh_token)" "the refresh was tried first"
  assert_eq 1 "$(standin_requests /authorize)" "then the browser"
  wait_until 10 grep -q '^CALLBACK 302' "$STANDIN_BROWSER_LOG"
}
t_case "invalid_grant on an interactive get: straight on to the browser" case_invalid_grant_then_browser

# --- single-use secrets: no retry once the request may have reached the server ---

# state_above KEY N: the stand-in's counter KEY is above N (it has handled a
# request whose answer came after the client gave up).
state_above() { [ "$(state_of "$1")" -gt "$2" ]; }

# A rotating refresh token is good once. When the answer to a renewal comes
# after the time-out, the server may already have rotated the token: a retry
# would be reuse, on which Auth0 revokes the whole family (and the helper
# would then forget it). The call fails once, says why, and keeps the token.
case_refresh_slow_answer() {
  fresh slow-refresh
  login_once
  local rt1 reuse0 revoked0 issued0
  rt1=$(json_file_get "$TOKFILE" refresh_token)
  reuse0=$(state_of refresh_reuse_detected)
  revoked0=$(state_of revoked_families)
  issued0=$(state_of refresh_tokens_issued)
  : >"$STANDIN_BROWSER_LOG"
  standin_reset
  # The answer comes 1.3 s after the request; the client waits 1 s.
  standin_fault '{"kind": "delay", "seconds": 1.3, "path": "/oauth/token", "grant_type": "refresh_token"}'
  CARTO_AUTH_HTTP_TIMEOUT_MS=1000 run_helper $'mode=oauth\nmin_ttl=90000\ninteractive=false\n\n' get
  assert_rc 1
  assert_eq 1 "$(standin_requests /oauth/token refresh_token)" "refresh requests"
  # The server handled the request when its late answer was made: rotated.
  wait_until 10 state_above refresh_tokens_issued "$issued0"
  assert_eq "$reuse0" "$(state_of refresh_reuse_detected)" "a refresh token was reused"
  assert_eq "$revoked0" "$(state_of revoked_families)" "a family was revoked"
  assert_eq "$rt1" "$(json_file_get "$TOKFILE" refresh_token)" "the refresh token is kept"
  assert_empty "$OUT"
  assert_eq 1 "$(printf '%s\n' "$ERR" | wc -l)" "one line on stderr: $ERR"
  assert_match "$ERR" "^carto-auth: get: token renewal to [^ ]+ failed: Operation timed out after [0-9]+ milliseconds"
  assert_contains "$ERR" "; not retried, as it carries a single-use secret the server may already have used"
  no_browser_launched

  # The next get renews with the kept token, without a login. The lost
  # answer did rotate it, so that is the server's leeway to give: Auth0's
  # rotation overlap period (here 60 s). With none, this renewal is reuse
  # as well; no client can get a lost answer back, it can only not spend
  # the token itself on a blind retry.
  standin_settings '{"refresh_reuse_interval": 60}'
  run_helper $'mode=oauth\nmin_ttl=90000\ninteractive=false\n\n' get
  assert_rc 0 "the next get could not renew: $ERR"
  assert_match "$(kv_get "$OUT" password)" '^eyJ'
  assert_eq 2 "$(standin_requests /oauth/token refresh_token)" "refresh requests"
  assert_eq "$rt1" "$(standin_last_form refresh_token)"
  assert_ne "$rt1" "$(json_file_get "$TOKFILE" refresh_token)" "the new refresh token was stored"
  assert_eq "$reuse0" "$(state_of refresh_reuse_detected)" "a refresh token was reused"
  assert_eq "$revoked0" "$(state_of revoked_families)" "a family was revoked"
  no_browser_launched
  assert_no_secret
}
t_case "a renewal answer slower than the time-out: one failure, no retry, the refresh token kept" case_refresh_slow_answer

# An authorization code is redeemed once. An exchange whose answer comes
# after the time-out is not sent again: the login fails with the time-out
# (not with invalid_grant for the used code), and a new login works.
case_code_slow_answer() {
  fresh slow-code
  local redeemed0 last
  redeemed0=$(state_of codes_redeemed)
  standin_fault '{"kind": "delay", "seconds": 1.3, "path": "/oauth/token", "grant_type": "authorization_code"}'
  CARTO_AUTH_HTTP_TIMEOUT_MS=1000 run_helper '' login
  assert_rc 1
  assert_eq 1 "$(standin_requests /oauth/token authorization_code)" "code exchanges sent"
  assert_empty "$OUT"
  last=$(printf '%s\n' "$ERR" | tail -n 1)
  assert_match "$last" "^carto-auth: login: .*token request to [^ ]+ failed: Operation timed out after [0-9]+ milliseconds"
  assert_contains "$last" "; not retried, as it carries a single-use secret the server may already have used"
  assert_match "$last" '^carto-auth: login: token request to ' "the command named once: $last"
  assert_eq 1 "$(printf '%s\n' "$ERR" | grep -c 'failed')" "one error line: $ERR"
  assert_not_contains "$ERR" "invalid_grant"
  wait_until 10 state_above codes_redeemed "$redeemed0"
  assert_eq $((redeemed0 + 1)) "$(state_of codes_redeemed)" "code redemptions"
  assert_no_file "$TOKFILE"
  assert_empty "$(ls -A "$CARTO_AUTH_HOME/tokens" 2>/dev/null)" "a token was stored"
  assert_no_secret
  standin_reset
  login_once
  assert_eq 1 "$(standin_requests /oauth/token authorization_code)"
}
t_case "a code exchange answer slower than the time-out: the code is not sent again" case_code_slow_answer

case_invalid_grant_in_description() {
  fresh grantword
  login_once
  local rt1
  rt1=$(json_file_get "$TOKFILE" refresh_token)
  standin_reset
  : >"$STANDIN_BROWSER_LOG"
  # Another error whose description names invalid_grant: the refresh token
  # is not dead, and only the error code may say it is.
  standin_fault '{"kind": "status", "status": 403, "path": "/oauth/token", "grant_type": "refresh_token", "body": {"error": "access_denied", "error_description": "not an invalid_grant, try again"}}'
  run_helper $'mode=oauth\nmin_ttl=90000\ninteractive=false\n\n' get
  assert_rc 1
  assert_empty "$OUT"
  assert_contains "$ERR" "access_denied"
  assert_eq 1 "$(standin_requests /oauth/token refresh_token)"
  no_browser_launched
  assert_eq "$rt1" "$(json_file_get "$TOKFILE" refresh_token)" "the refresh token is kept"

  # the next renewal still uses it
  run_helper $'mode=oauth\nmin_ttl=90000\ninteractive=false\n\n' get
  assert_rc 0
  assert_eq 2 "$(standin_requests /oauth/token refresh_token)"
  assert_eq "$rt1" "$(standin_last_form refresh_token)"
}
t_case "an error description naming invalid_grant does not forget the refresh token" case_invalid_grant_in_description

# --- non-interactive callers ------------------------------------------------------------

case_non_interactive() {
  fresh nonint
  run_helper $'mode=oauth\ninteractive=false\n\n' get
  assert_rc 1
  assert_empty "$OUT"
  assert_contains "$ERR" "carto-auth login"
  no_browser_launched
  GIT_TERMINAL_PROMPT=0 run_helper "$GET" get
  assert_rc 1
  assert_empty "$OUT"
  assert_contains "$ERR" "carto-auth login"
  no_browser_launched
  assert_no_file "$TOKFILE"
}
t_case "non-interactive callers fail at once, with no browser" case_non_interactive

# --- one login for parallel callers --------------------------------------------------------

case_parallel() {
  fresh parallel
  local i first
  for i in 1 2 3 4; do
    STANDIN_BROWSER_DELAY=1 run_helper_bg "p$i" "$GET" get
  done
  wait_helpers
  for i in 1 2 3 4; do
    helper_result "p$i"
    assert_rc 0 "caller $i"
    if [ "$i" = 1 ]; then first=$(kv_get "$OUT" password); fi
    assert_eq "$first" "$(kv_get "$OUT" password)" "caller $i got the shared token"
  done
  assert_eq 1 "$(standin_requests /authorize)" "one browser login"
  assert_eq 1 "$(standin_requests /oauth/token authorization_code)" "one token request"
  assert_eq 1 "$(grep -c '^URL ' "$STANDIN_BROWSER_LOG")" "one browser tab"
}
t_case "four parallel callers share one login" case_parallel

# --- CARTO Data Warehouse --------------------------------------------------------------------

case_dw() {
  fresh dw
  login_once
  run_helper $'mode=oauth\ncarto_dw=true\n\n' get
  assert_rc 0
  assert_eq carto-dw-ac-demo1234 "$(kv_get "$OUT" carto_dw_project)"
  assert_match "$(kv_get "$OUT" carto_dw_token)" '^ya29\.'
  assert_match "$(json_get "$(standin_request_json /v3/connections/carto-dw/token)" 0.headers.authorization)" '^Bearer eyJ'
  run_helper '' dw
  assert_rc 0
  assert_eq carto-dw-ac-demo1234 "$(kv_get "$OUT" carto_dw_project)"
  assert_match "$(kv_get "$OUT" carto_dw_token)" '^ya29\.'
  assert_empty "$ERR"
  run_helper '' dw --format json
  assert_rc 0
  assert_eq '{"project": "carto-dw-ac-demo1234", "token": "'"$(json_get "$OUT" token)"'"}' "$OUT" \
    "dw --format json, byte for byte"
  assert_match "$(json_get "$OUT" token)" '^ya29\.'

  # a refusal is reported with what to check
  standin_fault '{"kind": "status", "status": 403, "path": "/v3/connections/carto-dw/token"}'
  run_helper '' dw
  assert_rc 1
  assert_empty "$OUT"
  assert_contains "$ERR" "CARTO Data Warehouse token request refused (HTTP 403"
  assert_contains "$ERR" "api_base_url"
}
t_case "CARTO Data Warehouse credentials from get and dw" case_dw

t_done
