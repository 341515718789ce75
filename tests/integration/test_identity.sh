#!/bin/bash
# A stored token goes only to the identity it was issued to (SPEC, Stores;
# docs/design.md, "Identities"), tried the way an attacker would:
#  - a token file the Python reference wrote or rewrote (no identity fields)
#    is matched by the token's own claims: another M2M client with the same
#    api_base_url never gets it, an SSO organization's token never reaches a
#    get without organization, and a token whose claims cannot be read is
#    not shared at all;
#  - a stored M2M token needs the same client secret (a salted fingerprint
#    is stored, never the secret), in the file store and in the keyring;
#  - the file store's git credentials file has the token files' owner,
#    permission and symbolic-link rules.
# The keyring cases run inside tests/keyring_session.sh when it can start;
# the rest runs in any case.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${CARTO_KEYRING_SESSION:-}" ] && [ -z "${_IDENTITY_NO_KEYRING:-}" ]; then
  have_keyring=1
  for tool in dbus-run-session gnome-keyring-daemon gdbus secret-tool; do
    command -v "$tool" >/dev/null 2>&1 || have_keyring=
  done
  if [ -n "$have_keyring" ]; then
    exec "$HERE/../keyring_session.sh" bash "$0" "$@"
  fi
fi
KEYRING_BUS=${DBUS_SESSION_BUS_ADDRESS:-}
. "$HERE/../lib.sh"

standin_start
CREDS_A=$TEST_TMP/creds-a.json
CREDS_B=$TEST_TMP/creds-b.json
WRONG=$TEST_TMP/creds-wrong.json
make_creds_file "$CREDS_A" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
make_creds_file "$CREDS_B" "$STANDIN_CLIENT_2" "$STANDIN_SECRET_2" "$STANDIN_URL"
# Client A's id with a secret that is not A's.
WRONG_SECRET=wrong-secret-0001-$(printf 'z%.0s' {1..48})
make_creds_file "$WRONG" "$STANDIN_CLIENT_1" "$WRONG_SECRET" "$STANDIN_URL"
GET_A=$'credentials_file='"$CREDS_A"$'\n\n'
GET_B=$'credentials_file='"$CREDS_B"$'\n\n'
GET_WRONG=$'credentials_file='"$WRONG"$'\n\n'
FUTURE=$(($(date +%s) + 86400))

token_requests() { standin_requests /oauth/token; }

# as_reference FILE: rewrite a token file as the Python reference writes it:
# only api_base_url, access_token and expiration.
as_reference() {
  "$PYTHON" - "$1" <<'EOF'
import json, sys
path = sys.argv[1]
d = json.load(open(path))
with open(path, "w") as f:
    json.dump({k: d[k] for k in ("api_base_url", "access_token", "expiration")}, f)
EOF
  chmod 600 "$1"
}

# reference_file FILE TOKEN [API_BASE_URL]: a token file as the reference writes it.
reference_file() {
  printf '{"api_base_url": "%s", "access_token": "%s", "expiration": %s}\n' \
    "${3:-$STANDIN_URL}" "$2" "$FUTURE" >"$1"
  chmod 600 "$1"
}

# jwt CLAIMS_JSON: a JWT-shaped token with these claims (unsigned).
jwt() {
  "$PYTHON" - "$1" <<'EOF'
import base64, json, sys
b = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
print(b({"alg": "RS256"}) + "." + b(json.loads(sys.argv[1])) + ".c2lnbmF0dXJl")
EOF
}

# jwt_claim TOKEN CLAIM: one claim of a JWT's payload ("" when absent).
jwt_claim() {
  "$PYTHON" - "$1" "$2" <<'EOF'
import base64, json, sys
p = sys.argv[1].split(".")[1]
print(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))).get(sys.argv[2], ""))
EOF
}

# -- M2M: a reference-written file and another client ------------------------------

