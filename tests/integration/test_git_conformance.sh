#!/bin/bash
# git's credential-helper conformance, after git's own t/lib-credential.sh
# (helper_test, helper_test_password_expiry_utc,
# helper_test_oauth_refresh_token, helper_test_authtype), driven through real
# `git credential fill/approve/reject`:
#   - on both stores: the file store, and the keyring (a private
#     gnome-keyring, tests/keyring_session.sh);
#   - with the helper configured by absolute path and as `carto` (found as
#     git-credential-carto on PATH);
#   - attributes the local git drops (git 2.39 knows neither
#     password_expiry_utc, oauth_refresh_token, wwwauth[] nor ephemeral)
#     are also sent straight to the helper on standard input, as newer
#     gits do;
#   - and the CARTO path: `credential.helper=carto --m2m FILE` hands out a
#     stand-in token through git, and git's reject (after a 401) drops it
#     so that the next fill gets a fresh one.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${CARTO_KEYRING_SESSION:-}" ] && [ -z "${CARTO_NO_KEYRING:-}" ]; then
  # keyring_session.sh exits 77 when its tools are missing: then run the
  # file store alone rather than nothing.
  set +e
  "$HERE/../keyring_session.sh" bash "$0" "$@"
  rc=$?
  set -e
  if [ "$rc" -ne 77 ]; then exit "$rc"; fi
  echo "(no keyring session possible: file store only)"
  export CARTO_NO_KEYRING=1
  exec bash "$0" "$@"
fi
KEYRING_BUS=${DBUS_SESSION_BUS_ADDRESS:-}
. "$HERE/../lib.sh"

