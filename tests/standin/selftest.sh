#!/bin/bash
# selftest.sh -- checks the test tooling itself: the stand-in server
# (carto_standin.py, plain and TLS), its control API and faults, browser.sh,
# mkcerts.sh and tests/lib.sh.  Needs python3, curl and openssl; no network
# beyond loopback.  Prints "N passed, 0 failed" when all is well.
set -euo pipefail

# The stand-in must run on Debian 12's interpreter; prefer it when present.
if [ -z "${PYTHON:-}" ] && [ -x /usr/bin/python3 ]; then
  PYTHON=/usr/bin/python3
fi
. "$(dirname "$0")/../lib.sh"

AUD=carto-cloud-native-api

# -- helpers ------------------------------------------------------------------------

# req [CURL ARGS...] URL: one request; sets STATUS, BODY, HEADERS (raw),
# CURL_RC, CURL_ERR.  Never fails.
req() {
  CURL_RC=0
  STATUS=$(curl -q -sS --noproxy '*' --max-time 20 -D "$TEST_TMP/.h" \
    -o "$TEST_TMP/.b" -w '%{http_code}' "$@" 2>"$TEST_TMP/.e") || CURL_RC=$?
  BODY=$(cat "$TEST_TMP/.b" 2>/dev/null || true)
  BODY_BYTES=0
  [ ! -f "$TEST_TMP/.b" ] || BODY_BYTES=$(wc -c <"$TEST_TMP/.b")
  HEADERS=$(tr -d '\r' <"$TEST_TMP/.h" 2>/dev/null || true)
  CURL_ERR=$(cat "$TEST_TMP/.e")
  rm -f "$TEST_TMP/.b" "$TEST_TMP/.h"
}

# header NAME: value of a response header of the last req (case-insensitive).
header() {
  printf '%s\n' "$HEADERS" | awk -v n="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" -F': ' \
    'tolower($1) == n { sub(/^[^:]*: /, ""); v = $0 } END { print v }'
}

post_token() { req -X POST "$@" "$STANDIN_URL/oauth/token"; }

m2m_form() {
  printf -- '-d grant_type=client_credentials -d audience=%s -d client_id=%s -d client_secret=%s' \
    "$AUD" "${1:-$STANDIN_CLIENT_1}" "${2:-$STANDIN_SECRET_1}"
}

# m2m_token [CLIENT SECRET]: print a fresh M2M access token.
m2m_token() {
  # shellcheck disable=SC2046
  post_token $(m2m_form "$@")
  [ "$STATUS" = 200 ] || { echo "m2m_token: HTTP $STATUS $BODY" >&2; return 1; }
  json_get "$BODY" access_token
}

# jwt_claim TOKEN CLAIM: a claim of a JWT's payload.
jwt_claim() {
  "$PYTHON" -c '
import base64, json, sys
payload = sys.argv[1].split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
print(claims[sys.argv[2]])' "$1" "$2"
}