case_reference_file_other_client() {
  export CARTO_AUTH_HOME=$TEST_TMP/ref-m2m
  local tok_a before
  run_helper "$GET_A" get
  assert_rc 0
  tok_a=$(kv_get "$OUT" password)
  assert_eq "$STANDIN_CLIENT_1@clients" "$(jwt_claim "$tok_a" sub)" "the stand-in names client A in sub"
  # The Python reference renews A's token and rewrites its file.
  as_reference "$CARTO_AUTH_HOME/token_m2m.json"
  before=$(token_requests)
  # Client B, same api_base_url: never A's token; B gets its own.
  run_helper "$GET_B" get
  assert_rc 0
  assert_ne "$tok_a" "$(kv_get "$OUT" password)" "client B was handed client A's token"
  assert_eq "$STANDIN_CLIENT_2@clients" "$(jwt_claim "$(kv_get "$OUT" password)" sub)" "B's own token"
  assert_eq $((before + 1)) "$(token_requests)" "one token request, for B"
  assert_eq "$STANDIN_CLIENT_2" "$(standin_last_form client_id)" "the request was B's"
}
t_case "reference-rewritten token_m2m.json with client A's token: client B mints its own" \
  case_reference_file_other_client

case_reference_file_only() {
  # A store that only ever held the reference's file (no per-identity file).
  export CARTO_AUTH_HOME=$TEST_TMP/ref-only
  mkdir -m 700 "$CARTO_AUTH_HOME"
  local tok_a before
  run_helper $'credentials_file='"$CREDS_A"$'\nuse_cache=false\n\n' get
  tok_a=$(kv_get "$OUT" password)
  rm -rf "$CARTO_AUTH_HOME"/*
  reference_file "$CARTO_AUTH_HOME/token_m2m.json" "$tok_a"
  before=$(token_requests)
  run_helper "$GET_B" get
  assert_rc 0
  assert_ne "$tok_a" "$(kv_get "$OUT" password)" "client B was handed client A's token"
  assert_eq $((before + 1)) "$(token_requests)" "B minted its own"
  # Client A itself still shares the reference's token (claims name it).
  reference_file "$CARTO_AUTH_HOME/token_m2m.json" "$tok_a"
  before=$(token_requests)
  run_helper "$GET_A" get
  assert_rc 0
  assert_eq "$tok_a" "$(kv_get "$OUT" password)" "A's own token is shared with the reference"
  assert_eq "$before" "$(token_requests)" "no token request for A"
}
t_case "a reference-written token_m2m.json serves only the client its claims name" case_reference_file_only

case_claims_forms() {
  export CARTO_AUTH_HOME=$TEST_TMP/ref-forms
  mkdir -m 700 -p "$CARTO_AUTH_HOME"
  local tok before
  # azp alone names the client: shared.
  tok=$(jwt '{"azp": "'"$STANDIN_CLIENT_1"'", "exp": '"$FUTURE"'}')
  reference_file "$CARTO_AUTH_HOME/token_m2m.json" "$tok"
  run_helper "$GET_A" get
  assert_eq "$tok" "$(kv_get "$OUT" password)" "azp = client id"
  # sub names A, azp names B: not A's token.
  tok=$(jwt '{"sub": "'"$STANDIN_CLIENT_1"'@clients", "azp": "'"$STANDIN_CLIENT_2"'", "exp": '"$FUTURE"'}')
  reference_file "$CARTO_AUTH_HOME/token_m2m.json" "$tok"
  before=$(token_requests)
  run_helper "$GET_A" get
  assert_ne "$tok" "$(kv_get "$OUT" password)" "sub and azp disagree"
  assert_eq $((before + 1)) "$(token_requests)"
  # A user's token issued through client A (sub is a user): not an M2M token.
  rm -f "$CARTO_AUTH_HOME"/tokens/*
  tok=$(jwt '{"sub": "auth0|someone", "azp": "'"$STANDIN_CLIENT_1"'", "exp": '"$FUTURE"'}')
  reference_file "$CARTO_AUTH_HOME/token_m2m.json" "$tok"
  run_helper "$GET_A" get
  assert_ne "$tok" "$(kv_get "$OUT" password)" "a user's token"
  # A prefix of the client id is not the client id.
  rm -f "$CARTO_AUTH_HOME"/tokens/*
  tok=$(jwt '{"sub": "demo-client-id-000@clients", "exp": '"$FUTURE"'}')
  reference_file "$CARTO_AUTH_HOME/token_m2m.json" "$tok"
  run_helper "$GET_A" get
  assert_ne "$tok" "$(kv_get "$OUT" password)" "another client id"
  # Another api_base_url: not shared, even for the client its claims name.
  rm -f "$CARTO_AUTH_HOME"/tokens/*
  tok=$(jwt '{"sub": "'"$STANDIN_CLIENT_1"'@clients", "exp": '"$FUTURE"'}')
  reference_file "$CARTO_AUTH_HOME/token_m2m.json" "$tok" https://other.api.carto.com
  run_helper "$GET_A" get
  assert_ne "$tok" "$(kv_get "$OUT" password)" "another api_base_url"
}
t_case "claims: sub \"<id>@clients\" or azp \"<id>\", exactly, never disagreeing" case_claims_forms

case_unreadable_claims() {
  export CARTO_AUTH_HOME=$TEST_TMP/ref-opaque
  mkdir -m 700 "$CARTO_AUTH_HOME"
  local tok before
  for tok in opaque-token-0123456789 "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln" \
      "eyJhbGciOiJSUzI1NiJ9.$(printf '%s' '["sub"]' | base64 | tr -d '=').c2ln" \
      "a.b"; do
    rm -rf "$CARTO_AUTH_HOME/tokens"
    reference_file "$CARTO_AUTH_HOME/token_m2m.json" "$tok"
    before=$(token_requests)
    run_helper "$GET_A" get
    assert_rc 0
    assert_ne "$tok" "$(kv_get "$OUT" password)" "[$tok] was shared"
    assert_eq $((before + 1)) "$(token_requests)" "[$tok]: a token of our own"
  done
}
t_case "a reference-written token whose claims cannot be read is not shared" case_unreadable_claims

# -- OAuth: an organization's token and the default server -------------------------

case_org_token_not_to_no_org() {
  export CARTO_AUTH_HOME=$TEST_TMP/ref-org
  export CARTO_AUTH_REDIRECT_URI="http://localhost:$(free_port)/callback/"
  local tok
  run_helper '' login --org acme
  assert_rc 0
  tok=$(json_file_get "$CARTO_AUTH_HOME/token_oauth.json" access_token)
  assert_eq acme "$(jwt_claim "$tok" org_id)" "the org login's token carries org_id"
  # The Python reference rewrites token_oauth.json: no identity fields left.
  as_reference "$CARTO_AUTH_HOME/token_oauth.json"
  rm -rf "$CARTO_AUTH_HOME/tokens"
  # A get for the default auth server without organization (the reference's
  # own identity): not the organization's token.
  CARTO_AUTH_URL= run_helper $'mode=oauth\ninteractive=false\n\n' get
  assert_rc 1
  assert_empty "$OUT" "the organization's token was handed out"
  assert_contains "$ERR" "log"
  assert_eq "$tok" "$(json_file_get "$CARTO_AUTH_HOME/token_oauth.json" access_token)" "nothing lost"
  # A token without org_id is the reference's own: shared.
  tok=$(jwt '{"sub": "auth0|demo-user", "azp": "0dxb8HR3ATXCxJiPOJVHsLoHoAtbRX6u", "exp": '"$FUTURE"'}')
  reference_file "$CARTO_AUTH_HOME/token_oauth.json" "$tok"
  CARTO_AUTH_URL= run_helper $'mode=oauth\ninteractive=false\n\n' get
  assert_rc 0
  assert_eq "$tok" "$(kv_get "$OUT" password)" "the reference's token is shared"
  # ... but only with its own OAuth client.
  CARTO_AUTH_URL= CARTO_AUTH_CLIENT_ID=another-public-client \
    run_helper $'mode=oauth\ninteractive=false\n\n' get
  assert_rc 1
  assert_empty "$OUT" "a token of another OAuth client"
  # ... and never through another auth server, or with an organization.
  run_helper $'mode=oauth\ninteractive=false\n\n' get
  assert_ne "$tok" "$(kv_get "$OUT" password)" "another auth server"
  CARTO_AUTH_URL= run_helper $'mode=oauth\norg=acme\ninteractive=false\n\n' get
  assert_rc 1
  assert_empty "$OUT" "a token for org acme from a file without identity"
  # An opaque token: not shared.
  reference_file "$CARTO_AUTH_HOME/token_oauth.json" opaque-oauth-token-0123
  CARTO_AUTH_URL= run_helper $'mode=oauth\ninteractive=false\n\n' get
  assert_rc 1
  assert_empty "$OUT" "a token without readable claims"
}
t_case "an org login's token in a reference-rewritten token_oauth.json: not for a get without org" \
  case_org_token_not_to_no_org

# -- the client secret -----------------------------------------------------------

# wrong_secret_attack STORE: A's token stored; A's id with a wrong secret.
wrong_secret_attack() {
  local tok_a before
  run_helper "$GET_A" get
  assert_rc 0
  tok_a=$(kv_get "$OUT" password)
  before=$(token_requests)
  run_helper "$GET_WRONG" get
  assert_rc 1
  assert_empty "$OUT" "the cached token went to a caller with the wrong secret"
  assert_eq 1 "$(printf '%s\n' "$ERR" | wc -l)" "one line on stderr: $ERR"
  assert_contains "$ERR" "refused"
  assert_eq $((before + 1)) "$(token_requests)" "the wrong secret asked the server"
  assert_eq "$STANDIN_CLIENT_1" "$(standin_last_form client_id)"
  # Inline credentials too.
  run_helper $'client_id='"$STANDIN_CLIENT_1"$'\nclient_secret='"$WRONG_SECRET"$'\napi_base_url='"$STANDIN_URL"$'\n\n' get
  assert_rc 1
  assert_empty "$OUT" "inline wrong secret"
  assert_eq $((before + 2)) "$(token_requests)"
  # The right secret still finds the stored token: nothing was lost.
  run_helper "$GET_A" get
  assert_rc 0
  assert_eq "$tok_a" "$(kv_get "$OUT" password)" "the stored token is still there"
  assert_eq $((before + 2)) "$(token_requests)" "from the store"
}

case_wrong_secret_file() {
  export CARTO_AUTH_HOME=$TEST_TMP/secret-file
  wrong_secret_attack
}
t_case "file store: the right client id with a wrong secret does not get the cached token" \
  case_wrong_secret_file

# The reference rewrites token_m2m.json without our fingerprint. Where the
# store knows the fingerprint of this client's secret (its per-identity
# record), the rewritten file still serves only that secret.
case_wrong_secret_reference_rewrite() {
  export CARTO_AUTH_HOME=$TEST_TMP/secret-ref
  local tok_a before
  run_helper "$GET_A" get
  assert_rc 0
  tok_a=$(kv_get "$OUT" password)
  as_reference "$CARTO_AUTH_HOME/token_m2m.json"
  before=$(token_requests)
  run_helper "$GET_WRONG" get
  assert_rc 1
  assert_empty "$OUT" "the reference's copy went to a caller with the wrong secret"
  assert_eq $((before + 1)) "$(token_requests)" "the wrong secret asked the server"
  as_reference "$CARTO_AUTH_HOME/token_m2m.json"
  run_helper "$GET_A" get
  assert_rc 0
  assert_eq "$tok_a" "$(kv_get "$OUT" password)" "the right secret still shares the reference's file"
  assert_eq $((before + 1)) "$(token_requests)" "from the store"
}
t_case "a reference-rewritten token_m2m.json: a wrong secret gets nothing where a fingerprint is known" \
  case_wrong_secret_reference_rewrite

case_secret_never_stored_file() {
  export CARTO_AUTH_HOME=$TEST_TMP/secret-file
  local f salt1 salt2
  for f in "$CARTO_AUTH_HOME"/token_m2m.json "$CARTO_AUTH_HOME"/tokens/*.json; do
    assert_not_contains "$(cat "$f")" "$STANDIN_SECRET_1" "the secret in $f"
    assert_not_contains "$(cat "$f")" "$WRONG_SECRET" "the wrong secret in $f"
  done
  if grep -rqF -e "$STANDIN_SECRET_1" -e "${STANDIN_SECRET_1:0:24}" "$CARTO_AUTH_HOME"; then
    echo "  the secret (or part of it) is in the store" >&2
    return 1
  fi
  # Salted: the same secret stored twice gives two different fingerprints.
  salt1=$(json_file_get "$CARTO_AUTH_HOME/token_m2m.json" secret_hmac)
  CARTO_AUTH_HOME=$TEST_TMP/secret-file2 run_helper "$GET_A" get
  salt2=$(json_file_get "$TEST_TMP/secret-file2/token_m2m.json" secret_hmac)
  assert_match "$salt1" '^[0-9a-f]{64}$' "a fingerprint is stored"
  assert_ne "$salt1" "$salt2" "the fingerprint is salted"
}
t_case "file store: the secret is never stored, only a salted fingerprint" case_secret_never_stored_file

case_old_record_without_fingerprint() {
  # A per-identity file without a fingerprint (an older helper wrote it):
  # the secret cannot be checked, so it is renewed, not handed out.
  export CARTO_AUTH_HOME=$TEST_TMP/nofp
  local tok before f
  run_helper "$GET_A" get
  tok=$(kv_get "$OUT" password)
  for f in "$CARTO_AUTH_HOME"/token_m2m.json "$CARTO_AUTH_HOME"/tokens/*.json; do
    "$PYTHON" - "$f" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d.pop("secret_salt"); d.pop("secret_hmac")
json.dump(d, open(sys.argv[1], "w"))
EOF
  done
  before=$(token_requests)
  run_helper "$GET_WRONG" get
  assert_rc 1
  assert_empty "$OUT"
  run_helper "$GET_A" get
  assert_rc 0
  assert_ne "$tok" "$(kv_get "$OUT" password)" "renewed"
  assert_eq $((before + 2)) "$(token_requests)"
}
t_case "file store: an M2M record without a fingerprint is renewed, not handed out" \
  case_old_record_without_fingerprint

# -- keyring ---------------------------------------------------------------------

TOKEN_SCHEMA=com.carto.auth.Token
keyring_ready() { [ -n "$KEYRING_BUS" ] && [ "${CARTO_KEYRING_SESSION:-}" = 1 ]; }

case_wrong_secret_keyring() {
  export DBUS_SESSION_BUS_ADDRESS=$KEYRING_BUS CARTO_AUTH_STORE=keyring
  export CARTO_AUTH_HOME=$TEST_TMP/secret-keyring
  secret-tool clear xdg:schema "$TOKEN_SCHEMA" 2>/dev/null || true
  wrong_secret_attack
  assert_eq 1 "$(secret-tool search --all xdg:schema "$TOKEN_SCHEMA" 2>&1 | grep -c '^label = ')" \
    "one token item"
  if [ -n "$(find "$CARTO_AUTH_HOME" -name '*.json' 2>/dev/null)" ]; then
    echo "  a token file in keyring mode" >&2
    return 1
  fi
}

case_secret_never_stored_keyring() {
  export DBUS_SESSION_BUS_ADDRESS=$KEYRING_BUS CARTO_AUTH_STORE=keyring
  local items secret
  items=$(secret-tool search --all --unlock xdg:schema "$TOKEN_SCHEMA" 2>&1)
  assert_contains "$items" "attribute.client_id = $STANDIN_CLIENT_1" "the item is there"
  assert_not_contains "$items" "$STANDIN_SECRET_1" "the secret in the keyring"
  assert_not_contains "$items" "${STANDIN_SECRET_1:0:24}" "part of the secret in the keyring"
  assert_not_contains "$items" "$WRONG_SECRET" "the wrong secret in the keyring"
  secret=$(secret-tool lookup xdg:schema "$TOKEN_SCHEMA" mode m2m client_id "$STANDIN_CLIENT_1")
  assert_match "$(json_get "$secret" secret_hmac)" '^[0-9a-f]{64}$' "a salted fingerprint beside the token"
}

if keyring_ready; then
  t_case "keyring: the right client id with a wrong secret does not get the cached token" \
    case_wrong_secret_keyring
  t_case "keyring: the secret is never stored, only a salted fingerprint" \
    case_secret_never_stored_keyring
else
  t_skip "keyring: the right client id with a wrong secret does not get the cached token" \
    "no private keyring session"
  t_skip "keyring: the secret is never stored, only a salted fingerprint" "no private keyring session"
fi
unset DBUS_SESSION_BUS_ADDRESS

# -- the git credentials file (plain store/get) --------------------------------------

PLAIN_GET=$'protocol=https\nhost=git.example.com\nusername=alice\n\n'
PLAIN_STORE=$'protocol=https\nhost=git.example.com\nusername=alice\npassword=alices-git-password\n\n'

# creds_home NAME: a store whose credentials.json holds alice's password.
creds_home() {
  export CARTO_AUTH_HOME=$TEST_TMP/$1 CARTO_AUTH_STORE=file
  CREDFILE=$CARTO_AUTH_HOME/credentials.json
  run_helper "$PLAIN_STORE" store
  assert_rc 0
  assert_file_mode "$CREDFILE" 600
}

planted_creds() {
  printf '{"version": 1, "credentials": [{"protocol": "https", "host": "git.example.com", "username": "alice", "password": "planted-password"}]}\n'
}

case_creds_symlink() {
  creds_home creds-link
  local victim=$TEST_TMP/creds-victim.json
  planted_creds >"$victim"
  cp "$victim" "$TEST_TMP/creds-victim.orig"
  rm -f "$CREDFILE"
  ln -s "$victim" "$CREDFILE"
  run_helper "$PLAIN_GET" get
  assert_rc 1
  assert_empty "$OUT" "a credential read through a symbolic link"
  assert_eq 1 "$(printf '%s\n' "$ERR" | wc -l)" "one line: $ERR"
  assert_contains "$ERR" "refusing to read $CREDFILE: it is a symbolic link"
  run_helper "$PLAIN_STORE" store
  assert_rc 1
  assert_contains "$ERR" "refusing to read $CREDFILE: it is a symbolic link"
  run_helper "$PLAIN_GET" erase
  assert_rc 1
  cmp -s "$victim" "$TEST_TMP/creds-victim.orig" || { echo "  the link's target changed" >&2; return 1; }
  [ -L "$CREDFILE" ] || { echo "  the link was replaced (nothing may be lost)" >&2; return 1; }
}
t_case "credentials.json is a symbolic link: refused (exit 1, one line), target untouched" case_creds_symlink

case_creds_open() {
  creds_home creds-open
  chmod 666 "$CREDFILE"
  run_helper "$PLAIN_GET" get
  assert_rc 0
  assert_eq "alices-git-password" "$(kv_get "$OUT" password)" "the user's credential is kept"
  assert_eq "carto-auth: warning: $CREDFILE was readable by other users; made it private (0600)" "$ERR"
  assert_file_mode "$CREDFILE" 600
  run_helper "$PLAIN_GET" get
  assert_empty "$ERR" "warned once"
}
t_case "credentials.json open to others (0666): made 0600 before use, with a warning" case_creds_open

case_creds_foreign() {
  creds_home creds-foreign
  local before
  planted_creds >"$CREDFILE"
  chown 65534:65534 "$CREDFILE"
  before=$(md5sum <"$CREDFILE")
  run_helper "$PLAIN_GET" get
  assert_rc 1
  assert_empty "$OUT" "a planted credential was handed out"
  assert_eq "carto-auth: get: refusing to read $CREDFILE: owned by another user" "$ERR"
  run_helper "$PLAIN_STORE" store
  assert_rc 1
  assert_eq "carto-auth: store: refusing to read $CREDFILE: owned by another user" "$ERR"
  assert_eq "$before" "$(md5sum <"$CREDFILE")" "the file is untouched"
  assert_eq "65534" "$(stat -c %u "$CREDFILE")"
}
# Giving a file to another user needs root.
if [ "$(id -u)" = 0 ]; then
  t_case "credentials.json owned by another user: refused (exit 1, one line), untouched" case_creds_foreign
else
  t_skip "credentials.json owned by another user: refused (exit 1, one line), untouched" "needs root"
fi

case_creds_store_folder() {
  # The folder holding credentials.json has the token files' rules too.
  creds_home creds-dir
  chmod 777 "$CARTO_AUTH_HOME"
  run_helper "$PLAIN_GET" get
  assert_rc 0
  assert_eq "alices-git-password" "$(kv_get "$OUT" password)"
  assert_contains "$ERR" "warning: $CARTO_AUTH_HOME was open to other users (mode 0777); made it private (0700)"
  assert_file_mode "$CARTO_AUTH_HOME" 700
}
t_case "the store folder open to others on a plain get: made 0700, with a warning" case_creds_store_folder

t_done
