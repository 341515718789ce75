#!/bin/bash
# M2M tokens end to end through the protocol: the SPEC's answer, the cache,
# several identities side by side, the Python reference's file, min_ttl,
# erase, bad input of every kind, faults, TLS.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

standin_start
CREDS=$TEST_TMP/creds.json
CREDS2=$TEST_TMP/creds2.json
make_creds_file "$CREDS" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
make_creds_file "$CREDS2" "$STANDIN_CLIENT_2" "$STANDIN_SECRET_2" "$STANDIN_URL"
REQ=$'credentials_file='"$CREDS"$'\n\n'
TOKFILE=$CARTO_AUTH_HOME/token_m2m.json

# No secret of ours may appear on stderr, ever.
assert_no_secret() {
  assert_not_contains "$ERR" "$STANDIN_SECRET_1" "client secret 1 on stderr"
  assert_not_contains "$ERR" "$STANDIN_SECRET_2" "client secret 2 on stderr"
  assert_not_contains "$ERR" "eyJ" "a token on stderr"
}

case_get_prints_spec_lines() {
  run_helper "$REQ" get
  assert_rc 0
  assert_empty "$ERR" "nothing on stderr"
  local keys
  keys=$(printf '%s\n' "$OUT" | cut -d= -f1 | tr '\n' ' ')
  assert_eq "protocol host username password password_expiry_utc access_token token_type expiration api_base_url mode " "$keys" "answer keys in SPEC order"
  assert_eq "https" "$(kv_get "$OUT" protocol)"
  assert_eq "127.0.0.1:$STANDIN_PORT" "$(kv_get "$OUT" host)" "host of api_base_url"
  assert_eq "$STANDIN_CLIENT_1" "$(kv_get "$OUT" username)"
  assert_eq "$(kv_get "$OUT" password)" "$(kv_get "$OUT" access_token)"
  assert_eq "Bearer" "$(kv_get "$OUT" token_type)"
  assert_eq "$STANDIN_URL" "$(kv_get "$OUT" api_base_url)"
  assert_eq "m2m" "$(kv_get "$OUT" mode)"
  local exp now
  exp=$(kv_get "$OUT" expiration); now=$(date +%s)
  [ "$exp" -gt $((now + 86000)) ] && [ "$exp" -le $((now + 86401)) ] ||
    { echo "expiration $exp not about a day ahead" >&2; return 1; }
  assert_eq 1 "$(standin_requests /oauth/token client_credentials)" "one token request"
  assert_eq "client_credentials" "$(standin_last_form grant_type)"
  assert_eq "carto-cloud-native-api" "$(standin_last_form audience)"
  assert_eq "$STANDIN_CLIENT_1" "$(standin_last_form client_id)"
  json_get "$(standin_request_json /oauth/token)" "0.headers.content-type" | grep -q 'application/x-www-form-urlencoded'
  kv_get "$OUT" password >"$TEST_TMP/token1"
}
t_case "get prints the SPEC's lines and makes one token request" case_get_prints_spec_lines

case_cache_hit() {
  run_helper "$REQ" get
  assert_rc 0
  assert_eq "$(cat "$TEST_TMP/token1")" "$(kv_get "$OUT" password)" "same token"
  assert_eq 1 "$(standin_requests /oauth/token)" "no second request"
}
t_case "a second get is answered from the cache" case_cache_hit

case_file_store_layout() {
  assert_file_mode "$CARTO_AUTH_HOME" 700
  assert_file_mode "$TOKFILE" 600
  assert_eq "$(cat "$TEST_TMP/token1")" "$(json_file_get "$TOKFILE" access_token)"
  assert_eq "$STANDIN_URL" "$(json_file_get "$TOKFILE" api_base_url)"
  json_file_get "$TOKFILE" expiration | grep -Eq '^[0-9]+$'
  local n
  n=$(ls "$CARTO_AUTH_HOME/tokens" | wc -l)
  assert_eq 1 "$n" "one per-identity file"
  [ -z "$(find "$CARTO_AUTH_HOME" -name '*.tmp.*')" ]
}
t_case "token files: 0700 folder, 0600 files, the reference's keys" case_file_store_layout