# pkce: set VERIFIER and CHALLENGE (S256).
pkce() {
  local pair
  pair=$("$PYTHON" -c '
import base64, hashlib, secrets
v = secrets.token_urlsafe(48)
c = base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b"=").decode()
print(v, c)')
  VERIFIER=${pair% *}
  CHALLENGE=${pair#* }
}

urlencode() { "$PYTHON" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

REDIRECT=http://localhost:10999/callback/

# authorize_url STATE [EXTRA QUERY]: an authorize URL for $CHALLENGE.
authorize_url() {
  printf '%s/authorize?client_id=test-client&response_type=code&audience=%s&redirect_uri=%s&code_challenge_method=S256&code_challenge=%s&state=%s%s\n' \
    "$STANDIN_URL" "$AUD" "$(urlencode "$REDIRECT")" "$CHALLENGE" "$(urlencode "$1")" "${2:-}"
}

# get_code [EXTRA QUERY]: run /authorize (new PKCE pair); set CODE.
get_code() {
  pkce
  CODE=$(standin_authorize_code "$(authorize_url st8 "${1:-}")")
}

# redeem CODE VERIFIER [REDIRECT] [CLIENT]: the authorization_code exchange.
redeem() {
  post_token -d grant_type=authorization_code -d audience="$AUD" \
    -d client_id="${4:-test-client}" -d code="$1" \
    --data-urlencode redirect_uri="${3:-$REDIRECT}" -d code_verifier="$2"
}

refresh() { post_token -d grant_type=refresh_token -d client_id="${2:-test-client}" -d refresh_token="$1"; }

state_field() { json_get "$(standin_state)" "$1"; }

# expect_fail CMD...: CMD (an assertion) must fail.
expect_fail() {
  if "$@" 2>/dev/null; then _t_assert_failed "should have failed: $*"; fi
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---------------------------------------------------------------------------------------
# Plain HTTP stand-in
# ---------------------------------------------------------------------------------------

standin_start
PLAIN_URL=$STANDIN_URL
PLAIN_DIR=$STANDIN_RUN_DIR

case_start() {
  assert_match "$STANDIN_PORT" '^[0-9]+$' "numeric port"
  assert_eq "http://127.0.0.1:$STANDIN_PORT" "$STANDIN_URL" "base URL"
  assert_eq "$STANDIN_PORT" "$(cat "$STANDIN_RUN_DIR/port")" "port file"
  assert_no_file "$STANDIN_RUN_DIR/port.tmp" "no temporary port file left"
  assert_eq "$STANDIN_URL" "$CARTO_AUTH_URL" "CARTO_AUTH_URL"
  assert_eq "$STANDIN_URL/accounts" "$CARTO_ACCOUNTS_URL" "CARTO_ACCOUNTS_URL"
  assert_eq "$TEST_TMP/home" "$CARTO_AUTH_HOME" "CARTO_AUTH_HOME"
  assert_eq file "$CARTO_AUTH_STORE" "CARTO_AUTH_STORE"
  assert_eq "$TEST_TMP/userhome" "$HOME" "HOME"
  assert_match "$CARTO_AUTH_REDIRECT_URI" '^http://localhost:[0-9]+/callback/$' "redirect URI"
  assert_eq "$STANDIN_BROWSER" "$BROWSER" "BROWSER"
}
t_case "start: port file, base URL and exported variables" case_start

case_404() {
  req "$STANDIN_URL/no/such/thing"
  assert_eq 404 "$STATUS"
  assert_json "$BODY" error not_found
  assert_eq "${#BODY}" "$(header content-length)" "Content-Length"
  assert_contains "$(header content-type)" application/json
}
t_case "unknown path: 404 JSON with Content-Length" case_404

case_405() {
  req "$STANDIN_URL/oauth/token"
  assert_eq 405 "$STATUS"
  assert_eq POST "$(header allow)"
}
t_case "GET /oauth/token: 405 with Allow" case_405

case_m2m() {
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_eq 200 "$STATUS"
  assert_eq "${#BODY}" "$(header content-length)" "Content-Length"
  assert_json "$BODY" token_type Bearer
  assert_json "$BODY" expires_in 86400
  assert_json "$BODY" scope "read:tokens write:tokens"
  local token
  token=$(json_get "$BODY" access_token)
  assert_match "$token" '^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "JWT shape"
  if [ "${#token}" -lt 60 ] || [ "${#token}" -gt 600 ]; then
    _t_assert_failed "token length ${#token}"
  fi
  assert_eq "demo-client-id-0001@clients" "$(jwt_claim "$token" sub)" "sub claim"
  assert_eq "demo-client-id-0001" "$(jwt_claim "$token" azp)" "azp claim"
  assert_eq "client-credentials" "$(jwt_claim "$token" gty)" "gty claim"
  assert_eq no-store "$(header cache-control)"
}
t_case "client_credentials: 200 Bearer token" case_m2m

case_unique() {
  local a b
  a=$(m2m_token)
  b=$(m2m_token)
  assert_ne "$a" "$b" "tokens are unique"
  assert_nonempty "$(m2m_token "$STANDIN_CLIENT_2" "$STANDIN_SECRET_2")" "second demo client"
}
t_case "client_credentials: unique tokens, both demo clients" case_unique

case_m2m_denied() {
  # shellcheck disable=SC2046
  post_token $(m2m_form "$STANDIN_CLIENT_1" wrong-secret)
  assert_eq 401 "$STATUS" "wrong secret"
  assert_json "$BODY" error access_denied
  assert_json "$BODY" error_description Unauthorized
  # shellcheck disable=SC2046
  post_token $(m2m_form nobody "$STANDIN_SECRET_1")
  assert_eq 401 "$STATUS" "unknown client"
  # shellcheck disable=SC2046
  post_token $(m2m_form "$STANDIN_CLIENT_2" "$STANDIN_SECRET_1")
  assert_eq 401 "$STATUS" "secret of another client"
}
t_case "client_credentials: bad credentials give 401 access_denied" case_m2m_denied

case_audience() {
  post_token -d grant_type=client_credentials -d audience=other \
    -d client_id="$STANDIN_CLIENT_1" -d client_secret="$STANDIN_SECRET_1"
  assert_eq 403 "$STATUS" "wrong audience"
  assert_json "$BODY" error access_denied
  post_token -d grant_type=client_credentials \
    -d client_id="$STANDIN_CLIENT_1" -d client_secret="$STANDIN_SECRET_1"
  assert_eq 403 "$STATUS" "missing audience"
}
t_case "client_credentials: audience is checked" case_audience

case_bad_token_requests() {
  post_token -H 'Content-Type: application/json' \
    --data '{"grant_type":"client_credentials"}'
  assert_eq 400 "$STATUS" "JSON body"
  assert_json "$BODY" error invalid_request
  post_token -d grant_type=password -d username=x
  assert_eq 400 "$STATUS" "password grant"
  assert_json "$BODY" error unsupported_grant_type
  post_token -d client_id=x
  assert_eq 400 "$STATUS" "no grant_type"
  assert_json "$BODY" error invalid_request
}
t_case "token endpoint: non-form body, unknown or missing grant" case_bad_token_requests

case_chunked() {
  # shellcheck disable=SC2046
  post_token -H 'Transfer-Encoding: chunked' $(m2m_form)
  assert_eq 200 "$STATUS" "chunked form body"
}
t_case "token endpoint: chunked request body" case_chunked

case_accounts() {
  local token
  token=$(m2m_token)
  req -H "Authorization: Bearer $token" "$STANDIN_URL/accounts"
  assert_eq 200 "$STATUS"
  assert_json "$BODY" tenant_domain "127.0.0.1:$STANDIN_PORT"
  req "$STANDIN_URL/accounts"
  assert_eq 401 "$STATUS" "no token"
  assert_json "$BODY" error unauthorized
  req -H "Authorization: Bearer eyJnot.a.token" "$STANDIN_URL/accounts"
  assert_eq 401 "$STATUS" "unknown token"
  req -H "Authorization: Basic $token" "$STANDIN_URL/accounts"
  assert_eq 401 "$STATUS" "not a bearer"
}
t_case "accounts: tenant_domain for a valid token, 401 otherwise" case_accounts

case_config() {
  req "$STANDIN_URL/config.yaml"
  assert_eq 200 "$STATUS"
  assert_contains "$(header content-type)" text/yaml
  assert_eq "$BODY_BYTES" "$(header content-length)" "Content-Length"
  # Mini-parser for this document's shape: the baseUrl directly under apis:.
  local base
  base=$(printf '%s\n' "$BODY" | awk '
    /^[^ #]/ { section = $1 }
    section == "apis:" && $1 == "baseUrl:" { print $2 }')
  assert_eq "$STANDIN_URL" "$base" "apis.baseUrl"
  assert_contains "$BODY" "baseUrl: https://workspace.invalid" "decoy baseUrl"
  assert_contains "$BODY" "    - openid" "a block list"
  assert_contains "$BODY" "# " "a comment"
}
t_case "config.yaml: YAML with apis.baseUrl = base URL" case_config

case_dw() {
  local token
  token=$(m2m_token)
  req -H "Authorization: Bearer $token" "$STANDIN_URL/v3/connections/carto-dw/token"
  assert_eq 200 "$STATUS"
  assert_json "$BODY" projectId carto-dw-ac-demo1234
  assert_match "$(json_get "$BODY" token)" '^ya29\.' "DW token"
  req "$STANDIN_URL/v3/connections/carto-dw/token"
  assert_eq 401 "$STATUS" "no token"
}
t_case "carto-dw token: project and token for a valid bearer" case_dw

case_client_register() {
  standin_client my-client my-secret-123 https://gcp-us-east1.api.carto.com
  assert_nonempty "$(m2m_token my-client my-secret-123)" "registered client gets a token"
  assert_contains "$(standin_ctl GET /_control/clients)" '"api_base_url": "https://gcp-us-east1.api.carto.com"'
  standin_client other-client other-secret
  assert_contains "$(standin_ctl GET /_control/clients)" "\"api_base_url\": \"$STANDIN_URL\"" \
    "default api_base_url"
  if standin_ctl POST /_control/clients '{"client_id": "x"}' 2>/dev/null; then
    _t_assert_failed "a client without secret is refused"
  fi
}
t_case "control: register M2M clients" case_client_register

case_creds_file() {
  make_creds_file "$TEST_TMP/creds.json" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
  assert_file_mode "$TEST_TMP/creds.json" 600
  assert_file_mode "$TEST_TMP/creds.json" 0600 "mode with a leading zero"
  assert_eq "$STANDIN_SECRET_1" "$(json_file_get "$TEST_TMP/creds.json" client_secret)"
  assert_eq "$STANDIN_URL" "$(json_file_get "$TEST_TMP/creds.json" api_base_url)"
  assert_eq "$STANDIN_CLIENT_1" "$(json_file_get "$TEST_TMP/creds.json" client_id)"
}
t_case "make_creds_file: M2M credentials JSON, mode 600" case_creds_file

case_authorize_invalid() {
  pkce
  local good
  good=$(authorize_url s1)
  req "${good/code_challenge_method=S256/code_challenge_method=plain}"
  assert_eq 400 "$STATUS" "plain method"
  assert_contains "$BODY" "code_challenge_method must be"
  assert_contains "$(header content-type)" text/html
  req "${good/code_challenge=$CHALLENGE/code_challenge=short}"
  assert_eq 400 "$STATUS" "short challenge"
  assert_contains "$BODY" "code_challenge must be 43 characters"
  req "${good/&state=s1/}"
  assert_eq 400 "$STATUS" "no state"
  assert_contains "$BODY" "state is missing"
  req "${good/audience=$AUD/audience=x}"
  assert_eq 400 "$STATUS" "wrong audience"
  req "${good/response_type=code/response_type=token}"
  assert_eq 400 "$STATUS" "implicit flow"
  req "${good/client_id=test-client/client_id=}"
  assert_contains "$BODY" "client_id is missing"
  req "$STANDIN_URL/authorize"
  assert_eq 400 "$STATUS" "nothing"
  assert_contains "$BODY" "redirect_uri is missing"
}
t_case "authorize: invalid requests get a 400 page naming the problem" case_authorize_invalid

case_pkce_flow() {
  pkce
  local location code token rt
  location=$(standin_authorize_location "$(authorize_url 'st a/te&x' '&scope=openid%20profile%20offline_access')")
  assert_match "$location" "^${REDIRECT//./\\.}\\?code=[A-Za-z0-9_-]+&state=st%20a%2Fte%26x$" "Location"
  [[ $location =~ code=([^&]*) ]]
  code=${BASH_REMATCH[1]}
  redeem "$code" "${VERIFIER}x"
  assert_eq 403 "$STATUS" "wrong verifier"
  assert_json "$BODY" error invalid_grant
  assert_json "$BODY" error_description "PKCE verification failed"
  redeem "$code" short
  assert_json "$BODY" error_description "PKCE verification failed" "malformed verifier"
  redeem "$code" "$VERIFIER"
  assert_eq 200 "$STATUS" "right verifier"
  token=$(json_get "$BODY" access_token)
  rt=$(json_get "$BODY" refresh_token)
  assert_nonempty "$rt" "refresh token with offline_access"
  assert_nonempty "$(json_get "$BODY" id_token)" "id_token with openid"
  assert_json "$BODY" token_type Bearer
  assert_json "$BODY" expires_in 86400
  assert_eq "auth0|demo-user" "$(jwt_claim "$token" sub)" "user"
  assert_eq test-client "$(standin_last_form client_id)" "client_id recorded"
  redeem "$code" "$VERIFIER"
  assert_eq 403 "$STATUS" "code reuse"
  assert_json "$BODY" error invalid_grant
  req -H "Authorization: Bearer $token" "$STANDIN_URL/accounts"
  assert_eq 200 "$STATUS" "user token works on /accounts"
}
t_case "authorization code + PKCE: full exchange" case_pkce_flow

case_code_checks() {
  get_code '&scope=openid'
  redeem "$CODE" "$VERIFIER" http://localhost:1/other/
  assert_eq 403 "$STATUS" "other redirect_uri"
  assert_contains "$BODY" "redirect_uri does not match"
  redeem "$CODE" "$VERIFIER" "$REDIRECT" someone-else
  assert_contains "$BODY" "client_id does not match"
  post_token -d grant_type=authorization_code -d audience="$AUD" -d client_id=test-client \
    -d code="$CODE" --data-urlencode redirect_uri="$REDIRECT"
  assert_eq 400 "$STATUS" "no verifier"
  assert_json "$BODY" error invalid_request
  post_token -d grant_type=authorization_code -d audience=wrong -d client_id=test-client \
    -d code="$CODE" --data-urlencode redirect_uri="$REDIRECT" -d code_verifier="$VERIFIER"
  assert_eq 403 "$STATUS" "wrong audience"
  redeem "$CODE" "$VERIFIER"
  assert_eq 200 "$STATUS" "failed attempts do not consume the code"
  assert_eq "" "$(json_get "$BODY" refresh_token || true)" "no refresh token without offline_access"
  redeem not-a-code "$VERIFIER"
  assert_json "$BODY" error invalid_grant "unknown code"
}
t_case "authorization code: redirect_uri, client, verifier, audience checks" case_code_checks

case_code_expiry() {
  standin_settings '{"code_lifetime": 0}'
  get_code
  sleep 0.1
  redeem "$CODE" "$VERIFIER"
  standin_reset
  assert_eq 403 "$STATUS"
  assert_json "$BODY" error_description "Authorization code has expired"
}
t_case "authorization code: expiry (settings.code_lifetime)" case_code_expiry

case_org() {
  pkce
  local location
  REDIRECT='http://localhost:10999/callback/?x=1'
  location=$(standin_authorize_location "$(authorize_url s2 '&organization=acme')")
  assert_match "$location" '/callback/\?x=1&code=' "& when redirect_uri has a query"
  [[ $location =~ code=([^&]*) ]]
  redeem "${BASH_REMATCH[1]}" "$VERIFIER"
  assert_eq 200 "$STATUS"
  assert_eq "auth0|sso-user-acme" "$(jwt_claim "$(json_get "$BODY" access_token)" sub)"
  assert_eq "acme" "$(jwt_claim "$(json_get "$BODY" access_token)" org_id)" "org_id claim"
}
t_case "authorize: organization gives an SSO user" case_org

case_account() {
  pkce
  local location
  REDIRECT='http://localhost:10999/callback/'
  location=$(standin_authorize_location "$(authorize_url s5 '&account=mallory')")
  [[ $location =~ code=([^&]*) ]]
  redeem "${BASH_REMATCH[1]}" "$VERIFIER"
  assert_eq 200 "$STATUS"
  assert_eq "auth0|mallory" "$(jwt_claim "$(json_get "$BODY" access_token)" sub)"
  req "$(authorize_url s6 '&account=bad%20name')"
  assert_eq 400 "$STATUS" "a malformed account"
}
t_case "authorize: account= logs in as another user (stand-in only)" case_account

case_authorize_error() {
  standin_fault '{"kind": "authorize_error"}'
  pkce
  local location
  location=$(standin_authorize_location "$(authorize_url s3)")
  assert_eq "${REDIRECT}?error=access_denied&error_description=User%20cancelled&state=s3" "$location"
  location=$(standin_authorize_location "$(authorize_url s4)")
  assert_contains "$location" "?code=" "only once"
}
t_case "fault authorize_error: redirect with error=access_denied" case_authorize_error

# login_offline: authorization code flow with offline_access; sets RT, AT.
login_offline() {
  get_code '&scope=offline_access'
  redeem "$CODE" "$VERIFIER"
  [ "$STATUS" = 200 ] || { echo "login failed: $BODY" >&2; return 1; }
  RT=$(json_get "$BODY" refresh_token)
  AT=$(json_get "$BODY" access_token)
}

case_refresh_rotation() {
  login_offline
  local r1=$RT r2 r3 revoked_before
  revoked_before=$(state_field revoked_families)
  refresh "$r1"
  assert_eq 200 "$STATUS" "first refresh"
  r2=$(json_get "$BODY" refresh_token)
  assert_ne "$r1" "$r2" "rotated"
  assert_ne "$AT" "$(json_get "$BODY" access_token)" "new access token"
  refresh "$r2"
  assert_eq 200 "$STATUS" "second refresh"
  r3=$(json_get "$BODY" refresh_token)
  refresh "$r1"
  assert_eq 403 "$STATUS" "reuse of a rotated token"
  assert_json "$BODY" error invalid_grant
  assert_json "$BODY" error_description "Unknown or invalid refresh token."
  refresh "$r3"
  assert_eq 403 "$STATUS" "the family is revoked after reuse"
  assert_eq $((revoked_before + 1)) "$(state_field revoked_families)" "revoked_families"
  assert_eq 1 "$(state_field refresh_reuse_detected)"
}
t_case "refresh_token: rotation, and reuse revokes the family" case_refresh_rotation

case_refresh_errors() {
  refresh v1.unknown
  assert_eq 403 "$STATUS" "unknown token"
  assert_json "$BODY" error invalid_grant
  login_offline
  refresh "$RT" other-client
  assert_eq 403 "$STATUS" "other client"
  post_token -d grant_type=refresh_token -d refresh_token="$RT"
  assert_eq 400 "$STATUS" "no client_id"
  refresh "$RT"
  assert_eq 200 "$STATUS" "still usable by its client"
  login_offline
  standin_revoke_refresh
  refresh "$RT"
  assert_eq 403 "$STATUS" "after /_control/revoke_refresh"
}
t_case "refresh_token: unknown, other client, revoke_refresh" case_refresh_errors

case_state() {
  local state
  state=$(standin_state)
  for key in tokens_issued tokens_valid refresh_tokens_issued refresh_tokens_active \
    revoked_families codes_issued codes_redeemed requests faults_pending; do
    json_get "$state" "$key" >/dev/null || _t_assert_failed "state lacks $key"
  done
  [ "$(json_get "$state" tokens_issued)" -gt 5 ] || _t_assert_failed "tokens_issued counts"
  assert_match "$(json_get "$state" tokens_by_grant.client_credentials)" '^[0-9]+$'
}
t_case "control: state counts" case_state

case_revoke_access() {
  local token
  token=$(m2m_token)
  standin_revoke_access
  req -H "Authorization: Bearer $token" "$STANDIN_URL/accounts"
  assert_eq 401 "$STATUS"
}
t_case "control: revoke_access invalidates issued tokens" case_revoke_access

case_settings() {
  standin_settings '{"expires_in": 77, "tenant_domain": "tenant.example:1", "api_base_url": "https://api.example"}'
  local token
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_json "$BODY" expires_in 77
  token=$(json_get "$BODY" access_token)
  req -H "Authorization: Bearer $token" "$STANDIN_URL/accounts"
  assert_json "$BODY" tenant_domain tenant.example:1
  req "$STANDIN_URL/config.yaml"
  assert_contains "$BODY" "  baseUrl: https://api.example"
  if standin_settings '{"bogus": 1}' 2>/dev/null; then _t_assert_failed "unknown setting refused"; fi
  standin_reset
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_json "$BODY" expires_in 86400 "reset restores the settings"
}
t_case "control: settings override expires_in, tenant_domain, api_base_url" case_settings

# -- the device authorization grant and revocation ----------------------------------------

DEV_GRANT=urn:ietf:params:oauth:grant-type:device_code
device_start() {
  req -X POST -d client_id=test-client -d audience=$AUD -d scope=offline_access "$@" \
    "$STANDIN_URL/oauth/device/code"
}
device_poll() { post_token -d grant_type=$DEV_GRANT -d client_id=test-client -d device_code="$1"; }

case_device_grant() {
  standin_reset
  standin_settings '{"device_interval": 0}'
  device_start
  assert_eq 200 "$STATUS"
  local dc uc
  dc=$(json_get "$BODY" device_code)
  uc=$(json_get "$BODY" user_code)
  assert_match "$uc" '^[A-Z]{4}-[A-Z]{4}$'
  assert_eq "$STANDIN_URL/activate" "$(json_get "$BODY" verification_uri)"
  assert_eq "$STANDIN_URL/activate?user_code=$uc" "$(json_get "$BODY" verification_uri_complete)"
  device_poll "$dc"
  assert_eq 403 "$STATUS"
  assert_eq authorization_pending "$(json_get "$BODY" error)"
  standin_ctl POST /_control/device "{\"action\": \"approve\", \"user_code\": \"$uc\"}" >/dev/null
  device_poll "$dc"
  assert_eq 200 "$STATUS"
  assert_nonempty "$(json_get "$BODY" refresh_token)"
  device_poll "$dc"
  assert_eq 403 "$STATUS" "a device code is used once"
  assert_eq invalid_grant "$(json_get "$BODY" error)"
}
t_case "device grant: pending, approved, used once" case_device_grant

case_device_answers() {
  local dc
  standin_reset
  standin_settings '{"device_interval": 0, "device_script": ["slow_down", "deny"]}'
  device_start
  dc=$(json_get "$BODY" device_code)
  device_poll "$dc"
  assert_eq 429 "$STATUS"
  assert_eq slow_down "$(json_get "$BODY" error)"
  sleep 5.1
  device_poll "$dc"
  assert_eq 403 "$STATUS"
  assert_eq access_denied "$(json_get "$BODY" error)"
  standin_settings '{"device_interval": 0, "device_script": ["expire"]}'
  device_start
  device_poll "$(json_get "$BODY" device_code)"
  assert_eq expired_token "$(json_get "$BODY" error)"
  # polling within the interval is too fast
  standin_settings '{"device_interval": 3, "device_script": []}'
  device_start
  assert_eq 3 "$(json_get "$BODY" interval)"
  dc=$(json_get "$BODY" device_code)
  device_poll "$dc"
  assert_eq authorization_pending "$(json_get "$BODY" error)"
  device_poll "$dc"
  assert_eq 429 "$STATUS"
  assert_eq slow_down "$(json_get "$BODY" error)"
  assert_eq 1 "$(json_get "$(standin_state)" device_too_fast)"
  standin_settings '{"device_grant": false}'
  device_start
  assert_eq 403 "$STATUS"
  assert_eq unauthorized_client "$(json_get "$BODY" error)"
  standin_reset
}
t_case "device grant: slow_down, access_denied, expired_token, too fast, unauthorized_client" case_device_answers

case_revoke() {
  local rt
  standin_reset
  get_code '&scope=offline_access'
  redeem "$CODE" "$VERIFIER"
  rt=$(json_get "$BODY" refresh_token)
  req -X POST -d client_id=other -d token="$rt" "$STANDIN_URL/oauth/revoke"
  assert_eq 401 "$STATUS" "another client's token"
  req -X POST -d client_id=test-client -d token="$rt" "$STANDIN_URL/oauth/revoke"
  assert_eq 200 "$STATUS"
  assert_eq 1 "$(json_get "$(standin_state)" revocations)"
  assert_eq "$rt" "$(standin_last_form token /oauth/revoke)" "the revocation is recorded"
  refresh "$rt"
  assert_eq 403 "$STATUS"
  assert_eq invalid_grant "$(json_get "$BODY" error)"
  req -X POST -d client_id=test-client "$STANDIN_URL/oauth/revoke"
  assert_eq 400 "$STATUS" "no token"
}
t_case "revoke: a refresh token's family dies, recorded" case_revoke

# -- faults ---------------------------------------------------------------------------------

case_fault_status() {
  standin_reset
  standin_fault '{"path": "/oauth/token", "kind": "status", "status": 503, "retry_after": 2, "count": 2}'
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_eq 503 "$STATUS" "first"
  assert_eq 2 "$(header retry-after)" "Retry-After"
  assert_json "$BODY" error temporarily_unavailable
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_eq 503 "$STATUS" "second"
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_eq 200 "$STATUS" "third is normal"
  assert_eq 3 "$(standin_requests /oauth/token)" "faulted requests are recorded"
  standin_fault '[{"kind": "status", "status": 429, "path": "/accounts"},
                  {"kind": "status", "status": 502, "path": "/accounts", "body": "Bad gateway"}]'
  req "$STANDIN_URL/accounts"
  assert_eq 429 "$STATUS"
  assert_json "$BODY" error too_many_requests
  req "$STANDIN_URL/accounts"
  assert_eq 502 "$STATUS" "faults apply in order"
  assert_eq "Bad gateway" "$BODY"
  assert_contains "$(header content-type)" text/plain
}
t_case "fault status: 503 with Retry-After, count, order, custom body" case_fault_status

case_fault_filters() {
  standin_fault '{"path": "/oauth/token", "grant_type": "refresh_token", "kind": "status", "status": 500, "count": 0}'
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_eq 200 "$STATUS" "other grant not affected"
  refresh v1.x
  assert_eq 500 "$STATUS" "matching grant"
  refresh v1.x
  assert_eq 500 "$STATUS" "count 0: until reset"
  assert_eq 1 "$(standin_ctl GET /_control/faults | "$PYTHON" -c 'import json, sys; print(len(json.load(sys.stdin)))')" \
    "one pending fault"
  standin_reset
  refresh v1.x
  assert_eq 403 "$STATUS" "reset clears faults"
  if standin_fault '{"kind": "nope"}' 2>/dev/null; then _t_assert_failed "unknown kind refused"; fi
  if standin_fault '{"kind": "redirect"}' 2>/dev/null; then _t_assert_failed "redirect without url refused"; fi
}
t_case "faults: grant_type filter, unlimited count, reset, validation" case_fault_filters

case_fault_hang() {
  standin_fault '{"path": "/oauth/token", "kind": "hang", "seconds": 1}'
  local t0 t1
  t0=$(now_ms)
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  t1=$(now_ms)
  assert_eq 52 "$CURL_RC" "empty reply once the hang ends ($CURL_ERR)"
  [ $((t1 - t0)) -ge 900 ] || _t_assert_failed "hung only $((t1 - t0)) ms"
  standin_fault '{"path": "/oauth/token", "kind": "hang", "seconds": 60}'
  t0=$(now_ms)
  # shellcheck disable=SC2046
  post_token --max-time 1 $(m2m_form)
  t1=$(now_ms)
  assert_eq 28 "$CURL_RC" "the client gives up ($CURL_ERR)"
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_eq 200 "$STATUS" "the server still answers"
}
t_case "fault hang: no answer until the client gives up or seconds pass" case_fault_hang

case_fault_reset() {
  standin_fault '{"path": "/oauth/token", "kind": "reset"}'
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_eq 56 "$CURL_RC" "connection reset ($CURL_ERR)"
  assert_contains "$CURL_ERR" "reset"
}
t_case "fault reset: TCP RST, no answer" case_fault_reset

case_fault_truncate() {
  standin_fault '{"path": "/oauth/token", "kind": "truncate"}'
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_eq 18 "$CURL_RC" "partial body ($CURL_ERR)"
}
t_case "fault truncate: body shorter than Content-Length" case_fault_truncate

case_fault_bodies() {
  standin_fault '[{"path": "/oauth/token", "kind": "nonjson"}, {"path": "/oauth/token", "kind": "wrongtypes"}]'
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_eq 200 "$STATUS"
  assert_eq "<html>oops</html>" "$BODY"
  assert_contains "$(header content-type)" text/html
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_eq 200 "$STATUS"
  assert_json "$BODY" access_token 12345
  assert_json "$BODY" expires_in soon
}
t_case "faults nonjson and wrongtypes" case_fault_bodies

case_fault_big() {
  standin_fault '{"path": "/oauth/token", "kind": "big"}'
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_eq 200 "$STATUS"
  assert_eq 5242880 "$(header content-length)"
  assert_eq 5242880 "$BODY_BYTES" "body size"
  assert_eq 86400 "$(json_get "$BODY" expires_in)" "valid JSON"
  standin_fault '{"path": "/oauth/token", "kind": "big", "size": 100000}'
  # shellcheck disable=SC2046
  post_token --max-filesize 1000 $(m2m_form)
  assert_eq 63 "$CURL_RC" "a client may refuse it by Content-Length"
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_eq 200 "$STATUS" "server fine after the client hung up"
}
t_case "fault big: 5 MB JSON with Content-Length" case_fault_big

case_fault_redirect() {
  standin_fault '{"path": "/accounts", "kind": "redirect", "url": "http://127.0.0.1:9/elsewhere"}'
  req "$STANDIN_URL/accounts"
  assert_eq 302 "$STATUS"
  assert_eq http://127.0.0.1:9/elsewhere "$(header location)"
}
t_case "fault redirect: 302 to the given URL" case_fault_redirect

case_fault_expires_in() {
  standin_fault '{"kind": "expires_in", "value": 2}'
  local token
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_json "$BODY" expires_in 2
  token=$(json_get "$BODY" access_token)
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_json "$BODY" expires_in 86400 "only the next token"
  req -H "Authorization: Bearer $token" "$STANDIN_URL/accounts"
  assert_eq 200 "$STATUS" "valid at first"
  sleep 2.2
  req -H "Authorization: Bearer $token" "$STANDIN_URL/accounts"
  assert_eq 401 "$STATUS" "expired"
  standin_fault '{"kind": "expires_in", "value": "3600"}'
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_contains "$BODY" '"expires_in": "3600"' "sent as given (a string)"
}
t_case "fault expires_in: next token's lifetime" case_fault_expires_in

case_fault_delay() {
  standin_fault '{"path": "/config.yaml", "kind": "delay", "seconds": 0.5}'
  local t0 t1
  t0=$(now_ms)
  req "$STANDIN_URL/config.yaml"
  t1=$(now_ms)
  assert_eq 200 "$STATUS"
  [ $((t1 - t0)) -ge 450 ] || _t_assert_failed "answered after only $((t1 - t0)) ms"
}
t_case "fault delay: normal answer, late" case_fault_delay

case_fault_drip() {
  # A per-read limit never fires (a byte every 0.3 s); a total one does.
  standin_fault '{"path": "/accounts", "kind": "drip", "interval": 0.3, "seconds": 60}'
  local t0 t1
  t0=$(now_ms)
  req --speed-time 5 --max-time 1.5 "$STANDIN_URL/accounts"
  t1=$(now_ms)
  assert_eq 28 "$CURL_RC" "cut by the total time limit only"
  assert_eq 200 "$STATUS"
  assert_eq 202 "$(header content-length)" "200 spaces and {} announced"
  [ "$BODY_BYTES" -ge 3 ] && [ "$BODY_BYTES" -le 7 ] ||
    _t_assert_failed "$BODY_BYTES bytes in 1.5 s (one every 0.3 s expected)"
  [ $((t1 - t0)) -lt 3000 ] || _t_assert_failed "curl waited $((t1 - t0)) ms"
  # Waited out, it is a complete answer with the given body.
  standin_fault '{"path": "/accounts", "kind": "drip", "interval": 0.2, "seconds": 0.6, "body": {"projectId": "p"}}'
  req "$STANDIN_URL/accounts"
  assert_eq 0 "$CURL_RC"
  assert_eq 200 "$STATUS"
  assert_json "$BODY" projectId p
  req -X POST -d '{"kind": "drip", "interval": 0}' "$STANDIN_URL/_control/faults"
  assert_eq 400 "$STATUS" "interval must be > 0"
  req "$STANDIN_URL/accounts"
  assert_eq 401 "$STATUS" "server fine after the client hung up"
}
t_case "fault drip: a 200 whose body comes one byte at a time" case_fault_drip

# -- request log --------------------------------------------------------------------------

case_request_log() {
  standin_reset
  assert_eq 0 "$(standin_requests)" "reset clears the log"
  # shellcheck disable=SC2046
  post_token -H 'X-Test: One' $(m2m_form)
  req "$STANDIN_URL/accounts?a=1&b=two"
  standin_state >/dev/null
  assert_eq 2 "$(standin_requests)" "control requests are not recorded"
  assert_eq 1 "$(standin_requests /oauth/token)"
  assert_eq 1 "$(standin_requests /oauth/token client_credentials)"
  assert_eq 0 "$(standin_requests /oauth/token refresh_token)"
  local json
  json=$(standin_request_json)
  assert_json "$json" 0.method POST
  assert_json "$json" 0.headers.x-test One "headers, lowercased"
  assert_json "$json" 0.form.client_id "$STANDIN_CLIENT_1" "form"
  assert_json "$json" 1.query.b two "query"
  assert_json "$json" 1.body_len 0
  assert_match "$(json_get "$json" 0.time)" '^[0-9]+\.[0-9]+$' "time"
  assert_eq "$STANDIN_CLIENT_1" "$(standin_last_form client_id)"
  # The JSON-lines file: one valid object per line, with increasing n.
  "$PYTHON" - "$STANDIN_RUN_DIR/requests.jsonl" <<'EOF' || _t_assert_failed "requests.jsonl"
import json, sys
ns = [json.loads(line)["n"] for line in open(sys.argv[1])]
assert ns == sorted(ns) and len(ns) == len(set(ns)) and len(ns) > 40, ns[-5:]
EOF
}
t_case "request log: memory list, filters, JSON lines file" case_request_log

case_concurrency() {
  standin_reset
  local i
  mkdir -p "$TEST_TMP/par"
  for i in $(seq 1 30); do
    curl -q -sS --noproxy '*' --max-time 20 -o "$TEST_TMP/par/$i" \
      -d grant_type=client_credentials -d audience="$AUD" -d client_id="$STANDIN_CLIENT_1" \
      -d client_secret="$STANDIN_SECRET_1" "$STANDIN_URL/oauth/token" &
  done
  wait
  assert_eq 30 "$(standin_requests /oauth/token)" "all recorded"
  assert_eq 30 "$("$PYTHON" -c '
import json, sys
print(len({json.load(open(p))["access_token"] for p in sys.argv[1:]}))' "$TEST_TMP"/par/*)" \
    "30 distinct tokens"
  assert_eq 30 "$(standin_request_json | "$PYTHON" -c 'import json,sys; print(len({r["n"] for r in json.load(sys.stdin)}))')" \
    "distinct sequence numbers"
}
t_case "concurrency: 30 parallel token requests" case_concurrency

case_keepalive() {
  local out
  out=$(curl -q -sv --noproxy '*' --max-time 10 "$STANDIN_URL/config.yaml" "$STANDIN_URL/config.yaml" 2>&1 >/dev/null)
  assert_contains "$out" "Re-using existing connection" "HTTP/1.1 keep-alive"
}
t_case "HTTP/1.1 keep-alive" case_keepalive

# -- browser.sh -----------------------------------------------------------------------------

# A loopback "callback" server standing for the helper's: it logs each path.
cat >"$TEST_TMP/callback.py" <<'EOF'
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(sys.argv[2], "a") as f:
            f.write(self.path + "\n")
        status, body = (404, b"none") if self.path.startswith("/favicon") else (200, b"<html>Login complete</html>")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
EOF
"$PYTHON" "$TEST_TMP/callback.py" "$TEST_TMP/cb.port" "$TEST_TMP/cb.log" &
CB_PID=$!
on_exit "kill $CB_PID 2>/dev/null"
wait_until 5 test -s "$TEST_TMP/cb.port"
CB_PORT=$(cat "$TEST_TMP/cb.port")

# browse MODE STATE: run browser.sh for a fresh authorize URL in MODE, wait
# for it to finish; sets BLOG (its log) and CB (paths the callback saw).
browse() {
  local mode=$1 state=$2 t0 t1 url
  : >"$TEST_TMP/cb.log"
  rm -f "$STANDIN_BROWSER_LOG"
  pkce
  REDIRECT=http://localhost:$CB_PORT/callback/
  url=$(authorize_url "$state")
  t0=$(now_ms)
  STANDIN_BROWSER_MODE=$mode "$BROWSER" "$url" >"$TEST_TMP/b.out" 2>&1
  t1=$(now_ms)
  wait_until 10 grep -q '^DONE ' "$STANDIN_BROWSER_LOG" || _t_assert_failed "browser never finished"
  [ $((t1 - t0)) -lt 500 ] || _t_assert_failed "browser.sh took $((t1 - t0)) ms to return"
  assert_empty "$(cat "$TEST_TMP/b.out")" "browser.sh prints nothing"
  BLOG=$(cat "$STANDIN_BROWSER_LOG")
  CB=$(cat "$TEST_TMP/cb.log")
}

case_browser_normal() {
  browse normal s-normal
  assert_contains "$BLOG" "URL $STANDIN_URL/authorize?" "URL logged"
  assert_contains "$BLOG" "AUTHORIZE 302"
  assert_contains "$BLOG" "CALLBACK 200"
  assert_contains "$BLOG" "Login complete" "callback body"
  assert_match "$CB" '^/callback/\?code=[A-Za-z0-9_-]+&state=s-normal$' "callback visited once"
  local code=${CB#*code=}
  code=${code%%&*}
  assert_not_contains "$BLOG" "$code" "the code is not logged"
}
t_case "browser.sh normal: authorize, then the callback" case_browser_normal

case_browser_favicon() {
  browse favicon-first s-fav
  assert_eq "/favicon.ico" "$(sed -n 1p <<<"$CB")" "favicon first"
  assert_match "$(sed -n 2p <<<"$CB")" '^/callback/\?code=.*&state=s-fav$' "then the callback"
  assert_contains "$BLOG" "FAVICON 404"
}
t_case "browser.sh favicon-first" case_browser_favicon

case_browser_wrong_state() {
  browse wrong-state-first s-ws
  assert_match "$(sed -n 1p <<<"$CB")" '&state=wrong$' "wrong state first"
  assert_match "$(sed -n 2p <<<"$CB")" '&state=s-ws$' "then the real one"
  assert_contains "$BLOG" "WRONG_STATE 200"
}
t_case "browser.sh wrong-state-first" case_browser_wrong_state

case_browser_never() {
  browse never s-never
  assert_empty "$CB" "no callback"
  assert_contains "$BLOG" "DONE never"
}
t_case "browser.sh never" case_browser_never

case_browser_error() {
  standin_fault '{"kind": "authorize_error"}'
  browse error s-err
  assert_eq "/callback/?error=access_denied&error_description=User%20cancelled&state=s-err" "$CB"
  assert_contains "$BLOG" "LOCATION http://localhost:$CB_PORT/callback/?error=access_denied"
}
t_case "browser.sh error: follows the error redirect" case_browser_error

# -- lib.sh itself ----------------------------------------------------------------------------

cat >"$TEST_TMP/fake-helper" <<'EOF'
#!/bin/bash
# Echoes its arguments and standard input; exits with $FAKE_RC.
echo "args=$*"
cat
echo "to stderr" >&2
exit "${FAKE_RC:-0}"
EOF
chmod +x "$TEST_TMP/fake-helper"

case_run_helper() {
  # shellcheck disable=SC2034  # read by run_helper
  CARTO_AUTH=$TEST_TMP/fake-helper
  FAKE_RC=3 run_helper $'protocol=https\nhost=x.carto.com\n\n' get --flag
  assert_rc 3
  assert_eq $'args=get --flag\nprotocol=https\nhost=x.carto.com' "$OUT"
  assert_eq "to stderr" "$ERR"
  assert_eq x.carto.com "$(kv_get "$OUT" host)"
  if kv_get "$OUT" nothing >/dev/null; then _t_assert_failed "kv_get of a missing key fails"; fi
  assert_exit 0 true
  assert_exit 1 false
  assert_exit 2 bash -c 'echo hi; exit 2'
  assert_eq hi "$OUT"
  run_helper_bg one "" a
  run_helper_bg two "" b
  wait_helpers
  helper_result two
  assert_eq "args=b" "$OUT"
  assert_eq 0 "$RC"
}
t_case "lib: run_helper, assert_exit, kv_get, background helpers" case_run_helper

case_assertions_fail() {
  local msgs
  msgs=$( (assert_eq a b "eq" || echo RET1) 2>&1)
  assert_contains "$msgs" "FAIL: eq"
  assert_contains "$msgs" "RET1"
  expect_fail assert_contains abc x "m"
  expect_fail assert_not_contains abc b "m"
  expect_fail assert_file_mode /nonexistent 600
  expect_fail assert_match abc '^b'
  expect_fail assert_empty x
  expect_fail assert_nonempty ""
  RC=1
  expect_fail assert_rc 0
}
t_case "lib: failing assertions print and return 1" case_assertions_fail

case_lib_script() {
  # A test script with one failing case, a stand-in and a leftover file.
  cat >"$TEST_TMP/inner.sh" <<EOF
set -euo pipefail
. "$TESTS_DIR/lib.sh"
standin_start
echo "PID \$STANDIN_PID" >"$TEST_TMP/inner.info"
echo "TMP \$TEST_TMP" >>"$TEST_TMP/inner.info"
good() { assert_eq 1 1; }
bad() { assert_eq 1 2 "one is not two"; echo "not reached" >>"$TEST_TMP/inner.info"; }
t_case good good
t_case bad bad
t_done
EOF
  local out rc=0 pid tmp
  out=$(bash "$TEST_TMP/inner.sh" 2>&1) || rc=$?
  assert_eq 1 "$rc" "exit status with a failed case"
  assert_contains "$out" "ok - good"
  assert_contains "$out" "not ok - bad"
  assert_contains "$out" "FAIL: one is not two"
  assert_eq "1 passed, 1 failed" "$(tail -n 1 <<<"$out")" "summary line"
  assert_not_contains "$(cat "$TEST_TMP/inner.info")" "not reached" "a case stops at its first failure"
  pid=$(sed -n 's/^PID //p' "$TEST_TMP/inner.info")
  tmp=$(sed -n 's/^TMP //p' "$TEST_TMP/inner.info")
  wait_until 3 bash -c "! kill -0 $pid 2>/dev/null" || _t_assert_failed "stand-in still running"
  assert_no_file "$tmp" "TEST_TMP removed"
  # A script that dies outside any case.
  printf '. "%s/lib.sh"\nt_pass one\nfalse\n' "$TESTS_DIR" >"$TEST_TMP/inner2.sh"
  rc=0
  out=$(bash -e "$TEST_TMP/inner2.sh" 2>&1) || rc=$?
  assert_eq 1 "$rc" "aborted script fails"
  assert_contains "$out" "ABORTED"
  assert_eq "1 passed, 1 failed" "$(tail -n 1 <<<"$out")"
  printf '. "%s/lib.sh"\nt_pass one\nt_done\n' "$TESTS_DIR" >"$TEST_TMP/inner3.sh"
  assert_exit 0 bash "$TEST_TMP/inner3.sh"
  assert_eq $'ok - one\n1 passed, 0 failed' "$OUT"
}
t_case "lib: t_case / t_done summary, exit trap cleans up" case_lib_script

# -- process life -------------------------------------------------------------------------------

case_sigterm() {
  local dir=$TEST_TMP/sig rc=0 i
  mkdir -p "$dir"
  "$PYTHON" "$STANDIN_HOME/carto_standin.py" --port-file "$dir/port" 2>"$dir/err" &
  local pid=$!
  wait_until 5 test -s "$dir/port"
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  assert_eq 0 "$rc" "exit status after SIGTERM"
  assert_empty "$(cat "$dir/err")" "quiet"
  assert_no_file "$dir/port" "port file removed"
  "$PYTHON" "$STANDIN_HOME/carto_standin.py" --port-file "$dir/port" 2>"$dir/err" &
  pid=$!
  wait_until 5 test -s "$dir/port"
  kill -INT "$pid"
  rc=0
  wait "$pid" || rc=$?
  assert_eq 0 "$rc" "exit status after SIGINT"
  assert_empty "$(cat "$dir/err")" "quiet"
}
t_case "stand-in: SIGTERM and SIGINT end it quietly with status 0" case_sigterm

case_watchdog() {
  local dir=$TEST_TMP/wd
  mkdir -p "$dir"
  sleep 30 &
  local parent=$!
  "$PYTHON" "$STANDIN_HOME/carto_standin.py" --port-file "$dir/port" --parent-pid "$parent" &
  local pid=$!
  wait_until 5 test -s "$dir/port"
  kill "$parent"
  wait_until 3 bash -c "! kill -0 $pid 2>/dev/null" || _t_assert_failed "still running"
}
t_case "stand-in: --parent-pid watchdog" case_watchdog

# ---------------------------------------------------------------------------------------
# TLS stand-in
# ---------------------------------------------------------------------------------------

case_mkcerts() {
  local t0 t1
  t0=$(now_ms)
  "$STANDIN_HOME/mkcerts.sh" "$TEST_TMP/c2"
  t1=$(now_ms)
  [ $((t1 - t0)) -lt 2000 ] || _t_assert_failed "mkcerts took $((t1 - t0)) ms"
  assert_file_mode "$TEST_TMP/c2/server.key" 600
  assert_file_mode "$TEST_TMP/c2/ca.key" 600
  assert_exit 0 openssl verify -CAfile "$TEST_TMP/c2/ca.pem" "$TEST_TMP/c2/server.pem"
  assert_exit 0 openssl x509 -in "$TEST_TMP/c2/server.pem" -noout -text
  assert_contains "$OUT" "IP Address:127.0.0.1"
  assert_contains "$OUT" "DNS:localhost"
  assert_contains "$OUT" "Subject: CN = 127.0.0.1"
  assert_contains "$OUT" "ASN1 OID: prime256v1"
}
t_case "mkcerts.sh: CA and server certificate (P-256, SAN)" case_mkcerts

standin_start --tls

case_tls() {
  assert_eq "https://127.0.0.1:$STANDIN_PORT" "$STANDIN_URL"
  assert_eq "$TEST_TMP/certs/ca.pem" "$CURL_CA_BUNDLE" "CURL_CA_BUNDLE"
  local token
  token=$(m2m_token)
  assert_nonempty "$token"
  req -H "Authorization: Bearer $token" "$STANDIN_URL/accounts"
  assert_json "$BODY" tenant_domain "127.0.0.1:$STANDIN_PORT"
  req "$STANDIN_URL/config.yaml"
  assert_contains "$BODY" "  baseUrl: https://127.0.0.1:$STANDIN_PORT"
  req -H "Authorization: Bearer $token" "https://localhost:$STANDIN_PORT/v3/connections/carto-dw/token"
  assert_eq 200 "$STATUS" "certificate valid for localhost too"
  CURL_CA_BUNDLE=/dev/null req "$STANDIN_URL/config.yaml"
  assert_eq 77 "$CURL_RC" "no CA: curl cannot even load the bundle"
  req --cacert "$TEST_TMP/c2/ca.pem" "$STANDIN_URL/config.yaml"
  assert_eq 60 "$CURL_RC" "another CA: verification fails"
  req "$STANDIN_URL/config.yaml"
  assert_eq 200 "$STATUS" "server fine after failed handshakes"
}
t_case "TLS: token, accounts, config over HTTPS; verification" case_tls

case_tls_faults() {
  standin_fault '[{"path": "/oauth/token", "kind": "reset"}, {"path": "/oauth/token", "kind": "truncate"}]'
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_ne 0 "$CURL_RC" "reset over TLS ($CURL_ERR)"
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_ne 0 "$CURL_RC" "truncate over TLS"
  standin_fault '{"path": "/oauth/token", "kind": "hang", "seconds": 30}'
  # shellcheck disable=SC2046
  post_token --max-time 1 $(m2m_form)
  assert_eq 28 "$CURL_RC" "hang over TLS"
  # shellcheck disable=SC2046
  post_token $(m2m_form)
  assert_eq 200 "$STATUS"
}
t_case "TLS: faults" case_tls_faults

case_tls_pkce() {
  get_code '&scope=offline_access'
  redeem "$CODE" "$VERIFIER"
  assert_eq 200 "$STATUS"
  refresh "$(json_get "$BODY" refresh_token)"
  assert_eq 200 "$STATUS" "refresh over TLS"
  browse normal s-tls
  assert_contains "$BLOG" "AUTHORIZE 302" "browser.sh honours CURL_CA_BUNDLE"
  assert_match "$CB" '&state=s-tls$'
}
t_case "TLS: PKCE exchange, refresh and browser.sh" case_tls_pkce

case_quiet() {
  local f
  for f in "$TEST_TMP"/standin.*/stderr.log; do
    assert_empty "$(cat "$f")" "no errors or tracebacks in $f"
  done
  assert_eq "$PLAIN_URL" "http://127.0.0.1:$(cat "$PLAIN_DIR/port")" "the plain server is still up"
}
t_case "stand-ins wrote nothing to stderr" case_quiet

t_done
