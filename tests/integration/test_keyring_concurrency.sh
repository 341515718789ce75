#!/bin/bash
# Parallel callers on the keyring store: 32 gets on an empty keyring make
# one token request, all print the same token, and the keyring holds one
# item for the identity (checked with secret-tool).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${CARTO_KEYRING_SESSION:-}" ]; then
  exec "$HERE/../keyring_session.sh" bash "$0" "$@"
fi
KEYRING_BUS=$DBUS_SESSION_BUS_ADDRESS
. "$HERE/../lib.sh"
export DBUS_SESSION_BUS_ADDRESS=$KEYRING_BUS   # lib.sh unsets it

command -v secret-tool >/dev/null || t_skip_all "secret-tool is missing (libsecret-tools)"

standin_start
export CARTO_AUTH_STORE=keyring
CREDS=$TEST_TMP/creds.json
make_creds_file "$CREDS" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
REQ=$'credentials_file='"$CREDS"$'\n\n'

# run_parallel N NAME [REQUEST]: N gets at once; prints the distinct tokens.
run_parallel() {
  local n=$1 name=$2 req=${3:-$REQ} i
  for ((i = 0; i < n; i++)); do
    run_helper_bg "$name.$i" "$req" get
  done
  wait_helpers
  for ((i = 0; i < n; i++)); do
    helper_result "$name.$i"
    [ "$RC" = 0 ] || { echo "caller $i: exit $RC: $ERR" >&2; return 1; }
    kv_get "$OUT" password
  done | sort -u
}

case_cold() {
  standin_fault '{"path": "/oauth/token", "kind": "delay", "seconds": 2}'
  local tokens
  tokens=$(run_parallel 32 cold)
  assert_eq 1 "$(printf '%s\n' "$tokens" | wc -l)" "all 32 print the same token"
  assert_eq 1 "$(standin_requests /oauth/token)" "exactly one token request"
  assert_eq "$tokens" "$(json_get "$(secret-tool lookup xdg:schema com.carto.auth.Token \
    mode m2m client_id "$STANDIN_CLIENT_1")" access_token)" "the keyring holds that token"
  assert_eq 1 "$(secret-tool search --all xdg:schema com.carto.auth.Token 2>&1 | grep -c '^label = ')" "one item"
  assert_no_file "$CARTO_AUTH_HOME/token_m2m.json"
}
t_case "32 parallel gets on an empty keyring: one token request, one token, one item" case_cold

case_expiring() {
  local before tokens
  # Make the stored token expire soon, so every caller wants a renewal.
  standin_fault '{"path": "/oauth/token", "kind": "expires_in", "value": 100}'
  run_helper $'credentials_file='"$CREDS"$'\nuse_cache=false\n\n' get
  assert_rc 0
  before=$(standin_requests /oauth/token)
  standin_fault '{"path": "/oauth/token", "kind": "delay", "seconds": 2}'
  # min_ttl=300: a 100 s token is otherwise reused while 50 s are left.
  tokens=$(run_parallel 32 expiring $'credentials_file='"$CREDS"$'\nmin_ttl=300\n\n')
  assert_eq 1 "$(printf '%s\n' "$tokens" | wc -l)" "all 32 print the same token"
  assert_eq $((before + 1)) "$(standin_requests /oauth/token)" "exactly one renewal"
}
t_case "32 parallel gets with an expiring keyring token: one renewal" case_expiring

t_done
