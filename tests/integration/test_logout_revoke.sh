#!/bin/bash
# logout revokes the refresh token at {auth_url}/oauth/revoke before it
# forgets it: the stand-in records the request and the token then fails
# the refresh grant. Offline or refused, the token is forgotten all the
# same, with a warning that it was not revoked (exit 0). logout --all
# revokes each identity's token; M2M tokens have none to revoke.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

standin_start
CLIENT_ID=0dxb8HR3ATXCxJiPOJVHsLoHoAtbRX6u
export CARTO_AUTH_HTTP_TIMEOUT_MS=2000

fresh() {
  export CARTO_AUTH_HOME=$TEST_TMP/home-$1
  export CARTO_AUTH_REDIRECT_URI="http://localhost:$(free_port)/callback/"
  export STANDIN_BROWSER_LOG=$TEST_TMP/browser-$1.log
  : >"$STANDIN_BROWSER_LOG"
  TOKFILE=$CARTO_AUTH_HOME/token_oauth.json
  standin_reset
}

# login [ARGS]: a browser login through the stand-in's scripted browser.
login() {
  run_helper '' login "$@"
  assert_rc 0
}

# refresh_works TOKEN: the refresh grant at the stand-in accepts TOKEN.
refresh_status() {
  curl -q -sS --noproxy '*' -o /dev/null -w '%{http_code}' \
    -d grant_type=refresh_token -d client_id="$CLIENT_ID" -d refresh_token="$1" \
    "$STANDIN_URL/oauth/token"
}

no_secret() {
  assert_not_contains "$ERR" "v1." "a refresh token on stderr"
  assert_not_contains "$ERR" "eyJ" "an access token on stderr"
}

case_revoked() {
  fresh revoked
  login
  local rt
  rt=$(json_file_get "$TOKFILE" refresh_token)
  run_helper '' logout
  assert_rc 0
  assert_empty "$OUT"
  assert_eq "Revoked 1 refresh token at the CARTO login server."$'\n'"Removed 1 stored CARTO token." "$ERR"
  assert_eq 1 "$(standin_requests /oauth/revoke)"
  assert_eq "$CLIENT_ID" "$(standin_last_form client_id /oauth/revoke)"
  assert_eq "$rt" "$(standin_last_form token /oauth/revoke)" "the stored refresh token was revoked"
  assert_no_file "$TOKFILE"
  assert_eq 403 "$(refresh_status "$rt")" "the revoked refresh token still works"
}
t_case "logout revokes the refresh token, then forgets it" case_revoked

case_server_down() {
  fresh down
  login
  local rt
  rt=$(json_file_get "$TOKFILE" refresh_token)
  # the login server drops every revocation request (as when offline)
  standin_fault '{"kind": "reset", "path": "/oauth/revoke", "count": 0}'
  run_helper '' logout
  assert_rc 0
  assert_contains "$ERR" "carto-auth: warning: the refresh token was not revoked: revocation request to 127.0.0.1:$STANDIN_PORT failed"
  assert_contains "$ERR" "it is forgotten here all the same, but the server still honours it until it expires"
  assert_contains "$ERR" "1 refresh token was NOT revoked (see the warning above)."
  assert_contains "$ERR" "Removed 1 stored CARTO token."
  no_secret
  assert_no_file "$TOKFILE"
  standin_reset
  assert_eq 200 "$(refresh_status "$rt")" "not revoked, as the warning says"
}
t_case "login server unreachable: forgotten, says it was not revoked, exit 0" case_server_down

case_refused() {
  fresh refused
  login
  standin_fault '{"kind": "status", "status": 401, "path": "/oauth/revoke",
    "body": {"error": "invalid_client", "error_description": "Client authentication failed"}}'
  run_helper '' logout
  assert_rc 0
  assert_contains "$ERR" "carto-auth: warning: the refresh token was not revoked: revocation refused: invalid_client (Client authentication failed)"
  assert_contains "$ERR" "1 refresh token was NOT revoked"
  assert_contains "$ERR" "Removed 1 stored CARTO token."
  no_secret
  assert_no_file "$TOKFILE"
}
t_case "revocation refused: forgotten, says it was not revoked, exit 0" case_refused

