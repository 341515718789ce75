#!/bin/bash
# The Python reference (carto-auth 0.2.0) and the helper on the same cache
# files, in several time zones. The reference's cache-file code paths are
# reproduced here from its published behaviour (tests/reference_cache.py):
#   - it writes `expiration` as int((datetime.utcnow() + timedelta(
#     seconds=expires_in)).timestamp()): UTC wall-clock time read as local
#     time, so shifted by the local UTC offset;
#   - it reads a file when api_base_url, access_token and expiration are
#     all there, and calls a token expired when utcnow().timestamp() is
#     past expiration;
#   - it rewrites the file with json.dump of those three keys only.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

REF="$PYTHON $TESTS_DIR/reference_cache.py"
standin_start
CREDS=$TEST_TMP/creds.json
make_creds_file "$CREDS" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
REQ=$'credentials_file='"$CREDS"$'\n\n'
ZONES=(Asia/Tokyo Europe/Madrid America/New_York)

fresh() {
  export CARTO_AUTH_HOME=$TEST_TMP/home-$1
  mkdir -p "$CARTO_AUTH_HOME" && chmod 700 "$CARTO_AUTH_HOME"
  standin_reset
}

# mint_token [EXPIRES_IN]: a token of client 1 straight from the stand-in,
# as the reference would have got it.
mint_token() {
  curl -sS -X POST "$STANDIN_URL/oauth/token" -d grant_type=client_credentials \
    -d audience=carto-cloud-native-api --data-urlencode "client_id=$STANDIN_CLIENT_1" \
    --data-urlencode "client_secret=$STANDIN_SECRET_1" | json_get "$(cat)" access_token
}

