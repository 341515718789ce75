#!/bin/bash
# The Secret Service store against a real gnome-keyring in a private D-Bus
# session (tests/keyring_session.sh): what lands in the keyring (checked
# with secret-tool, not only through the helper), auto mode's choice, the
# fallback without a session bus or without a Secret Service, and a locked
# keyring that loses nothing.
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
CREDS=$TEST_TMP/creds.json
CREDS2=$TEST_TMP/creds2.json
make_creds_file "$CREDS" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
make_creds_file "$CREDS2" "$STANDIN_CLIENT_2" "$STANDIN_SECRET_2" "$STANDIN_URL"
REQ=$'credentials_file='"$CREDS"$'\n\n'
TOKEN_SCHEMA=com.carto.auth.Token
CRED_SCHEMA=com.carto.auth.Credential
LOGIN=/org/freedesktop/secrets/collection/login

# -- the keyring, seen from outside -------------------------------------------

# kr_items SCHEMA [ATTR VALUE]...: every matching item as secret-tool
# prints it (label, secret, attributes; attributes go to stderr).
kr_items() {
  local schema=$1
  shift
  secret-tool search --all xdg:schema "$schema" "$@" 2>&1
}

# kr_count SCHEMA [ATTR VALUE]...: how many items match.
kr_count() {
  kr_items "$@" | grep -c '^label = ' || true
}

# kr_secret SCHEMA [ATTR VALUE]...: the secret of a matching unlocked item.
kr_secret() {
  local schema=$1
  shift
  secret-tool lookup xdg:schema "$schema" "$@"
}

kr_locked() {
  gdbus introspect --session -d org.freedesktop.secrets -o "$LOGIN" -p |
    grep -q 'Locked = true'
}

kr_lock() {
  gdbus call --session -d org.freedesktop.secrets -o /org/freedesktop/secrets \
    -m org.freedesktop.Secret.Service.Lock "[objectpath '$LOGIN']" >/dev/null
  kr_locked
}

# Unlocking without a prompt needs gnome-keyring's own interface and a
# Secret Service session, which must outlive the call: python3-dbus.
KEYRING_PY=
for py in /usr/bin/python3 "$PYTHON" python3; do
  if command -v "$py" >/dev/null && "$py" -c 'import dbus' 2>/dev/null; then
    KEYRING_PY=$py
    break
  fi
done

kr_unlock() {
  "$KEYRING_PY" - "$CARTO_KEYRING_PASSWORD" "$LOGIN" <<'EOF'
import sys
import dbus
bus = dbus.SessionBus()
obj = bus.get_object("org.freedesktop.secrets", "/org/freedesktop/secrets")
service = dbus.Interface(obj, "org.freedesktop.Secret.Service")
_, session = service.OpenSession("plain", dbus.String("", variant_level=1))
internal = dbus.Interface(obj, "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface")
internal.UnlockWithMasterPassword(dbus.ObjectPath(sys.argv[2]), dbus.Struct(
    (session, dbus.ByteArray(b""), dbus.ByteArray(sys.argv[1].encode()), "text/plain")))
EOF
  ! kr_locked
}

kr_clear_tokens() {
  secret-tool clear xdg:schema "$TOKEN_SCHEMA" 2>/dev/null || true
}

# No token file may appear in keyring mode (locks are fine).
assert_no_token_files() {
  local files
  files=$(find "$CARTO_AUTH_HOME" -name '*.json' 2>/dev/null || true)
  assert_empty "$files" "no token or credential file in keyring mode"
}

ms_now() { echo $(($(date +%s%N) / 1000000)); }

# run_cmd STDIN CMD...: like run_helper, for a command that wraps the helper.
run_cmd() { _t_capture "$@"; }

# -- keyring mode ------------------------------------------------------------------

case_m2m_get_keyring() {
  kr_clear_tokens
  CARTO_AUTH_STORE=keyring run_helper "$REQ" get
  assert_rc 0
  assert_empty "$ERR" "nothing on stderr"
  local token
  token=$(kv_get "$OUT" password)
  assert_match "$token" '^eyJ' "a token is handed out"
  assert_eq 1 "$(standin_requests /oauth/token client_credentials)" "one token request"
  assert_eq 1 "$(kr_count "$TOKEN_SCHEMA")" "one token item in the keyring"
  local secret
  secret=$(kr_secret "$TOKEN_SCHEMA" mode m2m client_id "$STANDIN_CLIENT_1")
  assert_json "$secret" access_token "$token" "the keyring holds the token"
  assert_json "$secret" expiration "$(kv_get "$OUT" expiration)"
  assert_json "$secret" api_base_url "$STANDIN_URL"
  assert_no_token_files
  printf '%s' "$token" >"$TEST_TMP/token1"
}
t_case "keyring mode: an M2M get stores the token in the keyring, no file" case_m2m_get_keyring