command -v git >/dev/null || t_skip_all "git is missing"
case $CARTO_AUTH in /*) ;; *) CARTO_AUTH=$PWD/$CARTO_AUTH ;; esac

# `carto` on PATH: the build's git-credential-carto link, or our own.
if [ -n "${CARTO_AUTH_BUILD_DIR:-}" ] && [ -x "$CARTO_AUTH_BUILD_DIR/git-credential-carto" ]; then
  LINK_DIR=$CARTO_AUTH_BUILD_DIR
else
  LINK_DIR=$TEST_TMP/bin
  mkdir -p "$LINK_DIR"
  ln -s "$CARTO_AUTH" "$LINK_DIR/git-credential-carto"
fi
export PATH=$LINK_DIR:$PATH

# As in git's tests: when no helper answers, git asks this script, so a
# miss shows as username=askpass-username / password=askpass-password.
cat >"$TEST_TMP/askpass" <<'EOF'
#!/bin/sh
echo >&2 askpass: $*
what=$(echo $1 | cut -d" " -f1 | tr A-Z a-z | tr -cd a-z)
echo "askpass-$what"
EOF
chmod +x "$TEST_TMP/askpass"
export GIT_ASKPASS=$TEST_TMP/askpass
cd "$TEST_TMP"

CRED_SCHEMA=com.carto.auth.Credential
TOKEN_SCHEMA=com.carto.auth.Token

# -- running git and the helper ------------------------------------------------------

# gcred ACTION INPUT [GIT OPTIONS]: git credential ACTION with the helper
# under test ($HELPER) as the only helper. Sets OUT, ERR, RC.
gcred() {
  local action=$1 input=$2
  shift 2
  _t_capture "$input" git -c credential.helper= -c "credential.helper=$HELPER" "$@" \
    credential "$action"
}

# The helper must never complain; git ignores its exit status, so look.
assert_helper_quiet() {
  assert_not_contains "$ERR" "carto-auth:" "the helper reported a problem"
}

# expect_fill INPUT EXPECTED [GIT OPTIONS]
expect_fill() {
  local input=$1 want=$2
  shift 2
  gcred fill "$input" "$@"
  assert_rc 0
  assert_helper_quiet
  assert_eq "$want" "$OUT" "git credential fill"
}

approve() {
  local input=$1
  shift
  gcred approve "$input" "$@"
  assert_rc 0
  assert_helper_quiet
}

reject() {
  local input=$1
  shift
  gcred reject "$input" "$@"
  assert_rc 0
  assert_helper_quiet
}

# direct ACTION INPUT: the helper as git runs it, with our own input (for
# what this git would drop). Sets OUT, ERR, RC.
direct() {
  if [ "$FORM" = name ]; then
    _t_capture "$2" git credential-carto "$1"
  else
    _t_capture "$2" "$CARTO_AUTH" "$1"
  fi
}

# stored_count HOST: how many credentials the store under test holds for HOST.
stored_count() {
  if [ "$CARTO_AUTH_STORE" = keyring ]; then
    { secret-tool search --all xdg:schema "$CRED_SCHEMA" host "$1" 2>&1 || true; } |
      grep -c '^label = ' || true
  else
    "$PYTHON" - "$CARTO_AUTH_HOME/credentials.json" "$1" <<'EOF'
import json, os, sys
path, host = sys.argv[1:3]
creds = json.load(open(path))["credentials"] if os.path.exists(path) else []
print(sum(1 for c in creds if c.get("host") == host))
EOF
  fi
}

# stored_text: everything the store under test holds for git credentials,
# as a person would see it (file contents, or the keyring's items).
stored_text() {
  if [ "$CARTO_AUTH_STORE" = keyring ]; then
    secret-tool search --all xdg:schema "$CRED_SCHEMA" 2>&1 || true
  else
    cat "$CARTO_AUTH_HOME/credentials.json" 2>/dev/null || true
  fi
}

# The visible part of the store: keyring labels and attributes (not secrets).
stored_visible() {
  secret-tool search --all xdg:schema "$CRED_SCHEMA" 2>&1 | grep -E '^(label|attribute\.)' || true
}

reset_store() {
  rm -rf "$CARTO_AUTH_HOME"
  if [ -n "$KEYRING_BUS" ]; then
    secret-tool clear xdg:schema "$CRED_SCHEMA" 2>/dev/null || true
    secret-tool clear xdg:schema "$TOKEN_SCHEMA" 2>/dev/null || true
  fi
}

ASKPASS_ANSWER=$'username=askpass-username\npassword=askpass-password'

# -- the cases of git's helper_test ------------------------------------------------------

case_store_retrieve() {
  approve $'protocol=https\nhost=example.com\nusername=store-user\npassword=store-pass\n'
  expect_fill $'protocol=https\nhost=example.com\n' \
    $'protocol=https\nhost=example.com\nusername=store-user\npassword=store-pass'
  assert_eq 1 "$(stored_count example.com)" "one stored credential"
  if [ "$CARTO_AUTH_STORE" = file ]; then
    assert_file_mode "$CARTO_AUTH_HOME/credentials.json" 600
    assert_file_mode "$CARTO_AUTH_HOME" 700
  else
    assert_no_file "$CARTO_AUTH_HOME/credentials.json" "no file in keyring mode"
    assert_not_contains "$(stored_visible)" "store-pass" "the password outside the secret"
  fi
}

case_matching_protocol() {
  expect_fill $'protocol=http\nhost=example.com\n' \
    $'protocol=http\nhost=example.com\n'"$ASKPASS_ANSWER"
}

case_matching_host() {
  expect_fill $'protocol=https\nhost=other.tld\n' \
    $'protocol=https\nhost=other.tld\n'"$ASKPASS_ANSWER"
  expect_fill $'protocol=https\nhost=example.com:8443\n' \
    $'protocol=https\nhost=example.com:8443\n'"$ASKPASS_ANSWER"
}

case_matching_username() {
  expect_fill $'protocol=https\nhost=example.com\nusername=other\n' \
    $'protocol=https\nhost=example.com\nusername=other\npassword=askpass-password'
}

case_matching_path() {
  approve $'protocol=http\nhost=path.tld\npath=foo.git\nusername=user\npassword=pass\n' \
    -c credential.useHttpPath=true
  expect_fill $'protocol=http\nhost=path.tld\npath=foo.git\n' \
    $'protocol=http\nhost=path.tld\npath=foo.git\nusername=user\npassword=pass' \
    -c credential.useHttpPath=true
  expect_fill $'protocol=http\nhost=path.tld\npath=bar.git\n' \
    $'protocol=http\nhost=path.tld\npath=bar.git\n'"$ASKPASS_ANSWER" \
    -c credential.useHttpPath=true
}

case_overwrite() {
  approve $'protocol=http\nhost=example.com\nusername=user\npassword=pass\n'
  approve $'protocol=http\nhost=example.com\nusername=user\npassword=pass2\n'
  expect_fill $'protocol=http\nhost=example.com\nusername=user\n' \
    $'protocol=http\nhost=example.com\nusername=user\npassword=pass2'
  reject $'protocol=http\nhost=example.com\nusername=user\npassword=pass2\n'
  expect_fill $'protocol=http\nhost=example.com\nusername=user\n' \
    $'protocol=http\nhost=example.com\nusername=user\npassword=askpass-password'
}

case_forget_host() {
  reject $'protocol=https\nhost=example.com\n'
  expect_fill $'protocol=https\nhost=example.com\n' \
    $'protocol=https\nhost=example.com\n'"$ASKPASS_ANSWER"
  assert_eq 0 "$(stored_count example.com)" "nothing left for the host"
}

case_multiple_users() {
  approve $'protocol=https\nhost=example.com\nusername=user1\npassword=pass1\n'
  approve $'protocol=https\nhost=example.com\nusername=user2\npassword=pass2\n'
  expect_fill $'protocol=https\nhost=example.com\nusername=user1\n' \
    $'protocol=https\nhost=example.com\nusername=user1\npassword=pass1'
  expect_fill $'protocol=https\nhost=example.com\nusername=user2\n' \
    $'protocol=https\nhost=example.com\nusername=user2\npassword=pass2'
}

case_forget_user() {
  reject $'protocol=https\nhost=example.com\nusername=user1\n'
  expect_fill $'protocol=https\nhost=example.com\nusername=user1\n' \
    $'protocol=https\nhost=example.com\nusername=user1\npassword=askpass-password'
  # ... and remembers the other one.
  expect_fill $'protocol=https\nhost=example.com\nusername=user2\n' \
    $'protocol=https\nhost=example.com\nusername=user2\npassword=pass2'
}

case_erase_all_users() {
  approve $'protocol=https\nhost=example.com\nusername=user1\npassword=pass1\n'
  approve $'protocol=https\nhost=example.com\nusername=user2\npassword=pass1\n'
  reject $'protocol=https\nhost=example.com\n'
  expect_fill $'protocol=https\nhost=example.com\nusername=user1\n' \
    $'protocol=https\nhost=example.com\nusername=user1\npassword=askpass-password'
  expect_fill $'protocol=https\nhost=example.com\nusername=user2\n' \
    $'protocol=https\nhost=example.com\nusername=user2\npassword=askpass-password'
  assert_eq 0 "$(stored_count example.com)" "every user erased"
}

case_erase_keeps_distinct_password() {
  approve $'protocol=https\nhost=example.com\nusername=user-distinct-pass\npassword=pass1\n'
  reject $'protocol=https\nhost=example.com\nusername=user-distinct-pass\npassword=pass2\n'
  expect_fill $'protocol=https\nhost=example.com\nusername=user-distinct-pass\n' \
    $'protocol=https\nhost=example.com\nusername=user-distinct-pass\npassword=pass1'
  # Without a username either: the distinct password protects it.
  reject $'protocol=https\nhost=example.com\npassword=pass2\n'
  expect_fill $'protocol=https\nhost=example.com\nusername=user-distinct-pass\n' \
    $'protocol=https\nhost=example.com\nusername=user-distinct-pass\npassword=pass1'
  reject $'protocol=https\nhost=example.com\nusername=user-distinct-pass\npassword=pass1\n'
  assert_eq 0 "$(stored_count example.com)" "the matching password erases it"
}

case_empty_username_password() {
  approve $'protocol=https\nhost=sso.tld\nusername=\npassword=\n'
  expect_fill $'protocol=https\nhost=sso.tld\n' \
    $'protocol=https\nhost=sso.tld\nusername=\npassword='
  direct get $'protocol=https\nhost=sso.tld\n\n'
  assert_rc 0
  assert_eq $'username=\npassword=' "$OUT" "empty strings, not absent"
}

case_long_wwwauth() {
  approve $'protocol=https\nhost=victim.example.com\nusername=user\npassword=to-be-stolen\n'
  local param
  param=$(printf 'x%.0s' {1..1100})
  local input=$'protocol=https\nhost=badguy.example.com\nwwwauth[]=Bearer param='"$param"$' host=victim.example.com\n'
  expect_fill "$input" $'protocol=https\nhost=badguy.example.com\n'"$ASKPASS_ANSWER"
  # This git drops wwwauth[]; newer ones send it on to the helper.
  direct get "$input"$'\n'
  assert_rc 0
  assert_empty "$OUT" "nothing for badguy.example.com"
  assert_not_contains "$OUT" "to-be-stolen"
}

case_ephemeral() {
  direct store $'protocol=https\nhost=ephemeral.tld\nusername=user\npassword=pass\nephemeral=1\n\n'
  assert_rc 0
  direct get $'protocol=https\nhost=ephemeral.tld\n\n'
  assert_rc 0
  assert_empty "$OUT" "an ephemeral credential is not stored"
  assert_eq 0 "$(stored_count ephemeral.tld)"
}

case_expiry() {
  local past=$(($(date +%s) - 60))
  direct store $'protocol=https\nhost=expiry.tld\nusername=user-expired\npassword=old-pass\npassword_expiry_utc='"$past"$'\n\n'
  assert_rc 0
  direct get $'protocol=https\nhost=expiry.tld\nusername=user-expired\n\n'
  assert_rc 0
  assert_empty "$OUT" "an expired password is never handed out"
  expect_fill $'protocol=https\nhost=expiry.tld\nusername=user-expired\n' \
    $'protocol=https\nhost=expiry.tld\nusername=user-expired\npassword=askpass-password'
  # git's helper_test_password_expiry_utc.
  direct store $'protocol=https\nhost=example.com\nusername=user-expiry\npassword=pass\npassword_expiry_utc=9999999999\n\n'
  assert_rc 0
  direct get $'protocol=https\nhost=example.com\nusername=user-expiry\n\n'
  assert_eq $'username=user-expiry\npassword=pass\npassword_expiry_utc=9999999999' "$OUT"
  expect_fill $'protocol=https\nhost=example.com\nusername=user-expiry\n' \
    $'protocol=https\nhost=example.com\nusername=user-expiry\npassword=pass'
  direct store $'protocol=https\nhost=example.com\nusername=user-expiry-overwrite\npassword=pass1\npassword_expiry_utc=9999999998\n\n'
  direct store $'protocol=https\nhost=example.com\nusername=user-expiry-overwrite\npassword=pass2\npassword_expiry_utc=9999999999\n\n'
  direct get $'protocol=https\nhost=example.com\nusername=user-expiry-overwrite\n\n'
  assert_eq $'username=user-expiry-overwrite\npassword=pass2\npassword_expiry_utc=9999999999' "$OUT" \
    "overwritten when the expiry changes"
  direct erase $'protocol=https\nhost=example.com\nusername=user-expiry-overwrite\npassword=pass2\n\n'
  assert_rc 0
  direct get $'protocol=https\nhost=example.com\nusername=user-expiry-overwrite\n\n'
  assert_empty "$OUT" "erased"
}

case_refresh_token() {
  direct store $'protocol=https\nhost=example.com\nusername=user4\npassword=pass\noauth_refresh_token=xyzzy\n\n'
  assert_rc 0
  direct get $'protocol=https\nhost=example.com\nusername=user4\n\n'
  assert_rc 0
  assert_eq $'username=user4\npassword=pass\noauth_refresh_token=xyzzy' "$OUT"
  if [ "$CARTO_AUTH_STORE" = keyring ]; then
    assert_not_contains "$(stored_visible)" "xyzzy" "the refresh token outside the secret"
  fi
  expect_fill $'protocol=https\nhost=example.com\nusername=user4\n' \
    $'protocol=https\nhost=example.com\nusername=user4\npassword=pass'
}

# git's helper_test_authtype (git 2.46+), sent straight to the helper: git
# 2.39 here drops capability[], authtype and credential.
case_authtype() {
  local cap=$'capability[]=authtype\n'
  direct store "$cap"$'authtype=Bearer\ncredential=random-token\nprotocol=https\nhost=git.example.com\n\n'
  assert_rc 0
  assert_empty "$ERR" "stored quietly"
  direct get "$cap"$'protocol=https\nhost=git.example.com\n\n'
  assert_rc 0
  assert_eq $'capability[]=authtype\nauthtype=Bearer\ncredential=random-token' "$OUT"
  # Only to a caller that announces the capability (git's credential-cache fix).
  direct get $'protocol=https\nhost=git.example.com\n\n'
  assert_rc 0
  assert_empty "$OUT" "no authtype credential without capability[]=authtype"
  expect_fill $'protocol=https\nhost=git.example.com\n' \
    $'protocol=https\nhost=git.example.com\n'"$ASKPASS_ANSWER"
  direct store "$cap"$'authtype=Bearer\ncredential=other-token\nprotocol=https\nhost=git.example.com\nusername=foobar\n\n'
  assert_rc 0
  direct get "$cap"$'protocol=https\nhost=git.example.com\nusername=foobar\n\n'
  assert_eq $'capability[]=authtype\nusername=foobar\nauthtype=Bearer\ncredential=other-token' "$OUT"
  direct get "$cap"$'protocol=https\nhost=git.example.com\nusername=barbaz\n\n'
  assert_empty "$OUT" "a different username gets nothing"
  # Without the capability, authtype and credential are not stored.
  direct store $'authtype=Bearer\ncredential=nocap-token\nprotocol=https\nhost=nocap.example.com\n\n'
  assert_rc 0
  direct get "$cap"$'protocol=https\nhost=nocap.example.com\n\n'
  assert_empty "$OUT" "authtype without the capability is not stored"
  # Ephemeral: nothing stored, either form.
  direct store "$cap"$'authtype=Bearer\ncredential=git2-token\nprotocol=https\nhost=git2.example.com\nephemeral=1\n\n'
  direct store "$cap"$'protocol=https\nhost=git2.example.com\nusername=barbaz\npassword=secret\nephemeral=1\n\n'
  direct get "$cap"$'protocol=https\nhost=git2.example.com\n\n'
  assert_empty "$OUT" "ephemeral authtype credential not stored"
  assert_eq 0 "$(stored_count git2.example.com)"
  # A password credential still answers a capable caller, and a token
  # stored beside a password goes to the capable caller only.
  direct store "$cap"$'protocol=https\nhost=both.example.com\nusername=u\npassword=p\nauthtype=Bearer\ncredential=both-token\n\n'
  direct get "$cap"$'protocol=https\nhost=both.example.com\n\n'
  assert_eq $'capability[]=authtype\nusername=u\npassword=p\nauthtype=Bearer\ncredential=both-token' "$OUT"
  direct get $'protocol=https\nhost=both.example.com\n\n'
  assert_eq $'username=u\npassword=p' "$OUT"
  if [ "$CARTO_AUTH_STORE" = keyring ]; then
    assert_not_contains "$(stored_visible)" "random-token" "the credential outside the secret"
  else
    assert_eq "600" "$(stat -c %a "$CARTO_AUTH_HOME/credentials.json")"
  fi
  # Erase with the credential as the secret: only that one goes.
  direct erase "$cap"$'protocol=https\nhost=git.example.com\nusername=foobar\nauthtype=Bearer\ncredential=not-it\n\n'
  direct get "$cap"$'protocol=https\nhost=git.example.com\nusername=foobar\n\n'
  assert_contains "$OUT" "credential=other-token" "a differing credential erases nothing"
  direct erase "$cap"$'protocol=https\nhost=git.example.com\n\n'
  direct get "$cap"$'protocol=https\nhost=git.example.com\n\n'
  assert_empty "$OUT" "erased"
}

PLAIN_CASES=(
  "store and retrieve|case_store_retrieve"
  "protocol must match|case_matching_protocol"
  "host (with port) must match|case_matching_host"
  "username must match|case_matching_username"
  "with useHttpPath, path must match|case_matching_path"
  "store overwrites|case_overwrite"
  "forget a host|case_forget_host"
  "several users on one host|case_multiple_users"
  "forget one user, remember the other|case_forget_user"
  "erase without username removes every user|case_erase_all_users"
  "erase keeps a distinct password|case_erase_keeps_distinct_password"
  "empty username and password round-trip|case_empty_username_password"
  "a long wwwauth[] holding host=... is one line|case_long_wwwauth"
  "ephemeral is not stored|case_ephemeral"
  "an expired password is never returned; expiry round-trips|case_expiry"
  "oauth_refresh_token round-trips|case_refresh_token"
  "authtype and credential round-trip, only with the capability|case_authtype"
)

# -- the CARTO path through git ----------------------------------------------------------

standin_start
CREDS=$TEST_TMP/creds.json
make_creds_file "$CREDS" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"

# What the store under test holds as the token of client 1 ("" if none).
stored_token() {
  if [ "$CARTO_AUTH_STORE" = keyring ]; then
    json_get "$(secret-tool lookup xdg:schema "$TOKEN_SCHEMA" client_id "$STANDIN_CLIENT_1" 2>/dev/null || echo '{}')" \
      access_token || true
  else
    json_file_get "$CARTO_AUTH_HOME/token_m2m.json" access_token 2>/dev/null || true
  fi
}

case_carto_fill_reject() {
  local first second requests
  requests=$(standin_requests /oauth/token)
  gcred fill "url=$STANDIN_URL/v3/maps"$'\n'
  assert_rc 0
  assert_helper_quiet
  assert_eq "http" "$(kv_get "$OUT" protocol)"
  assert_eq "127.0.0.1:$STANDIN_PORT" "$(kv_get "$OUT" host)"
  assert_eq "$STANDIN_CLIENT_1" "$(kv_get "$OUT" username)" "the client id as username"
  first=$(kv_get "$OUT" password)
  assert_match "$first" '^eyJ' "a stand-in token as the password"
  assert_eq $((requests + 1)) "$(standin_requests /oauth/token client_credentials)" "one token request"
  assert_eq "$first" "$(stored_token)" "the token is in the $CARTO_AUTH_STORE store"
  if [ "$CARTO_AUTH_STORE" = keyring ]; then
    assert_no_file "$CARTO_AUTH_HOME/token_m2m.json" "no token file in keyring mode"
  fi

  local answer=$OUT
  # git approves what worked: nothing changes, and the next fill reuses it.
  approve "$answer"$'\n'
  gcred fill "url=$STANDIN_URL/v3/maps"$'\n'
  assert_eq "$first" "$(kv_get "$OUT" password)" "the stored token again"
  assert_eq $((requests + 1)) "$(standin_requests /oauth/token)" "no new token request"

  # Someone else's stale token is rejected: ours stays.
  reject $'protocol=http\nhost=127.0.0.1:'"$STANDIN_PORT"$'\nusername='"$STANDIN_CLIENT_1"$'\npassword=not-our-token\n'
  assert_eq "$first" "$(stored_token)" "a differing password erases nothing"

  # The server said 401: git rejects the token, the helper drops it, and the
  # next fill obtains a fresh one.
  reject "$answer"$'\n'
  assert_eq "" "$(stored_token)" "the rejected token is gone from the store"
  gcred fill "url=$STANDIN_URL/v3/maps"$'\n'
  assert_rc 0
  assert_helper_quiet
  second=$(kv_get "$OUT" password)
  assert_match "$second" '^eyJ'
  assert_ne "$first" "$second" "a fresh token"
  assert_eq $((requests + 2)) "$(standin_requests /oauth/token)" "one more token request"
  assert_eq "$second" "$(stored_token)"
}

case_carto_host() {
  # A CARTO API host (as a user would scope it in ~/.gitconfig); the
  # token's account comes from the credentials file.
  local requests
  requests=$(standin_requests /oauth/token)
  _t_capture $'protocol=https\nhost=gcp-us-east1.api.carto.com\n' git -c credential.helper= \
    -c "credential.https://gcp-us-east1.api.carto.com.helper=$HELPER" credential fill
  assert_rc 0
  assert_helper_quiet
  assert_eq "gcp-us-east1.api.carto.com" "$(kv_get "$OUT" host)" "the request's host is echoed"
  assert_eq "$(stored_token)" "$(kv_get "$OUT" password)" "the stored token"
  assert_eq "$requests" "$(standin_requests /oauth/token)" "served from the store"
  # Another host is not this helper's business.
  _t_capture $'protocol=https\nhost=github.com\n' git -c credential.helper= \
    -c "credential.https://gcp-us-east1.api.carto.com.helper=$HELPER" credential fill
  assert_eq $'protocol=https\nhost=github.com\n'"$ASKPASS_ANSWER" "$OUT"
}

case_carto_authtype() {
  direct_m2m get $'capability[]=authtype\nprotocol=https\nhost=gcp-us-east1.api.carto.com\n\n'
  assert_rc 0
  assert_eq "Bearer" "$(kv_get "$OUT" authtype)"
  assert_eq "$(stored_token)" "$(kv_get "$OUT" credential)"
}

# direct_m2m ACTION INPUT: the helper with --m2m before the action.
direct_m2m() {
  if [ "$FORM" = name ]; then
    _t_capture "$2" git credential-carto --m2m "$CREDS" "$1"
  else
    _t_capture "$2" "$CARTO_AUTH" --m2m "$CREDS" "$1"
  fi
}

CARTO_CASES=(
  "CARTO: fill hands out a token; reject drops it; the next fill renews|case_carto_fill_reject"
  "CARTO: a helper scoped to a CARTO API host|case_carto_host"
  "CARTO: authtype=Bearer and credential= when announced|case_carto_authtype"
)

# -- the runs ----------------------------------------------------------------------------

# run_suite STORE FORM: every case on one store, with the helper given as
# FORM "abs" (/path/to/carto-auth) or "name" (carto, on PATH).
run_suite() {
  local store=$1 form=$2 entry name fn label
  export CARTO_AUTH_STORE=$store
  FORM=$form
  reset_store
  if [ "$form" = name ]; then HELPER=carto; label=carto; else HELPER=$CARTO_AUTH; label=/abs/carto-auth; fi
  for entry in "${PLAIN_CASES[@]}"; do
    name=${entry%%|*}
    fn=${entry##*|}
    t_case "[$store store, helper=$label] $name" "$fn"
  done
  reset_store
  HELPER="$HELPER --m2m $CREDS"
  for entry in "${CARTO_CASES[@]}"; do
    name=${entry%%|*}
    fn=${entry##*|}
    t_case "[$store store, helper=$label --m2m FILE] $name" "$fn"
  done
}

run_suite file abs
run_suite file name
if [ -n "$KEYRING_BUS" ]; then
  export DBUS_SESSION_BUS_ADDRESS=$KEYRING_BUS   # lib.sh unset it
  run_suite keyring abs
  run_suite keyring name
  unset DBUS_SESSION_BUS_ADDRESS
else
  t_skip "[keyring] the conformance suite" "no keyring session (dbus-run-session, gnome-keyring)"
fi

t_done
