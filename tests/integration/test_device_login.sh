#!/bin/bash
# The device login (`carto-auth login --device`, RFC 8628) against the
# stand-in: what the user sees for every answer Auth0 gives (approved,
# authorization_pending, slow_down, access_denied, expired_token,
# unauthorized_client, a 404), the login timeout, the poll times the
# stand-in recorded (interval and slow_down kept, no retry of a 429), the
# stored token (as a browser login's), and escaping of what the server
# sends to the terminal, and the QR code on a terminal only (read back with
# zbarimg).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

standin_start
CLIENT_ID=0dxb8HR3ATXCxJiPOJVHsLoHoAtbRX6u
DEV_GRANT=urn:ietf:params:oauth:grant-type:device_code

fresh() {
  export CARTO_AUTH_HOME=$TEST_TMP/home-$1
  export STANDIN_BROWSER_LOG=$TEST_TMP/browser-$1.log
  : >"$STANDIN_BROWSER_LOG"
  TOKFILE=$CARTO_AUTH_HOME/token_oauth.json
  standin_reset
}

# The device code is the login until it is used: never on the terminal.
assert_no_secret() {
  local dc
  assert_not_contains "$ERR" "eyJ" "an access token on stderr"
  assert_not_contains "$ERR" "v1." "a refresh token on stderr"
  for dc in $(standin_request_json /oauth/token | "$PYTHON" -c '
import json, sys
for r in json.load(sys.stdin):
    print(r.get("form", {}).get("device_code", ""))'); do
    assert_not_contains "$ERR$OUT" "$dc" "the device code on the terminal"
  done
}

# No browser, no /authorize: the device login is the only one.
no_browser() {
  assert_empty "$(cat "$STANDIN_BROWSER_LOG")" "the browser was launched"
  assert_eq 0 "$(standin_requests /authorize)" "an /authorize request"
}

polls() { standin_requests /oauth/token "$DEV_GRANT"; }

# poll_gaps: the seconds between the device code and each poll, and between
# polls, as the stand-in recorded them (one per line, 2 decimals).
poll_gaps() {
  standin_request_json | "$PYTHON" -c '
import json, sys
reqs = json.load(sys.stdin)
times = [r["time"] for r in reqs if r["path"] == "/oauth/device/code"][-1:]
times += [r["time"] for r in reqs if r.get("form", {}).get("grant_type") == sys.argv[1]]
for a, b in zip(times, times[1:]):
    print(f"{b - a:.2f}")' "$DEV_GRANT"
}

# gap_at_least GAP MIN: GAP >= MIN - 0.05 (clock granularity).
gap_at_least() {
  awk -v g="$1" -v m="$2" 'BEGIN { exit !(g >= m - 0.05) }' ||
    { echo "a poll came after $1 s, before the interval of $2 s" >&2; return 1; }
}

# --- approved ------------------------------------------------------------------

case_approved() {
  fresh approved
  standin_settings '{"device_interval": 1, "device_script": ["pending", "approve"]}'
  run_helper '' login --device
  assert_rc 0
  assert_empty "$OUT" "login prints nothing on stdout"
  no_browser
  assert_no_secret
  local uc
  uc=$(json_get "$(standin_ctl GET /_control/device)" -1.user_code)
  assert_contains "$ERR" "To log in to CARTO, open this URL in a browser on any device:"
  assert_contains "$ERR" "  $STANDIN_URL/activate?user_code=$uc"
  assert_contains "$ERR" "and check that it shows the code $uc (or open $STANDIN_URL/activate and enter it)."
  assert_contains "$ERR" "Waiting for the login to be approved (300 s left; Ctrl-C cancels)..."
  assert_contains "$ERR" "Logged in to CARTO (oauth, $STANDIN_URL)"
  # stderr is a file here: no QR code, no colours
  assert_not_contains "$ERR" "scan this code" "a QR code in non-terminal output"
  assert_not_contains "$ERR" $'\e' "an escape sequence in non-terminal output"
  # the device authorization request: as the browser login's
  assert_eq 1 "$(standin_requests /oauth/device/code)"
  assert_eq "$CLIENT_ID" "$(standin_last_form client_id /oauth/device/code)"
  assert_eq offline_access "$(standin_last_form scope /oauth/device/code)"
  assert_eq carto-cloud-native-api "$(standin_last_form audience /oauth/device/code)"
  ! standin_last_form organization /oauth/device/code >/dev/null ||
    { echo "organization sent" >&2; return 1; }
  # the polls: grant, client, code; no faster than interval
  assert_eq 2 "$(polls)"
  assert_eq "$CLIENT_ID" "$(standin_last_form client_id)"
  local g
  for g in $(poll_gaps); do gap_at_least "$g" 1; done
  assert_eq 0 "$(json_get "$(standin_state)" device_too_fast)"
  # stored as a browser login's: refresh token, account, discovered API URL
  assert_file_mode "$TOKFILE" 600
  assert_eq "$STANDIN_URL" "$(json_file_get "$TOKFILE" api_base_url)"
  assert_nonempty "$(json_file_get "$TOKFILE" refresh_token)"
  assert_eq "auth0|demo-user" "$(json_file_get "$TOKFILE" account)"
  assert_eq 1 "$(standin_requests /accounts)" "discovery with the new token"
  # and used: the token command answers from the store, no new login
  run_helper '' token
  assert_rc 0
  assert_eq "$(json_file_get "$TOKFILE" access_token)" "$OUT"
  assert_eq 1 "$(standin_requests /oauth/device/code)"
}
t_case "approved: URL and code shown, token stored as a browser login's" case_approved

case_org() {
  fresh org
  standin_settings '{"device_interval": 1, "device_script": ["approve"]}'
  run_helper '' login --device --org acme-sso
  assert_rc 0
  assert_eq acme-sso "$(standin_last_form organization /oauth/device/code)"
  run_helper '' status
  assert_contains "$OUT" "organization: acme-sso"
  assert_contains "$OUT" "account:      auth0|sso-user-acme-sso"
}
t_case "--org: the organization is sent and the token kept for it" case_org

case_no_complete_default_interval() {
  fresh plainuri
  standin_settings '{"device_interval": null, "device_complete": false, "device_script": ["approve"]}'
  run_helper '' login --device
  assert_rc 0
  local uc
  uc=$(json_get "$(standin_ctl GET /_control/device)" -1.user_code)
  assert_contains "$ERR" "  $STANDIN_URL/activate"$'\n'"and enter the code: $uc"
  assert_not_contains "$ERR" "user_code="
  # no interval in the answer: RFC 8628's 5 s
  gap_at_least "$(poll_gaps | head -1)" 5
}
t_case "no verification_uri_complete, no interval: the code to enter, 5 s polls" case_no_complete_default_interval

# --- slow_down: +5 s, and a 429 is never retried at once --------------------

case_slow_down() {
  fresh slow
  standin_settings '{"device_interval": 1, "device_script": ["slow_down", "approve"]}'
  run_helper '' login --device
  assert_rc 0
  assert_eq 2 "$(polls)" "the 429 was retried instead of waiting"
  local gaps
  gaps=$(poll_gaps)
  gap_at_least "$(sed -n 1p <<<"$gaps")" 1
  gap_at_least "$(sed -n 2p <<<"$gaps")" 6
  assert_eq 0 "$(json_get "$(standin_state)" device_too_fast)"
  assert_file_exists "$TOKFILE"
}
t_case "slow_down: the interval grows by 5 s, the 429 is not retried" case_slow_down

# A poll whose answer comes after the time-out: not re-sent at once (that
# would be within the interval, which Auth0 counts as too fast, and after
# the approval the first poll redeems the code), but polled again at twice
# the interval (RFC 8628 3.5).
case_poll_no_answer() {
  fresh noanswer
  standin_settings '{"device_interval": 1, "device_script": ["pending", "approve"]}'
  standin_fault '{"kind": "delay", "seconds": 1.3, "path": "/oauth/token", "grant_type": "'"$DEV_GRANT"'"}'
  CARTO_AUTH_HTTP_TIMEOUT_MS=1000 run_helper '' --debug login --device
  assert_rc 0 "$ERR"
  assert_eq 2 "$(polls)" "polls"
  assert_eq 0 "$(json_get "$(standin_state)" device_too_fast)" "polls faster than the interval"
  assert_contains "$ERR" "debug: http: no retry of the device login poll, as it carries a single-use secret"
  assert_contains "$ERR" "debug: device login: the poll got no answer; polling again in 2 s"
  # 1 s time-out + 2 s; the time-out starts before the stand-in records the
  # poll, so the recorded gap may be short by the connect and dispatch.
  gap_at_least "$(poll_gaps | sed -n 2p)" 2.7
  assert_file_exists "$TOKFILE"
  assert_no_secret
}
t_case "a poll answered after the time-out: polled again at twice the interval, never too fast" case_poll_no_answer

# --- the answers that end the login ------------------------------------------

case_denied() {
  fresh denied
  standin_settings '{"device_interval": 1, "device_script": ["pending", "deny"]}'
  run_helper '' login --device
  assert_rc 1
  assert_contains "$ERR" "carto-auth: login: the login was denied on the verification page (access_denied)"
  assert_eq 2 "$(polls)"
  assert_no_file "$TOKFILE"
}
t_case "access_denied: exit 1, says so, nothing stored" case_denied

case_expired() {
  fresh expired
  standin_settings '{"device_interval": 1, "device_script": ["expire"]}'
  run_helper '' login --device
  assert_rc 1
  assert_contains "$ERR" "the login code expired before the login was approved (expired_token); run \`carto-auth login --device\` again"
  assert_no_file "$TOKFILE"
}
t_case "expired_token: exit 1, says to run it again" case_expired

case_code_lifetime() {
  fresh lifetime
  standin_settings '{"device_interval": 1, "device_lifetime": 3}'
  run_helper '' login --device
  assert_rc 1
  assert_contains "$ERR" "the login code expired after 3 s before the login was approved"
  assert_no_file "$TOKFILE"
}
t_case "the code's expires_in runs out: exit 1 without a pointless poll" case_code_lifetime

case_timeout() {
  fresh timeout
  standin_settings '{"device_interval": 1}'
  local t0 t1
  t0=$(date +%s)
  run_helper '' login --device --timeout 3
  t1=$(date +%s)
  assert_rc 1
  assert_contains "$ERR" "Waiting for the login to be approved (3 s left; Ctrl-C cancels)..."
  assert_contains "$ERR" "timed out after 3 s waiting for the device login to be approved"
  [ $((t1 - t0)) -le 6 ] || { echo "took $((t1 - t0)) s" >&2; return 1; }
  assert_eq 2 "$(polls)"
  assert_no_file "$TOKFILE"
}
t_case "--timeout: gives up after the login timeout" case_timeout

case_unauthorized_client() {
  fresh unauth
  standin_settings '{"device_grant": false}'
  run_helper '' login --device
  assert_rc 1
  assert_contains "$ERR" "does not allow the device login for this client (unauthorized_client); log in with \`carto-auth login --no-browser\` instead"
  assert_eq 0 "$(polls)"
  no_browser
  assert_no_file "$TOKFILE"
}
t_case "unauthorized_client: the message names --no-browser" case_unauthorized_client

case_not_found() {
  fresh notfound
  standin_fault '{"kind": "status", "status": 404, "path": "/oauth/device/code", "body": {"error": "not_found"}}'
  run_helper '' login --device
  assert_rc 1
  assert_contains "$ERR" "(HTTP 404 for /oauth/device/code); log in with \`carto-auth login --no-browser\` instead"
  assert_no_file "$TOKFILE"
}
t_case "no device endpoint (404): the message names --no-browser" case_not_found

# --- what the server sends is shown escaped ----------------------------------

case_escaped() {
  fresh escaped
  standin_settings "{\"device_interval\": 1, \"device_script\": [\"approve\"], \"device_complete\": false,
    \"device_verification_uri\": \"https://evil.example/\u001b]8;;x\u0007go\", \"device_user_code\": \"AB\u001b[2JCD\"}"
  run_helper '' login --device
  assert_rc 0
  assert_not_contains "$ERR" $'\e' "a raw escape character on the terminal"
  assert_not_contains "$ERR" $'\a' "a raw bell on the terminal"
  assert_contains "$ERR" 'https://evil.example/\x1b]8;;x\x07go'
  assert_contains "$ERR" 'and enter the code: AB\x1b[2JCD'
}
t_case "the URL and code from the server are shown escaped" case_escaped

# --- the QR code, on a terminal only -----------------------------------------

# on_tty TERM COLS ROWS ARGS...: the helper with stderr (and all) on a
# pseudo-terminal of that size; what the terminal showed goes to $TTY_OUT.
on_tty() {
  local term=$1 cols=$2 rows=$3
  shift 3
  TTY_OUT=$TEST_TMP/typescript
  RC=0
  TERM=$term SHELL=/bin/bash timeout -k 5 60 script -qec \
    "stty cols $cols rows $rows; exec $(printf '%q ' "$CARTO_AUTH" "$@")" \
    "$TTY_OUT" </dev/null >/dev/null 2>&1 || RC=$?
}

# qr_text FILE: the text of the QR code drawn in a terminal transcript
# (half blocks between our colour codes), read back with zbarimg.
qr_text() {
  "$PYTHON" - "$1" "$TEST_TMP/qr.pbm" <<'EOF'
import sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
rows = []
for line in text.split("\n"):
    if "\x1b[30;107m" not in line:
        continue
    body = line.split("\x1b[30;107m", 1)[1].split("\x1b[0m", 1)[0]
    top = [c in "\u2580\u2588" for c in body]
    bottom = [c in "\u2584\u2588" for c in body]
    rows += [top, bottom]
if not rows:
    sys.exit("no QR code in the transcript")
w, s = len(rows[0]), 4
with open(sys.argv[2], "w") as f:
    f.write(f"P1\n{(w + 8) * s} {(len(rows) + 8) * s}\n")
    for y in range(-4, len(rows) + 4):
        line = " ".join("1" if 0 <= y < len(rows) and 0 <= x < w and rows[y][x] else "0"
                        for x in range(-4, w + 4) for _ in range(s))
        for _ in range(s):
            f.write(line + "\n")
EOF
  zbarimg -q --raw -Sdisable -Sqrcode.enable "$TEST_TMP/qr.pbm" 2>/dev/null
}

case_qr_on_tty() {
  fresh qr
  standin_settings '{"device_interval": 1, "device_script": ["approve"]}'
  on_tty xterm 100 50 login --device
  assert_eq 0 "$RC"
  local uc
  uc=$(json_get "$(standin_ctl GET /_control/device)" -1.user_code)
  assert_contains "$(cat "$TTY_OUT")" "Or scan this code with a phone:"
  if command -v zbarimg >/dev/null; then
    assert_eq "$STANDIN_URL/activate?user_code=$uc" "$(qr_text "$TTY_OUT")" "the QR code's URL"
  else
    echo "zbarimg (zbar-tools) not installed: the QR code is not decoded" >&2
  fi
  assert_file_exists "$TOKFILE"
}
t_case "a terminal gets a QR code of the verification URL" case_qr_on_tty

case_no_qr() {
  fresh noqr
  standin_settings '{"device_interval": 1, "device_script": ["approve"]}'
  on_tty dumb 100 50 login --device
  assert_eq 0 "$RC"
  assert_contains "$(cat "$TTY_OUT")" "and check that it shows the code"
  assert_not_contains "$(cat "$TTY_OUT")" "scan this code" "QR code with TERM=dumb"
  standin_settings '{"device_interval": 1, "device_script": ["approve"]}'
  on_tty xterm 30 50 login --device
  assert_eq 0 "$RC"
  assert_not_contains "$(cat "$TTY_OUT")" "scan this code" "QR code wider than the terminal"
}
t_case "no QR code with TERM=dumb or on a narrow terminal" case_no_qr

case_debug_no_secret() {
  fresh debug
  standin_settings '{"device_interval": 1, "device_script": ["pending", "slow_down", "approve"]}'
  run_helper '' --debug login --device
  assert_rc 0
  assert_contains "$ERR" "device login: slow_down, polling every 6 s now"
  assert_no_secret
  run_helper '' --debug logout
  assert_rc 0
  assert_no_secret
  assert_eq 1 "$(standin_requests /oauth/revoke)"
}
t_case "--debug: the device code and tokens stay out of the trace" case_debug_no_secret

case_bad_usage() {
  fresh usage
  make_creds_file "$TEST_TMP/creds.json" demo-client-id-0001 "$STANDIN_SECRET_1" "$STANDIN_URL"
  run_helper '' login --device --m2m "$TEST_TMP/creds.json"
  assert_rc 2
  assert_contains "$ERR" "--device is an OAuth login; it does not go with --m2m"
  run_helper '' login --device --no-browser
  assert_rc 2
  assert_contains "$ERR" "it does not go with --no-browser"
  assert_eq 0 "$(standin_requests)"
}
t_case "--device with --m2m or --no-browser: usage error, no request" case_bad_usage

case_not_interactive() {
  fresh nonint
  GIT_TERMINAL_PROMPT=0 run_helper '' login --device
  assert_rc 1
  assert_contains "$ERR" "not logged in to CARTO (or the session ended) and this call may not open a browser; run: carto-auth login"
  assert_eq 0 "$(standin_requests /oauth/device/code)"
}
t_case "a caller that allows no interaction gets no device login" case_not_interactive

t_done