case_item_shape() {
  local items token
  token=$(cat "$TEST_TMP/token1")
  items=$(kr_items "$TOKEN_SCHEMA")
  assert_contains "$items" "label = CARTO token (m2m, 127.0.0.1:$STANDIN_PORT)" "a label people understand"
  assert_contains "$items" "attribute.mode = m2m"
  assert_contains "$items" "attribute.client_id = $STANDIN_CLIENT_1"
  assert_contains "$items" "attribute.api_base_url = $STANDIN_URL"
  assert_contains "$items" "attribute.auth_url = $STANDIN_URL"
  assert_contains "$items" "attribute.account = $STANDIN_CLIENT_1"
  assert_match "$items" "attribute.expiration = [0-9]+"
  # Secrets only in the secret: never in a label or an attribute.
  local visible
  visible=$(printf '%s\n' "$items" | grep -E '^(label|attribute\.)')
  assert_not_contains "$visible" "$token" "the token in a label or attribute"
  assert_not_contains "$visible" "$STANDIN_SECRET_1" "the client secret in a label or attribute"
  assert_not_contains "$items" "$STANDIN_SECRET_1" "the client secret anywhere in the keyring"
}
t_case "the token item: label, identity attributes, no secret outside the secret" case_item_shape

case_second_get_from_keyring() {
  CARTO_AUTH_STORE=keyring run_helper "$REQ" get
  assert_rc 0
  assert_eq "$(cat "$TEST_TMP/token1")" "$(kv_get "$OUT" password)" "the stored token"
  assert_eq 1 "$(standin_requests /oauth/token)" "no new token request"
  CARTO_AUTH_STORE=auto run_helper "$REQ" get
  assert_rc 0
  assert_eq "$(cat "$TEST_TMP/token1")" "$(kv_get "$OUT" password)" "auto mode reads the keyring"
  assert_eq 1 "$(standin_requests /oauth/token)" "still no new token request"
  assert_no_token_files
}
t_case "a second get is served from the keyring (keyring and auto mode)" case_second_get_from_keyring

case_two_identities() {
  CARTO_AUTH_STORE=keyring run_helper $'credentials_file='"$CREDS2"$'\n\n' get
  assert_rc 0
  assert_eq 2 "$(kr_count "$TOKEN_SCHEMA")" "two items side by side"
  assert_eq "$(kv_get "$OUT" password)" \
    "$(json_get "$(kr_secret "$TOKEN_SCHEMA" client_id "$STANDIN_CLIENT_2")" access_token)"
  CARTO_AUTH_STORE=keyring run_helper "$REQ" get
  assert_eq "$(cat "$TEST_TMP/token1")" "$(kv_get "$OUT" password)" "the first one is kept"
  assert_eq 2 "$(standin_requests /oauth/token)"
}
t_case "two credentials files: two keyring items, neither evicted" case_two_identities

case_status() {
  CARTO_AUTH_STORE=keyring run_helper "" status
  assert_rc 0
  assert_contains "$OUT" "keyring" "the store is named"
  assert_contains "$OUT" "$STANDIN_CLIENT_1"
  assert_contains "$OUT" "$STANDIN_CLIENT_2"
  assert_contains "$OUT" "$STANDIN_URL"
  assert_not_contains "$OUT$ERR" "$(cat "$TEST_TMP/token1")" "no token in status"
  assert_not_contains "$OUT$ERR" "$STANDIN_SECRET_1" "no client secret in status"
  CARTO_AUTH_STORE=auto run_helper "" status
  assert_rc 0
  assert_contains "$OUT" "keyring" "auto mode lists the keyring"
}
t_case "status lists keyring tokens with the store, never a secret" case_status