near() { # near A B TOLERANCE MESSAGE
  local d=$(( $1 - $2 ))
  [ ${d#-} -le "$3" ] || { _t_assert_failed "$4" "got $1, expected $2 (+-$3)"; return 1; }
}

# -- 1. time zones ------------------------------------------------------------------

case_helper_writes_reference_reads() {
  local tz remaining now truth
  for tz in "${ZONES[@]}"; do
    fresh "w-${tz//\//-}"
    TZ=$tz run_helper "$REQ" get
    assert_rc 0
    truth=$(kv_get "$OUT" password_expiry_utc)
    now=$(date +%s)
    remaining=$(TZ=$tz $REF remaining "$CARTO_AUTH_HOME/token_m2m.json")
    near "$remaining" $((truth - now)) 5 "[$tz] the reference sees the token's true remaining time"
  done
}

case_reference_writes_helper_reads() {
  local tz token before expiry
  for tz in "${ZONES[@]}"; do
    fresh "r-${tz//\//-}"
    token=$(mint_token)
    # Expired 60 s ago in truth: never handed out, in any zone.
    TZ=$tz $REF write "$CARTO_AUTH_HOME/token_m2m.json" "$STANDIN_URL" "$token" -60
    before=$(standin_requests /oauth/token)
    TZ=$tz run_helper "$REQ" get
    assert_rc 0
    assert_ne "$token" "$(kv_get "$OUT" password)" "[$tz] an expired reference token was handed out"
    assert_eq $((before + 1)) "$(standin_requests /oauth/token)" "[$tz] a new token was minted"
    # Valid for an hour in truth: used, with its true expiry.
    fresh "r2-${tz//\//-}"
    token=$(mint_token)
    TZ=$tz $REF write "$CARTO_AUTH_HOME/token_m2m.json" "$STANDIN_URL" "$token" 3600
    TZ=$tz run_helper "$REQ" get
    assert_eq "$token" "$(kv_get "$OUT" password)" "[$tz] the reference's valid token is used"
    expiry=$(kv_get "$OUT" password_expiry_utc)
    near "$expiry" $(( $(date +%s) + 3600 )) 5 "[$tz] its true expiry"
  done
}

case_exp_claim_caps_the_file() {
  local token expiry exp
  fresh exp-claim
  standin_settings '{"expires_in": 900}'
  token=$(mint_token)
  standin_settings '{"expires_in": 86400}'
  exp=$($PYTHON -c 'import base64, json, sys
p = sys.argv[1].split(".")[1]; p += "=" * (-len(p) % 4)
print(json.loads(base64.urlsafe_b64decode(p))["exp"])' "$token")
  # The file claims ten days; the token's own exp says 15 minutes.
  TZ=America/New_York $REF write "$CARTO_AUTH_HOME/token_m2m.json" "$STANDIN_URL" "$token" 864000
  TZ=America/New_York run_helper "$REQ" get
  assert_rc 0
  assert_eq "$token" "$(kv_get "$OUT" password)" "the reference's token is used"
  assert_eq "$exp" "$(kv_get "$OUT" password_expiry_utc)" "the expiry is the token's exp claim"
}

# -- 2. renewal margin ------------------------------------------------------------------

case_short_tokens_reused() {
  local first i
  fresh margin
  standin_settings '{"expires_in": 120}'
  run_helper "$REQ" get
  first=$(kv_get "$OUT" password)
  for i in 1 2 3; do
    run_helper "$REQ" get
    assert_eq "$first" "$(kv_get "$OUT" password)" "call $((i + 1)) got another token"
  done
  assert_eq 1 "$(standin_requests /oauth/token)" "4 calls, token requests"
  # An explicit min_ttl is honoured as given: 300 s > 120 s left.
  run_helper $'min_ttl=300\n'"$REQ" get
  assert_rc 0
  assert_ne "$first" "$(kv_get "$OUT" password)" "min_ttl=300 renews a 120 s token"
  assert_eq 2 "$(standin_requests /oauth/token)"
  standin_settings '{"expires_in": 86400}'
}

case_reference_token_lifetime_from_claims() {
  local token
  fresh margin-ref
  standin_settings '{"expires_in": 200}'
  token=$(mint_token)
  standin_settings '{"expires_in": 86400}'
  # 150 s left of a 200 s token: more than half its lifetime, so reused.
  TZ=Europe/Madrid $REF write "$CARTO_AUTH_HOME/token_m2m.json" "$STANDIN_URL" "$token" 150
  TZ=Europe/Madrid run_helper "$REQ" get
  assert_eq "$token" "$(kv_get "$OUT" password)" "a 200 s token with 150 s left"
  assert_eq 1 "$(standin_requests /oauth/token)" "only the test's own mint"
}

# -- 3. the refresh token survives the reference's rewrite ---------------------------------

case_refresh_token_survives_rewrite() {
  local cache=$TEST_TMP/shared-cache.json before
  fresh refresh
  run_helper $'mode=oauth\ncache_file='"$cache"$'\n\n' get
  assert_rc 0
  assert_file_exists "$cache"
  # The reference loads the file, then rewrites it with its three keys.
  $REF rewrite "$cache"
  assert_eq '["access_token", "api_base_url", "expiration"]' "$($PYTHON -c 'import json,sys; print(json.dumps(sorted(json.load(open(sys.argv[1])))))' "$cache")"
  # Expired in the reference's frame: the next get must refresh, not fail.
  $REF expire "$cache"
  before=$(standin_requests /oauth/token refresh_token)
  GIT_TERMINAL_PROMPT=0 run_helper $'mode=oauth\ncache_file='"$cache"$'\n\n' get
  assert_rc 0
  assert_not_contains "$ERR" "not logged in"
  assert_eq $((before + 1)) "$(standin_requests /oauth/token refresh_token)" "the refresh grant was used"
}

case_cache_refresh_record_private_and_erased() {
  local cache=$TEST_TMP/shared-cache2.json other=$TEST_TMP/other-cache.json kept
  fresh refresh-erase
  run_helper $'mode=oauth\ncache_file='"$cache"$'\n\n' get
  assert_rc 0
  kept=$(ls "$CARTO_AUTH_HOME"/tokens/oauth-*-cache-*.json)
  assert_file_mode "$kept" 600
  # Another cache_file (another user's login through the same client) does
  # not get this one's refresh token: it needs its own login.
  GIT_TERMINAL_PROMPT=0 run_helper $'mode=oauth\ncache_file='"$other"$'\n\n' get
  assert_rc 1
  assert_contains "$ERR" "not logged in"
  # erase of the token removes the kept refresh token too.
  run_helper $'mode=oauth\ncache_file='"$cache"$'\n\n' erase
  assert_rc 0
  assert_no_file "$cache"
  assert_no_file "$kept"
}

# -- 4. files the reference accepts ------------------------------------------------------

case_lenient_files() {
  local token variant
  for variant in slash extra mode-case; do
    fresh "lenient-$variant"
    token=$(mint_token)
    $PYTHON - "$CARTO_AUTH_HOME/token_m2m.json" "$STANDIN_URL" "$token" "$variant" <<'PY'
import json, sys, time
from datetime import datetime, timedelta
path, api, token, variant = sys.argv[1:]
data = {"api_base_url": api, "access_token": token,
        "expiration": int((datetime.utcnow() + timedelta(seconds=3600)).timestamp())}
if variant == "slash":
    data["api_base_url"] = api + "/"
elif variant == "extra":
    data["written_by"] = "someone else"
elif variant == "mode-case":
    data["mode"] = "M2M"
json.dump(data, open(path, "w"))
PY
    chmod 600 "$CARTO_AUTH_HOME/token_m2m.json"
    run_helper "$REQ" get
    assert_rc 0
    assert_eq "$token" "$(kv_get "$OUT" password)" "[$variant] the reference's file is used"
    assert_empty "$ERR" "[$variant] no complaint"
  done
  # A credentials file whose api_base_url ends in / matches a file without.
  fresh lenient-creds
  token=$(mint_token)
  $REF write "$CARTO_AUTH_HOME/token_m2m.json" "$STANDIN_URL" "$token" 3600
  make_creds_file "$TEST_TMP/creds-slash.json" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL/"
  run_helper $'credentials_file='"$TEST_TMP/creds-slash.json"$'\n\n' get
  assert_eq "$token" "$(kv_get "$OUT" password)" "credentials api_base_url with a trailing /"
}

t_case "time zones: the helper writes, the reference reads the true remaining time" case_helper_writes_reference_reads
t_case "time zones: the reference writes, the helper never uses an expired token" case_reference_writes_helper_reads
t_case "a file's expiration is never trusted past the token's exp claim" case_exp_claim_caps_the_file
t_case "short-lived tokens are reused while half their lifetime is left" case_short_tokens_reused
t_case "a reference file's token lifetime comes from its claims" case_reference_token_lifetime_from_claims
t_case "a shared cache_file rewritten by the reference keeps the refresh token working" case_refresh_token_survives_rewrite
t_case "the refresh token kept beside a cache_file: private, that file's only, erased with it" case_cache_refresh_record_private_and_erased
t_case "files the reference accepts: trailing /, extra field, mode in another case" case_lenient_files
t_done