case_all() {
  fresh all
  login
  login --org acme-sso
  local tokens
  tokens=$("$PYTHON" -c '
import json, pathlib, sys
home = pathlib.Path(sys.argv[1])
for p in sorted(home.glob("**/*.json")):
    d = json.loads(p.read_text())
    if d.get("refresh_token"):
        print(d["refresh_token"])' "$CARTO_AUTH_HOME" | sort -u)
  assert_eq 2 "$(wc -l <<<"$tokens")" "two identities with refresh tokens"
  run_helper '' logout --all
  assert_rc 0
  assert_contains "$ERR" "Revoked 2 refresh tokens at the CARTO login server."
  assert_contains "$ERR" "Removed 2 stored CARTO tokens."
  assert_eq "$tokens" "$(standin_request_json /oauth/revoke | "$PYTHON" -c '
import json, sys
for r in json.load(sys.stdin):
    print(r["form"]["token"])' | sort -u)" "each refresh token revoked"
  local rt
  for rt in $tokens; do
    assert_eq 403 "$(refresh_status "$rt")"
  done
  run_helper '' status
  assert_contains "$OUT" "No CARTO token is stored."
}
t_case "logout --all revokes each identity's refresh token" case_all

case_m2m() {
  fresh m2m
  make_creds_file "$TEST_TMP/creds.json" demo-client-id-0001 "$STANDIN_SECRET_1" "$STANDIN_URL"
  login --m2m "$TEST_TMP/creds.json"
  run_helper '' logout --m2m "$TEST_TMP/creds.json"
  assert_rc 0
  assert_eq "Removed 1 stored CARTO token." "$ERR"
  assert_eq 0 "$(standin_requests /oauth/revoke)" "nothing to revoke for M2M"
}
t_case "M2M: no refresh token, nothing revoked" case_m2m

case_no_refresh_token() {
  fresh norefresh
  login
  # a token without a refresh token (scope without offline_access)
  "$PYTHON" - "$CARTO_AUTH_HOME" <<'EOF'
import json, pathlib, sys
for p in pathlib.Path(sys.argv[1]).glob("**/*.json"):
    d = json.loads(p.read_text())
    d.pop("refresh_token", None)
    p.write_text(json.dumps(d))
EOF
  run_helper '' logout
  assert_rc 0
  assert_eq "Removed 1 stored CARTO token." "$ERR"
  assert_eq 0 "$(standin_requests /oauth/revoke)"
}
t_case "a token without a refresh token: nothing to revoke" case_no_refresh_token

# git's reject (a *.carto.com remote answered 401 to the token) retires the
# access token only: the refresh token stays, so the next get renews
# without a login, and logout can still revoke it. Without a password,
# erase forgets the identity whole, as before.
case_git_reject_keeps_refresh() {
  local token before
  fresh reject
  login
  run_helper $'mode=oauth\ninteractive=false\n\n' get
  assert_rc 0
  token=$(kv_get "$OUT" password)
  run_helper $'protocol=https\nhost=app.carto.com\nusername=oauth\npassword='"$token"$'\n\n' erase
  assert_rc 0
  assert_empty "$OUT"
  before=$(standin_requests /oauth/token)
  run_helper $'mode=oauth\ninteractive=false\n\n' get
  assert_rc 0 "the next non-interactive get renews: $ERR"
  assert_ne "$token" "$(kv_get "$OUT" password)" "the rejected token is never handed out again"
  assert_eq $((before + 1)) "$(standin_requests /oauth/token)" "one refresh grant"
  assert_eq refresh_token "$(standin_last_form grant_type)"
  no_secret
  # An erase without a password forgets the identity, refresh token too.
  run_helper $'mode=oauth\n\n' erase
  assert_rc 0
  run_helper $'mode=oauth\ninteractive=false\n\n' get
  assert_rc 1
  assert_contains "$ERR" "not logged in"
}
t_case "git's reject retires the access token and keeps the refresh token" case_git_reject_keeps_refresh

# git's erase and a renewal in another process at the same moment: the
# erase is held (gdb) after it read the stored record, while another get
# renews and the server rotates the refresh token. The erase must not put
# back the old record: its refresh token is used, and sending it again
# would make the server revoke the whole token family.
case_erase_during_renewal() {
  command -v gdb >/dev/null || { echo "(gdb is missing: scripts/deps.sh installs it)" >&2; return 1; }
  local token rt1 rt_after
  fresh erase-race
  login
  run_helper $'mode=oauth\ninteractive=false\n\n' get
  assert_rc 0
  token=$(kv_get "$OUT" password)
  rt1=$(json_file_get "$TOKFILE" refresh_token)
  printf 'protocol=https\nhost=app.carto.com\nusername=oauth\npassword=%s\n\n' "$token" >"$TEST_TMP/erase.in"
  cat >"$TEST_TMP/renew.sh" <<EOS
printf 'mode=oauth\ninteractive=false\nuse_cache=false\n\n' | timeout 60 "$CARTO_AUTH" get >"$TEST_TMP/renew.out" 2>"$TEST_TMP/renew.err"
echo \$? >"$TEST_TMP/renew.rc"
EOS
  # The erase stops right before it writes (it has read the record); there
  # another process renews, and is given 2 s; then the erase goes on.
  rm -f "$TEST_TMP/renew.rc"
  timeout 120 gdb -q -batch -ex 'set breakpoint pending on' -ex 'break file_token_save' \
    -ex "run erase <$TEST_TMP/erase.in" -ex 'delete' \
    -ex "shell (bash $TEST_TMP/renew.sh &) ; sleep 2" \
    -ex continue --args "$CARTO_AUTH" erase >"$TEST_TMP/gdb.out" 2>&1 || true
  wait_until 30 test -s "$TEST_TMP/renew.rc"
  assert_eq 0 "$(cat "$TEST_TMP/renew.rc")" "the renewal beside the erase: $(cat "$TEST_TMP/renew.err")"
  grep -q "Breakpoint 1," "$TEST_TMP/gdb.out" || { cat "$TEST_TMP/gdb.out" >&2; return 1; }
  rt_after=$(json_file_get "$TOKFILE" refresh_token)
  assert_ne "$rt1" "$rt_after" "the used refresh token was put back"
  run_helper $'mode=oauth\ninteractive=false\n\n' get
  assert_rc 0 "the next non-interactive get: $ERR"
  assert_not_contains "$(standin_state)" '"refresh_reuse_detected": 1' "the server saw a used refresh token"
  no_secret
}
t_case "an erase beside a renewal never puts back a rotated refresh token" case_erase_during_renewal

# Another process holds the identity's lock for long (a browser login
# waits for a person): git's erase neither stalls behind it nor leaves the
# rejected token to be handed out again.
case_erase_beside_held_lock() {
  local token lock holder t0 t1
  fresh held-lock
  login
  run_helper $'mode=oauth\ninteractive=false\n\n' get
  assert_rc 0
  token=$(kv_get "$OUT" password)
  lock=$(ls "$CARTO_AUTH_HOME"/locks/oauth-*.lock | head -n 1)
  [ -n "$lock" ] || { echo "no identity lock file" >&2; return 1; }
  flock -x "$lock" sleep 30 &
  holder=$!
  wait_until 10 bash -c '! flock -n -x "$1" true' _ "$lock"
  t0=$(date +%s%N)
  run_helper $'protocol=https\nhost=app.carto.com\nusername=oauth\npassword='"$token"$'\n\n' erase
  t1=$(date +%s%N)
  kill "$holder" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
  assert_rc 0 "erase beside a held lock: $ERR"
  [ $(( (t1 - t0) / 1000000 )) -lt 8000 ] || { echo "git's erase stalled $(( (t1 - t0) / 1000000 )) ms" >&2; return 1; }
  run_helper $'mode=oauth\ninteractive=false\n\n' get
  assert_rc 0 "the next get renews: $ERR"
  assert_ne "$token" "$(kv_get "$OUT" password)" "the rejected token was handed out again"
  no_secret
}
t_case "an erase beside a long-held identity lock neither stalls nor keeps the rejected token" case_erase_beside_held_lock

t_done