case_erase() {
  local token
  token=$(cat "$TEST_TMP/token1")
  # A password that differs from the stored token keeps it (git's rule).
  CARTO_AUTH_STORE=keyring run_helper $'credentials_file='"$CREDS"$'\npassword=stale\n\n' erase
  assert_rc 0
  assert_eq 1 "$(kr_count "$TOKEN_SCHEMA" client_id "$STANDIN_CLIENT_1")" "kept"
  CARTO_AUTH_STORE=keyring run_helper $'credentials_file='"$CREDS"$'\npassword='"$token"$'\n\n' erase
  assert_rc 0
  assert_eq 0 "$(kr_count "$TOKEN_SCHEMA" client_id "$STANDIN_CLIENT_1")" "the item is gone"
  assert_eq 1 "$(kr_count "$TOKEN_SCHEMA" client_id "$STANDIN_CLIENT_2")" "the other identity stays"
  CARTO_AUTH_STORE=keyring run_helper "$REQ" get
  assert_rc 0
  assert_ne "$token" "$(kv_get "$OUT" password)" "the next get obtains a new token"
  assert_eq 3 "$(standin_requests /oauth/token)"
  assert_eq 1 "$(kr_count "$TOKEN_SCHEMA" client_id "$STANDIN_CLIENT_1")" "stored again"
  assert_no_token_files
}
t_case "erase removes the item (not with a differing password); next get renews" case_erase

case_logout() {
  CARTO_AUTH_STORE=keyring run_helper "" logout --m2m "$CREDS"
  assert_rc 0
  assert_contains "$ERR" "Removed 1"
  assert_eq 0 "$(kr_count "$TOKEN_SCHEMA" client_id "$STANDIN_CLIENT_1")" "client 1 logged out"
  assert_eq 1 "$(kr_count "$TOKEN_SCHEMA" client_id "$STANDIN_CLIENT_2")" "client 2 kept"
  CARTO_AUTH_STORE=keyring run_helper "$REQ" get
  assert_rc 0
  CARTO_AUTH_STORE=keyring run_helper "" logout --all
  assert_rc 0
  assert_contains "$ERR" "Removed 2"
  assert_eq 0 "$(kr_count "$TOKEN_SCHEMA")" "no token item left"
  CARTO_AUTH_STORE=keyring run_helper "" status
  assert_contains "$OUT" "No CARTO token is stored"
}
t_case "logout removes the matching item; --all every CARTO token" case_logout

case_auto_prefers_keyring() {
  kr_clear_tokens
  CARTO_AUTH_STORE=auto run_helper "$REQ" get
  assert_rc 0
  assert_eq 1 "$(kr_count "$TOKEN_SCHEMA")" "auto mode stores in the keyring"
  assert_no_token_files
  kv_get "$OUT" password >"$TEST_TMP/token_auto"
}
t_case "auto mode with a Secret Service uses the keyring" case_auto_prefers_keyring

case_plain_credentials() {
  CARTO_AUTH_STORE=keyring run_helper $'protocol=https\nhost=git.example.com:8443\npath=team/repo.git\nusername=alice\npassword=s3cret-pw\n\n' store
  assert_rc 0
  local items
  items=$(kr_items "$CRED_SCHEMA")
  assert_contains "$items" "label = Git: https://git.example.com:8443/team/repo.git (alice)"
  assert_contains "$items" "attribute.host = git.example.com:8443"
  assert_contains "$items" "attribute.path = team/repo.git"
  assert_contains "$items" "attribute.username = alice"
  assert_not_contains "$(printf '%s\n' "$items" | grep -E '^(label|attribute\.)')" "s3cret-pw"
  assert_eq "s3cret-pw" "$(kr_secret "$CRED_SCHEMA" username alice)"
  CARTO_AUTH_STORE=keyring run_helper $'protocol=https\nhost=git.example.com:8443\npath=team/repo.git\n\n' get
  assert_rc 0
  assert_eq $'username=alice\npassword=s3cret-pw' "$OUT"
  CARTO_AUTH_STORE=keyring run_helper $'protocol=https\nhost=git.example.com:8443\nusername=alice\n\n' erase
  assert_rc 0
  assert_eq 0 "$(kr_count "$CRED_SCHEMA")"
  assert_no_token_files
}
t_case "git credentials in the keyring: item, label, attributes, erase" case_plain_credentials

# -- no session bus, no Secret Service ----------------------------------------------------