case_second_identity() {
  run_helper $'credentials_file='"$CREDS2"$'\n\n' get
  assert_rc 0
  assert_eq "$STANDIN_CLIENT_2" "$(kv_get "$OUT" username)"
  assert_ne "$(cat "$TEST_TMP/token1")" "$(kv_get "$OUT" password)" "its own token"
  assert_eq 2 "$(standin_requests /oauth/token)"
  assert_eq "$STANDIN_CLIENT_2" "$(standin_last_form client_id)"
  # The first identity's token was not evicted.
  run_helper "$REQ" get
  assert_eq "$(cat "$TEST_TMP/token1")" "$(kv_get "$OUT" password)"
  assert_eq 2 "$(standin_requests /oauth/token)" "no request for the first again"
}
t_case "another credentials file gets its own token, side by side" case_second_identity

case_inline_and_options() {
  run_helper $'client_id='"$STANDIN_CLIENT_1"$'\nclient_secret='"$STANDIN_SECRET_1"$'\napi_base_url='"$STANDIN_URL"$'\n\n' get
  assert_rc 0
  assert_eq "$(cat "$TEST_TMP/token1")" "$(kv_get "$OUT" password)" "inline credentials: same identity"
  run_helper $'protocol=https\nhost=gcp-us-east1.api.carto.com\n\n' --m2m "$CREDS" get
  assert_rc 0
  assert_eq "$(cat "$TEST_TMP/token1")" "$(kv_get "$OUT" password)" "--m2m before the action"
  assert_eq "gcp-us-east1.api.carto.com" "$(kv_get "$OUT" host)" "host echoes the request"
  run_helper "" token --m2m "$CREDS"
  assert_rc 0
  assert_eq "$(cat "$TEST_TMP/token1")" "$OUT" "token prints the token alone"
  run_helper "" token --m2m "$CREDS" --format header
  assert_eq "Authorization: Bearer $(cat "$TEST_TMP/token1")" "$OUT"
  run_helper "" token --m2m "$CREDS" --format env
  ( eval "$OUT"; [ "$CARTO_ACCESS_TOKEN" = "$(cat "$TEST_TMP/token1")" ] && [ "$CARTO_API_BASE_URL" = "$STANDIN_URL" ] )
  run_helper "" token --m2m "$CREDS" --format json
  assert_eq "$(cat "$TEST_TMP/token1")" "$(json_get "$OUT" access_token)"
  assert_eq "m2m" "$(json_get "$OUT" mode)"
  assert_eq '{"access_token": "'"$(cat "$TEST_TMP/token1")"'", "expiration": '"$(json_get "$OUT" expiration)"', "api_base_url": "'"$STANDIN_URL"'", "mode": "m2m"}' \
    "$OUT" "token --format json, byte for byte"
  assert_eq 2 "$(standin_requests /oauth/token)" "all from the cache"
}
t_case "inline credentials, options before the action, token formats" case_inline_and_options