case_no_bus_auto_falls_back() {
  rm -rf "$CARTO_AUTH_HOME"
  mkdir -p "$TEST_TMP/emptyrun" && chmod 700 "$TEST_TMP/emptyrun"
  local start end
  start=$(ms_now)
  XDG_RUNTIME_DIR=$TEST_TMP/emptyrun CARTO_AUTH_STORE=auto \
    run_cmd "$REQ" env -u DBUS_SESSION_BUS_ADDRESS "$CARTO_AUTH" get
  end=$(ms_now)
  assert_rc 0
  assert_file_exists "$CARTO_AUTH_HOME/token_m2m.json" "the file store took over"
  assert_eq "$(kv_get "$OUT" password)" "$(json_file_get "$CARTO_AUTH_HOME/token_m2m.json" access_token)"
  # Served from the file now: the decision itself must cost nothing.
  start=$(ms_now)
  XDG_RUNTIME_DIR=$TEST_TMP/emptyrun CARTO_AUTH_STORE=auto \
    run_cmd "$REQ" env -u DBUS_SESSION_BUS_ADDRESS "$CARTO_AUTH" --debug get
  end=$(ms_now)
  assert_rc 0
  assert_contains "$ERR" "file store"
  echo "  (cached get without a session bus: $((end - start)) ms)"
  [ $((end - start)) -lt 2000 ] || { echo "  FAIL: took $((end - start)) ms" >&2; return 1; }
  rm -rf "$CARTO_AUTH_HOME"
}
t_case "no session bus: auto mode uses the file store, in well under a second" case_no_bus_auto_falls_back

case_no_bus_keyring_fails() {
  rm -rf "$CARTO_AUTH_HOME"
  mkdir -p "$TEST_TMP/emptyrun" && chmod 700 "$TEST_TMP/emptyrun"
  local before
  before=$(standin_requests /oauth/token)
  XDG_RUNTIME_DIR=$TEST_TMP/emptyrun CARTO_AUTH_STORE=keyring \
    run_cmd "$REQ" env -u DBUS_SESSION_BUS_ADDRESS "$CARTO_AUTH" get
  assert_rc 1
  assert_empty "$OUT" "nothing on stdout"
  assert_contains "$ERR" "session bus" "a clear message"
  assert_eq 1 "$(printf '%s\n' "$ERR" | wc -l)" "one line"
  assert_eq "$before" "$(standin_requests /oauth/token)" "no token request"
  assert_no_file "$CARTO_AUTH_HOME/token_m2m.json"
}
t_case "no session bus: CARTO_AUTH_STORE=keyring fails with exit 1 and a clear message" case_no_bus_keyring_fails

# A second bus that has no Secret Service and cannot start one.
NOSVC_CONF=$TEST_TMP/no-secrets-bus.conf
cat >"$NOSVC_CONF" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=$TEST_TMP</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF

case_bus_without_service() {
  local start end
  rm -rf "$CARTO_AUTH_HOME"
  start=$(ms_now)
  CARTO_AUTH_STORE=auto run_cmd "$REQ" \
    dbus-run-session --config-file="$NOSVC_CONF" -- "$CARTO_AUTH" --debug get
  end=$(ms_now)
  assert_rc 0
  assert_contains "$ERR" "no Secret Service on the session bus"
  assert_file_exists "$CARTO_AUTH_HOME/token_m2m.json" "the file store took over"
  echo "  (get on a bus without a Secret Service: $((end - start)) ms)"
  [ $((end - start)) -lt 2000 ] || { echo "  FAIL: took $((end - start)) ms" >&2; return 1; }
  CARTO_AUTH_STORE=keyring run_cmd "$REQ" \
    dbus-run-session --config-file="$NOSVC_CONF" -- "$CARTO_AUTH" get
  assert_rc 1
  assert_empty "$OUT"
  assert_contains "$ERR" "no Secret Service on the session bus"
  rm -rf "$CARTO_AUTH_HOME"
}
t_case "a bus without a Secret Service: auto falls back fast; keyring mode fails" case_bus_without_service

# A server with gnome-keyring installed but nobody logged in: the bus
# starts the Secret Service, which has no unlocked login collection.
case_activated_service_without_login() {
  local fresh=$TEST_TMP/fresh-user start end
  rm -rf "$CARTO_AUTH_HOME" "$fresh"
  mkdir -p "$fresh/home" "$fresh/data" "$fresh/run" && chmod 700 "$fresh"/*
  # Its own runtime folder, or the new daemon would find ours and defer to it.
  start=$(ms_now)
  CARTO_AUTH_STORE=auto run_cmd "$REQ" env HOME="$fresh/home" XDG_DATA_HOME="$fresh/data" \
    XDG_RUNTIME_DIR="$fresh/run" dbus-run-session -- "$CARTO_AUTH" --debug get
  end=$(ms_now)
  if [[ $ERR == *"nothing provides org.freedesktop.secrets"* ]]; then
    echo "  (the bus cannot start gnome-keyring here; nothing to check)"
    rm -rf "$CARTO_AUTH_HOME"
    return 0
  fi
  assert_rc 0
  assert_contains "$ERR" "default collection" "the reason is traced"
  assert_file_exists "$CARTO_AUTH_HOME/token_m2m.json" "the file store took over"
  echo "  (get with a freshly started Secret Service: $((end - start)) ms)"
  rm -rf "$CARTO_AUTH_HOME"
}
t_case "a Secret Service without a login keyring: auto mode uses the file store" case_activated_service_without_login

# -- a locked keyring loses nothing -------------------------------------------------------

case_locked_keyring_mode() {
  local token requests
  rm -rf "$CARTO_AUTH_HOME"
  token=$(cat "$TEST_TMP/token_auto")
  requests=$(standin_requests /oauth/token)
  kr_lock
  assert_eq 1 "$(kr_count "$TOKEN_SCHEMA")" "the locked item is still listed"
  CARTO_AUTH_STORE=keyring run_helper $'credentials_file='"$CREDS"$'\ninteractive=false\n\n' get
  assert_rc 1
  assert_empty "$OUT"
  assert_contains "$ERR" "locked" "says the keyring is locked"
  assert_eq 1 "$(printf '%s\n' "$ERR" | wc -l)" "one line on stderr, no GLib warning: $ERR"
  assert_not_contains "$ERR" "$token"
  assert_eq "$requests" "$(standin_requests /oauth/token)" "no token request"
  # Not interactive through git's variable either, and no display anyway.
  GIT_TERMINAL_PROMPT=0 CARTO_AUTH_STORE=keyring run_helper "$REQ" get
  assert_rc 1
  assert_contains "$ERR" "locked"
  CARTO_AUTH_STORE=keyring run_helper "$REQ" get
  assert_rc 1
  assert_contains "$ERR" "locked"
  # An erase while locked fails and erases nothing.
  CARTO_AUTH_STORE=keyring run_helper $'credentials_file='"$CREDS"$'\npassword='"$token"$'\ninteractive=false\n\n' erase
  assert_rc 1
  assert_contains "$ERR" "locked"
  CARTO_AUTH_STORE=keyring run_helper $'protocol=https\nhost=git.example.com\n\n' erase
  assert_rc 1
  assert_eq 1 "$(kr_count "$TOKEN_SCHEMA")" "nothing erased"
  assert_no_token_files
}
t_case "locked keyring, keyring mode: exit 1, 'locked', nothing erased" case_locked_keyring_mode

case_locked_auto_mode() {
  local token requests
  rm -rf "$CARTO_AUTH_HOME"
  token=$(cat "$TEST_TMP/token_auto")
  requests=$(standin_requests /oauth/token)
  kr_locked
  CARTO_AUTH_STORE=auto run_helper $'credentials_file='"$CREDS"$'\ninteractive=false\n\n' --debug get
  assert_rc 0
  assert_contains "$ERR" "locked" "the fallback is traced"
  assert_eq $((requests + 1)) "$(standin_requests /oauth/token)" "a token for the file store"
  assert_file_exists "$CARTO_AUTH_HOME/token_m2m.json" "the file store took over"
  assert_eq "$(kv_get "$OUT" password)" "$(json_file_get "$CARTO_AUTH_HOME/token_m2m.json" access_token)"
  # An erase in auto mode goes to the file store, never to the locked item.
  CARTO_AUTH_STORE=auto run_helper $'credentials_file='"$CREDS"$'\ninteractive=false\n\n' erase
  assert_rc 0
  assert_no_file "$CARTO_AUTH_HOME/token_m2m.json"
  assert_eq 1 "$(kr_count "$TOKEN_SCHEMA")" "the keyring item is still there"
  assert_contains "$(kr_items "$TOKEN_SCHEMA")" "attribute.client_id = $STANDIN_CLIENT_1"
  rm -rf "$CARTO_AUTH_HOME"
}
t_case "locked keyring, auto mode: file store, keyring item untouched" case_locked_auto_mode

case_unlocked_again() {
  if [ -z "$KEYRING_PY" ]; then
    echo "  (python3-dbus is missing: cannot unlock without a prompt)"
    return 0
  fi
  kr_unlock
  local token requests
  token=$(cat "$TEST_TMP/token_auto")
  requests=$(standin_requests /oauth/token)
  assert_json "$(kr_secret "$TOKEN_SCHEMA" client_id "$STANDIN_CLIENT_1")" access_token "$token" \
    "the item survived, same token"
  CARTO_AUTH_STORE=keyring run_helper $'credentials_file='"$CREDS"$'\ninteractive=false\n\n' get
  assert_rc 0
  assert_eq "$token" "$(kv_get "$OUT" password)" "served from the keyring again"
  assert_eq "$requests" "$(standin_requests /oauth/token)" "no token request"
}
if [ -n "$KEYRING_PY" ]; then
  t_case "after unlocking, the item is still there and used" case_unlocked_again
else
  t_skip "after unlocking, the item is still there and used" "python3-dbus is missing"
fi

# -- OAuth --------------------------------------------------------------------------------

case_oauth_in_keyring() {
  kr_clear_tokens
  CARTO_AUTH_STORE=keyring run_helper '' login
  assert_rc 0
  assert_eq 1 "$(kr_count "$TOKEN_SCHEMA" mode oauth)" "one OAuth item"
  local items secret access refresh
  items=$(kr_items "$TOKEN_SCHEMA" mode oauth)
  assert_contains "$items" "label = CARTO token (oauth, 127.0.0.1:$STANDIN_PORT)"
  assert_contains "$items" "attribute.org = "
  assert_contains "$items" "attribute.api_base_url = $STANDIN_URL" "the discovered account"
  secret=$(kr_secret "$TOKEN_SCHEMA" mode oauth org "")
  access=$(json_get "$secret" access_token)
  refresh=$(json_get "$secret" refresh_token)
  assert_nonempty "$refresh" "the refresh token is kept in the secret"
  local visible
  visible=$(printf '%s\n' "$items" | grep -E '^(label|attribute\.)')
  assert_not_contains "$visible" "$access" "the access token outside the secret"
  assert_not_contains "$visible" "$refresh" "the refresh token outside the secret"
  assert_no_token_files
  # Served from the keyring without a browser...
  CARTO_AUTH_STORE=keyring run_helper $'mode=oauth\ninteractive=false\n\n' get
  assert_rc 0
  assert_eq "$access" "$(kv_get "$OUT" password)"
  assert_eq 1 "$(standin_requests /authorize)" "no second login"
  # ... and renewed with the refresh token in place: still one item.
  CARTO_AUTH_STORE=keyring run_helper $'mode=oauth\ninteractive=false\nmin_ttl=999999999\n\n' get
  assert_rc 0
  assert_eq 1 "$(standin_requests /oauth/token refresh_token)" "renewed by refresh token"
  assert_eq 1 "$(kr_count "$TOKEN_SCHEMA" mode oauth)" "replaced, not duplicated"
  assert_eq "$(kv_get "$OUT" password)" \
    "$(json_get "$(kr_secret "$TOKEN_SCHEMA" mode oauth org "")" access_token)"
  # An SSO organization is another identity, side by side.
  CARTO_AUTH_STORE=keyring run_helper '' login --org acme
  assert_rc 0
  assert_contains "$(kr_items "$TOKEN_SCHEMA" org acme)" "label = CARTO token (oauth, 127.0.0.1:$STANDIN_PORT, org acme)"
  assert_eq 2 "$(kr_count "$TOKEN_SCHEMA" mode oauth)"
  local revokes acme_refresh
  revokes=$(standin_requests /oauth/revoke)
  acme_refresh=$(json_get "$(kr_secret "$TOKEN_SCHEMA" mode oauth org acme)" refresh_token)
  CARTO_AUTH_STORE=keyring run_helper '' logout --org acme
  assert_rc 0
  assert_contains "$ERR" "Revoked 1 refresh token at the CARTO login server."
  assert_eq "$acme_refresh" "$(standin_last_form token /oauth/revoke)" "the org's refresh token revoked"
  assert_eq 0 "$(kr_count "$TOKEN_SCHEMA" org acme)" "the org's token is gone"
  assert_eq 1 "$(kr_count "$TOKEN_SCHEMA" mode oauth)" "the other stays"
  refresh=$(json_get "$(kr_secret "$TOKEN_SCHEMA" mode oauth org "")" refresh_token)
  CARTO_AUTH_STORE=keyring run_helper '' logout --all
  assert_contains "$ERR" "Revoked 1 refresh token at the CARTO login server."
  assert_eq "$refresh" "$(standin_last_form token /oauth/revoke)" "--all revoked the other"
  assert_eq $((revokes + 2)) "$(standin_requests /oauth/revoke)"
  assert_eq 0 "$(kr_count "$TOKEN_SCHEMA")"
}
# (After the locked cases: it needs the keyring unlocked again.)
if [ -n "$KEYRING_PY" ]; then
  t_case "OAuth in the keyring: login, refresh token in the secret, renewal, orgs" case_oauth_in_keyring
else
  t_skip "OAuth in the keyring: login, refresh token in the secret, renewal, orgs" "python3-dbus is missing"
fi

# -- items written by earlier versions ----------------------------------------------------

# Secrets are written as application/octet-stream (KeePassXC keeps those
# byte for byte); earlier versions wrote text/plain and application/json.
# secret-tool writes text/plain: such items are still read, on both paths.
case_text_plain_items() {
  local token requests attrs secret args=() line key value
  printf '%s' 'old-pw{TITLE}' | secret-tool store --label='Git: https://old.example.com (u)' \
    xdg:schema "$CRED_SCHEMA" protocol https host old.example.com username u
  CARTO_AUTH_STORE=keyring run_helper $'protocol=https\nhost=old.example.com\n\n' get
  assert_rc 0
  assert_eq $'username=u\npassword=old-pw{TITLE}' "$OUT" "a text/plain credential is read"
  kr_clear_tokens
  CARTO_AUTH_STORE=keyring run_helper "$REQ" get
  assert_rc 0
  token=$(kv_get "$OUT" password)
  requests=$(standin_requests /oauth/token)
  # The same item again, its JSON written as text/plain.
  attrs=$(kr_items "$TOKEN_SCHEMA" client_id "$STANDIN_CLIENT_1")
  while IFS= read -r line; do
    [[ $line == attribute.* ]] || continue
    key=${line#attribute.}
    key=${key%% = *}
    value=${line#* = }
    args+=("$key" "$value")
  done <<<"$attrs"
  secret=$(kr_secret "$TOKEN_SCHEMA" client_id "$STANDIN_CLIENT_1")
  kr_clear_tokens
  printf '%s' "$secret" | secret-tool store --label='CARTO token (m2m)' \
    xdg:schema "$TOKEN_SCHEMA" "${args[@]}"
  assert_eq 1 "$(kr_count "$TOKEN_SCHEMA")"
  CARTO_AUTH_STORE=keyring run_helper "$REQ" --debug get
  assert_rc 0
  assert_eq "$token" "$(kv_get "$OUT" password)" "a text/plain token is read (fast path)"
  assert_contains "$ERR" "fast path: m2m token found"
  assert_eq "$requests" "$(standin_requests /oauth/token)" "no token request"
}
if [ -n "$KEYRING_PY" ]; then
  t_case "items written as text/plain (earlier versions, other tools) are still read" \
    case_text_plain_items
else
  t_skip "items written as text/plain (earlier versions, other tools) are still read" \
    "python3-dbus is missing"
fi

# The keyring keeps the granted lifetime: a 120 s token is reused while
# half of it is left (SPEC's margin), not renewed on every get.
case_short_token_margin_kept() {
  local f=$TEST_TMP/shortcreds.json first before i
  make_creds_file "$f" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL/short"
  standin_settings '{"expires_in": 120}'
  before=$(standin_requests /oauth/token)
  CARTO_AUTH_STORE=keyring run_helper $'credentials_file='"$f"$'\n\n' get
  assert_rc 0
  first=$(kv_get "$OUT" password)
  for i in 1 2 3; do
    CARTO_AUTH_STORE=keyring run_helper $'credentials_file='"$f"$'\n\n' get
    assert_rc 0
    assert_eq "$first" "$(kv_get "$OUT" password)" "get $((i + 1)) renewed a 120 s token"
  done
  assert_eq $((before + 1)) "$(standin_requests /oauth/token)" "4 gets, one token request"
  standin_settings '{"expires_in": 86400}'
  CARTO_AUTH_STORE=keyring run_helper "" logout --m2m "$f"
  assert_rc 0
  assert_eq 0 "$(kr_count "$TOKEN_SCHEMA" client_id "$STANDIN_CLIENT_1" api_base_url "$STANDIN_URL/short")" \
    "the short-lived item is gone"
  assert_no_token_files
}
t_case "a short-lived token in the keyring keeps its lifetime: reused, not renewed" case_short_token_margin_kept

# Auto mode: a token stored while no session bus answered (a login over
# ssh, cron) is in the file store. git's erase with the keyring up must
# not leave it there for the next get without a bus.
case_auto_erase_reaches_file_copy() {
  local home=$TEST_TMP/auto-erase req t1 t2
  req=$'credentials_file='"$CREDS"
  CARTO_AUTH_HOME=$home CARTO_AUTH_STORE=auto DBUS_SESSION_BUS_ADDRESS= run_helper "$req"$'\n\n' get
  assert_rc 0
  t1=$(kv_get "$OUT" password)
  assert_file_exists "$home/token_m2m.json" "stored in the file store, without a bus"
  CARTO_AUTH_HOME=$home CARTO_AUTH_STORE=auto run_helper "$req"$'\nusername=m2m\npassword='"$t1"$'\n\n' erase
  assert_rc 0 "erase with the keyring up: $ERR"
  CARTO_AUTH_HOME=$home CARTO_AUTH_STORE=auto DBUS_SESSION_BUS_ADDRESS= run_helper "$req"$'\n\n' get
  assert_rc 0
  t2=$(kv_get "$OUT" password)
  assert_ne "$t1" "$t2" "the token git rejected was handed out again from the file store"
}
t_case "auto mode: git's erase with the keyring up also reaches the file store's copy" \
  case_auto_erase_reaches_file_copy

# git hands a percent-decoded username to its helpers as raw bytes
# ("https://caf%E9@host": one byte 0xE9, not UTF-8). libsecret's search and
# create return without ever answering for such a value: the helper must
# neither wait out its deadline nor match someone else's credential.
case_non_utf8_username() {
  local h=$'protocol=https\nhost=utf.example.com\n' bad=$'username=caf\xe9\n' t0 ms
  CARTO_AUTH_STORE=keyring run_helper "${h}username=u"$'\npassword=pw-u\n\n' store
  assert_rc 0
  for action in get erase; do
    t0=$(ms_now)
    CARTO_AUTH_STORE=keyring run_helper "$h$bad"$'\n' "$action"
    ms=$(($(ms_now) - t0))
    assert_rc 0 "$action with a non-UTF-8 username"
    assert_empty "$OUT" "$action: no other user's credential"
    assert_not_contains "$ERR" "did not answer" "$action: no wait for an answer that never comes"
    [ "$ms" -lt 5000 ] || { echo "  FAIL: $action took $ms ms" >&2; return 1; }
  done
  # The erase matched nothing: u's credential is still there.
  CARTO_AUTH_STORE=keyring run_helper "${h}username=u"$'\n\n' get
  assert_rc 0
  assert_eq $'username=u\npassword=pw-u' "$OUT"
  # A store of it is refused at once, in one line, and changes nothing.
  t0=$(ms_now)
  CARTO_AUTH_STORE=keyring run_helper "$h$bad"$'password=pw-x\n\n' store
  ms=$(($(ms_now) - t0))
  [ "$ms" -lt 5000 ] || { echo "  FAIL: store took $ms ms" >&2; return 1; }
  if [ "$RC" != 0 ]; then
    assert_eq 1 "$(printf '%s\n' "$ERR" | grep -c .)" "one line on stderr"
    assert_not_contains "$ERR" "pw-x"
  fi
  CARTO_AUTH_STORE=keyring run_helper "${h}username=u"$'\n\n' get
  assert_eq $'username=u\npassword=pw-u' "$OUT" "u's credential unchanged"
}
t_case "a username that is not UTF-8 (git's percent-decoding): no hang, no other user's credential" \
  case_non_utf8_username

t_done