case_python_reference_file() {
  local home=$TEST_TMP/pyhome py_token
  mkdir -m 700 "$home"
  # The reference's file holds a token for this client (its claims say so).
  py_token=$(CARTO_AUTH_HOME=$TEST_TMP/pyhome-mint run_helper "$REQ" get && kv_get "$OUT" password)
  printf '{"api_base_url": "%s", "access_token": "%s", "expiration": %s}' \
    "$STANDIN_URL" "$py_token" $(( $(date +%s) + 3600 )) >"$home/token_m2m.json"
  chmod 600 "$home/token_m2m.json"
  local before
  before=$(standin_requests /oauth/token)
  CARTO_AUTH_HOME=$home run_helper "$REQ" get
  assert_rc 0
  assert_eq "$py_token" "$(kv_get "$OUT" password)" "the reference's token is used"
  assert_eq "$before" "$(standin_requests /oauth/token)" "no token request"
  # For another API base URL it is not.
  printf '{"api_base_url": "https://other.example", "access_token": "%s", "expiration": %s}' \
    "$py_token" $(( $(date +%s) + 3600 )) >"$home/token_m2m.json"
  rm -f "$home"/tokens/*
  CARTO_AUTH_HOME=$home run_helper "$REQ" get
  assert_ne "$py_token" "$(kv_get "$OUT" password)"
  assert_eq $((before + 1)) "$(standin_requests /oauth/token)"
  # And the Python package can read what we wrote.
  "$PYTHON" - "$home/token_m2m.json" "$STANDIN_URL" <<'PY'
import json, sys, time
d = json.load(open(sys.argv[1]))
assert d["api_base_url"] == sys.argv[2], d
assert d["access_token"] and d["expiration"] > time.time()
PY
}
t_case "a token file written by the Python reference is shared" case_python_reference_file

case_min_ttl() {
  local home=$TEST_TMP/ttlhome before
  standin_fault '{"path": "/oauth/token", "kind": "expires_in", "value": 100}'
  CARTO_AUTH_HOME=$home run_helper "$REQ" get
  assert_rc 0
  kv_get "$OUT" password >"$TEST_TMP/short"
  before=$(standin_requests /oauth/token)
  # No min_ttl given: a 100 s token is reused while half its lifetime is left.
  CARTO_AUTH_HOME=$home run_helper "$REQ" get
  assert_eq "$(cat "$TEST_TMP/short")" "$(kv_get "$OUT" password)" "reused (100 s token, 50 s margin)"
  assert_eq "$before" "$(standin_requests /oauth/token)"
  # An explicit min_ttl=300: fresh from the server it was handed out although
  # under min_ttl; stored, it is renewed.
  CARTO_AUTH_HOME=$home run_helper $'credentials_file='"$CREDS"$'\nmin_ttl=300\n\n' get
  assert_ne "$(cat "$TEST_TMP/short")" "$(kv_get "$OUT" password)" "renewed (100 s < min_ttl=300)"
  assert_eq $((before + 1)) "$(standin_requests /oauth/token)"
  CARTO_AUTH_HOME=$home run_helper $'credentials_file='"$CREDS"$'\nmin_ttl=90000\n\n' get
  assert_rc 0
  assert_eq $((before + 2)) "$(standin_requests /oauth/token)" "min_ttl=90000 renews a day token"
  CARTO_AUTH_HOME=$home run_helper $'credentials_file='"$CREDS"$'\nuse_cache=false\n\n' get
  assert_eq $((before + 3)) "$(standin_requests /oauth/token)" "use_cache=false asks the server"
}
t_case "min_ttl decides renewal; use_cache=false skips the cache" case_min_ttl

case_erase() {
  local home=$TEST_TMP/erasehome tok before
  CARTO_AUTH_HOME=$home run_helper "$REQ" get
  tok=$(kv_get "$OUT" password)
  CARTO_AUTH_HOME=$home run_helper $'credentials_file='"$CREDS"$'\npassword=not-the-token\n\n' erase
  assert_rc 0
  assert_eq "$tok" "$(json_file_get "$home/token_m2m.json" access_token)" "a different password erases nothing"
  CARTO_AUTH_HOME=$home run_helper $'credentials_file='"$CREDS"$'\npassword='"$tok"$'\n\n' erase
  assert_rc 0
  assert_no_file "$home/token_m2m.json"
  [ -z "$(ls "$home/tokens")" ]
  before=$(standin_requests /oauth/token)
  CARTO_AUTH_HOME=$home run_helper "$REQ" get
  assert_ne "$tok" "$(kv_get "$OUT" password)" "a new token after erase"
  assert_eq $((before + 1)) "$(standin_requests /oauth/token)"
}
t_case "erase drops the token (unless the password differs)" case_erase

# Bad input: status, one line on stderr, nothing on stdout, store untouched.
bad() {
  local want_rc=$1 want_msg=$2 input=$3
  shift 3
  cp "$TOKFILE" "$TEST_TMP/snapshot"
  local n_before
  n_before=$(ls -la "$CARTO_AUTH_HOME/tokens" | md5sum)
  _t_capture "$input" "$CARTO_AUTH" "$@"
  assert_rc "$want_rc"
  assert_empty "$OUT" "nothing on stdout"
  assert_eq 1 "$(printf '%s\n' "$ERR" | wc -l)" "one line on stderr: $ERR"
  assert_contains "$ERR" "$want_msg"
  assert_no_secret
  cmp -s "$TOKFILE" "$TEST_TMP/snapshot" || { echo "token file changed" >&2; return 1; }
  assert_eq "$n_before" "$(ls -la "$CARTO_AUTH_HOME/tokens" | md5sum)" "tokens folder unchanged"
}

case_bad_protocol_input() {
  bad 2 "without '='" $'credentials_file='"$CREDS"$'\njunk\n\n' get
}
case_bad_nul() {
  printf 'credentials_file=%s\nho\0st=x\n\n' "$CREDS" >"$TEST_TMP/nul.in"
  cp "$TOKFILE" "$TEST_TMP/snapshot"
  set +e; "$CARTO_AUTH" get <"$TEST_TMP/nul.in" >"$TEST_TMP/o" 2>"$TEST_TMP/e"; RC=$?; set -e
  OUT=$(cat "$TEST_TMP/o"); ERR=$(cat "$TEST_TMP/e")
  assert_rc 2; assert_empty "$OUT"; assert_contains "$ERR" "NUL"
  cmp -s "$TOKFILE" "$TEST_TMP/snapshot"
}
case_bad_long_line() {
  local long
  long=$(head -c 70000 /dev/zero | tr '\0' a)
  bad 2 "longer than 65535" $'credentials_file='"$CREDS"$'\npath='"$long"$'\n\n' get
  bad 2 "line without '='" $'credentials_file='"$CREDS"$'\nnoequals\n\n' store
  bad 2 "line without '='" $'noequals\n\n' erase
}
case_bad_keys() {
  bad 2 "mode must be oauth or m2m" $'mode=saml\n\n' get
  bad 2 "use_cache must be true or false" $'credentials_file='"$CREDS"$'\nuse_cache=maybe\n\n' get
  bad 2 "min_ttl must be a number" $'credentials_file='"$CREDS"$'\nmin_ttl=-4\n\n' get
  bad 2 "api_base_url must be an https:// URL" $'credentials_file='"$CREDS"$'\napi_base_url=http://evil.example\n\n' get
  bad 2 "without client_secret" $'client_id=abc\n\n' get
}
case_bad_credentials_files() {
  local f=$TEST_TMP/badcreds.json
  printf '{"api_base_url": "%s", "client_id": "x"}' "$STANDIN_URL" >"$f"; chmod 600 "$f"
  bad 2 "missing attribute client_secret in $f" $'credentials_file='"$f"$'\n\n' get
  printf '{"api_base_url": "%s", "client_id": "", "client_secret": "s"}' "$STANDIN_URL" >"$f"
  bad 2 "missing value for client_id in $f" $'credentials_file='"$f"$'\n\n' get
  printf '{"api_base_url": "%s", "client_id": 42, "client_secret": "s"}' "$STANDIN_URL" >"$f"
  bad 2 "attribute client_id in $f must be a string" $'credentials_file='"$f"$'\n\n' get
  printf '{"api_base_url": ' >"$f"
  bad 2 "is not a JSON object" $'credentials_file='"$f"$'\n\n' get
  bad 2 "no such file" $'credentials_file='"$TEST_TMP/nope.json"$'\n\n' get
  mkdir -p "$TEST_TMP/adir"
  bad 2 "not a regular file" $'credentials_file='"$TEST_TMP/adir"$'\n\n' get
}
case_refused_secret() {
  local f=$TEST_TMP/wrongsecret.json
  make_creds_file "$f" "$STANDIN_CLIENT_1" "wrong-secret-value-123" "$STANDIN_URL"
  bad 1 "access_denied" $'credentials_file='"$f"$'\nuse_cache=false\n\n' get
  assert_not_contains "$ERR" "wrong-secret-value-123"
}
t_case "bad input: a line without '='" case_bad_protocol_input
t_case "bad input: a NUL byte" case_bad_nul
t_case "bad input: an over-long line, on every action" case_bad_long_line
t_case "bad input: wrong keys and values" case_bad_keys
t_case "bad credentials files are named with the attribute" case_bad_credentials_files
t_case "a wrong client secret: exit 1, Auth0's error, no secret" case_refused_secret

case_warn_readable_creds() {
  local f=$TEST_TMP/readable.json
  make_creds_file "$f" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
  chmod 644 "$f"
  run_helper $'credentials_file='"$f"$'\n\n' get
  assert_rc 0
  assert_contains "$ERR" "readable by other users"
  assert_no_secret
}
t_case "a credentials file readable by others: a warning, not a failure" case_warn_readable_creds

case_unknown_action() {
  run_helper "$REQ" frobnicate
  assert_rc 0; assert_empty "$OUT"; assert_empty "$ERR"
  run_helper $'credentials_file='"$CREDS"$'\nfuture_key=1\ncapability[]=authtype\n\n' get
  assert_rc 0
  assert_eq "authtype" "$(kv_get "$OUT" 'capability[]')"
  assert_eq "Bearer" "$(kv_get "$OUT" authtype)"
  assert_eq "$(cat "$TEST_TMP/token1")" "$(kv_get "$OUT" credential)"
}
t_case "unknown actions and keys are ignored; authtype when announced" case_unknown_action

case_symlink_not_followed() {
  local home=$TEST_TMP/linkhome victim=$TEST_TMP/victim
  mkdir -m 700 -p "$home"
  echo "precious" >"$victim"
  ln -s "$victim" "$home/token_m2m.json"
  CARTO_AUTH_HOME=$home run_helper "$REQ" get
  assert_rc 0
  assert_eq "precious" "$(cat "$victim")" "the symlink's target is untouched"
  [ ! -L "$home/token_m2m.json" ] || { echo "still a symlink" >&2; return 1; }
  # A symlinked store folder is refused.
  ln -s "$home" "$TEST_TMP/linkedhome"
  CARTO_AUTH_HOME=$TEST_TMP/linkedhome run_helper $'credentials_file='"$CREDS"$'\nuse_cache=false\n\n' get
  assert_rc 1
  assert_contains "$ERR" "symbolic link"
}
t_case "a planted symlink is replaced, never followed" case_symlink_not_followed

case_server_faults() {
  local home=$TEST_TMP/faulthome before
  before=$(standin_requests /oauth/token)
  standin_fault '{"path": "/oauth/token", "kind": "status", "status": 503, "count": 2}'
  CARTO_AUTH_HOME=$home run_helper "$REQ" get
  assert_rc 0
  assert_eq $((before + 3)) "$(standin_requests /oauth/token)" "two retries after 503"
  cp "$home/token_m2m.json" "$TEST_TMP/fsnap"
  for kind in nonjson wrongtypes; do
    standin_fault '{"path": "/oauth/token", "kind": "'$kind'"}'
    CARTO_AUTH_HOME=$home run_helper $'credentials_file='"$CREDS"$'\nuse_cache=false\n\n' get
    assert_rc 1
    assert_empty "$OUT"
    cmp -s "$home/token_m2m.json" "$TEST_TMP/fsnap"
  done
  standin_fault '{"path": "/oauth/token", "kind": "status", "status": 500, "count": 3}'
  CARTO_AUTH_HOME=$home run_helper $'credentials_file='"$CREDS"$'\nuse_cache=false\n\n' get
  assert_rc 1
  assert_contains "$ERR" "HTTP 500"
  cmp -s "$home/token_m2m.json" "$TEST_TMP/fsnap"
}
t_case "retries on 503; bad answers are errors and never stored" case_server_faults

# typed REQ-EXTRA WANT-RC WANT-ERROR WANT-REASON: a failed get from a caller
# that announces capability[]=carto-error: stdout names the failure, and
# nothing else; error_reason is absent when WANT-REASON is empty.
typed() {
  run_helper $'capability[]=carto-error\n'"$1"$'\n\n' get
  assert_rc "$2"
  assert_eq "carto-error" "$(kv_get "$OUT" 'capability[]')"
  assert_eq "$3" "$(kv_get "$OUT" error)" "error= for: $ERR"
  assert_eq "$4" "$(kv_get "$OUT" error_reason)" "error_reason= for: $ERR"
  assert_not_contains "$OUT" "access_token=" "no token in a failure"
  assert_eq 1 "$(printf '%s\n' "$ERR" | wc -l)" "the message, one line on stderr"
  assert_no_secret
}

case_typed_failures() {
  local f=$TEST_TMP/typedcreds.json port
  printf '{"api_base_url": "%s", "client_id": "x"}' "$STANDIN_URL" >"$f"; chmod 600 "$f"
  typed "credentials_file=$f" 2 invalid missing_attribute
  printf '{"api_base_url": "%s", "client_id": "", "client_secret": "s"}' "$STANDIN_URL" >"$f"
  typed "credentials_file=$f" 2 invalid missing_value
  printf '{"api_base_url": ' >"$f"
  typed "credentials_file=$f" 2 invalid credentials_not_json
  typed "credentials_file=$TEST_TMP/nope.json" 2 invalid credentials_not_found
  typed "mode=saml" 2 invalid ""
  make_creds_file "$f" "$STANDIN_CLIENT_1" "wrong-secret-value-123" "$STANDIN_URL"
  typed $'credentials_file='"$f"$'\nuse_cache=false' 1 refused access_denied
  # A server names only OAuth's causes: its "unreachable" is a refusal
  # for a reason of its own, never our "no answer".
  standin_fault '{"path": "/oauth/token", "kind": "status", "status": 400, "body": {"error": "unreachable", "error_description": "token request to auth.carto.com failed: Couldn'"'"'t connect"}}'
  typed $'credentials_file='"$CREDS"$'\nuse_cache=false' 1 refused other
  standin_fault '{"path": "/oauth/token", "kind": "status", "status": 500, "count": 3}'
  typed $'credentials_file='"$CREDS"$'\nuse_cache=false' 1 network ""
  port=$(free_port)
  make_creds_file "$f" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "http://127.0.0.1:$port"
  CARTO_AUTH_URL=http://127.0.0.1:$port typed $'credentials_file='"$f"$'\nuse_cache=false' 1 network unreachable
  # git never announces it: a failed get keeps stdout empty.
  run_helper $'credentials_file='"$TEST_TMP/nope.json"$'\n\n' get
  assert_rc 2
  assert_empty "$OUT"
}
t_case "a failed get is typed for a caller that announces capability[]=carto-error" case_typed_failures

case_tls() {
  local plain_url=$STANDIN_URL
  standin_start --tls
  local creds=$TEST_TMP/tlscreds.json
  make_creds_file "$creds" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
  CARTO_AUTH_HOME=$TEST_TMP/tlshome run_helper $'credentials_file='"$creds"$'\n\n' get
  assert_rc 0
  assert_eq "$STANDIN_URL" "$(kv_get "$OUT" api_base_url)"
  assert_eq 1 "$(standin_requests /oauth/token)"
  # Without the test CA the certificate is refused.
  CURL_CA_BUNDLE= CARTO_AUTH_HOME=$TEST_TMP/tlshome2 run_helper $'credentials_file='"$creds"$'\n\n' get
  assert_rc 1
  assert_contains "$ERR" "certificate"
  assert_empty "$OUT"
  # http:// to a non-loopback host is refused before anything is sent.
  CARTO_AUTH_URL=http://auth.example.com CARTO_AUTH_HOME=$TEST_TMP/tlshome3 run_helper "$REQ" get
  assert_rc 2
  assert_contains "$ERR" "https://"
}
t_case "TLS with a test CA; certificate checks stay on; no plain http off loopback" case_tls

t_done
