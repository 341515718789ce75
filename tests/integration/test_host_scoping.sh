#!/bin/bash
# A CARTO token goes only to a CARTO host (SPEC, Protocol). The attack: a
# careless global `credential.helper "carto --m2m FILE"` makes git ask the
# helper for every host; the CARTO token must never be the answer for
# github.com or any other host that is not CARTO's, and git's approve or
# reject for such a host must not touch the stored CARTO token.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

command -v git >/dev/null || t_skip_all "git is missing"
case $CARTO_AUTH in /*) ;; *) CARTO_AUTH=$PWD/$CARTO_AUTH ;; esac
LINK_DIR=$TEST_TMP/bin
mkdir -p "$LINK_DIR"
ln -s "$CARTO_AUTH" "$LINK_DIR/git-credential-carto"
export PATH=$LINK_DIR:$PATH

standin_start
CREDS=$TEST_TMP/creds.json
make_creds_file "$CREDS" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
API_HOST=127.0.0.1

# When no helper answers, git asks this program: its answer marks a miss.
cat >"$TEST_TMP/askpass" <<'EOS'
#!/bin/sh
echo "askpass-$(echo "$1" | cut -d' ' -f1 | tr A-Z a-z | tr -cd a-z)"
EOS
chmod +x "$TEST_TMP/askpass"
export GIT_ASKPASS=$TEST_TMP/askpass
cd "$TEST_TMP"

# A stored CARTO token, as a first legitimate use leaves it.
run_helper $'\n' --m2m "$CREDS" get
[ "$RC" = 0 ] || { echo "setup: the first token failed: $ERR" >&2; exit 1; }
TOKEN=$(kv_get "$OUT" password)

token_files() { find "$CARTO_AUTH_HOME" -name 'token*.json' -type f -exec sha256sum {} + | sort; }

# fill HOST: git credential fill for https://HOST with the global helper.
fill() {
  _t_capture "protocol=https"$'\n'"host=$1"$'\n' git -c credential.helper= \
    -c "credential.helper=carto --m2m $CREDS" credential fill
}

case_git_fill_other_host() {
  local before
  before=$(standin_requests /oauth/token)
  fill github.com
  assert_rc 0
  assert_not_contains "$OUT" "$TOKEN" "the CARTO token went to github.com"
  assert_eq $'protocol=https\nhost=github.com\nusername=askpass-username\npassword=askpass-password' \
    "$OUT" "git found nothing and asked the user"
  assert_not_contains "$ERR" "carto-auth:" "the helper complained"
  assert_eq "$before" "$(standin_requests /oauth/token)" "a token was requested for github.com"
}

case_direct_get_other_hosts() {
  local host
  for host in github.com evil.example carto.com.evil.example evilcarto.com \
    gcp-us-east1.api.carto.com.evil.example 'user@gcp-us-east1.api.carto.com' \
    '127.0.0.1.evil.example' 'localhost'; do
    run_helper "protocol=https"$'\n'"host=$host"$'\n\n' --m2m "$CREDS" get
    assert_rc 0
    assert_empty "$OUT" "an answer for host $host"
  done
  run_helper $'url=https://github.com/org/repo.git\n\n' --m2m "$CREDS" get
  assert_empty "$OUT" "an answer for url=https://github.com/..."
}

case_carto_hosts_answered() {
  local host
  for host in gcp-us-east1.api.carto.com GCP-US-EAST1.API.CARTO.COM carto.com \
    gcp-us-east1.api.carto.com:8443 "$API_HOST:$STANDIN_PORT"; do
    run_helper "protocol=https"$'\n'"host=$host"$'\n\n' --m2m "$CREDS" get
    assert_rc 0
    assert_eq "$TOKEN" "$(kv_get "$OUT" password)" "the token for host $host"
    assert_eq "$host" "$(kv_get "$OUT" host)" "the request's host is echoed"
  done
  run_helper $'\n' --m2m "$CREDS" get
  assert_eq "$TOKEN" "$(kv_get "$OUT" password)" "the token for a request without host"
  fill gcp-us-east1.api.carto.com
  assert_eq "$TOKEN" "$(kv_get "$OUT" password)" "git's fill for a CARTO host"
}

case_carto_auth_hosts() {
  local host
  for host in api.corp.example a.b.corp.example other.example; do
    CARTO_AUTH_HOSTS=' *.corp.example , other.example' \
      run_helper "protocol=https"$'\n'"host=$host"$'\n\n' --m2m "$CREDS" get
    assert_eq "$TOKEN" "$(kv_get "$OUT" password)" "CARTO_AUTH_HOSTS lists $host"
  done
  for host in corp.example xcorp.example sub.other.example other.example.evil; do
    CARTO_AUTH_HOSTS='*.corp.example,other.example' \
      run_helper "protocol=https"$'\n'"host=$host"$'\n\n' --m2m "$CREDS" get
    assert_empty "$OUT" "CARTO_AUTH_HOSTS does not list $host"
  done
}

case_debug_says_why() {
  run_helper $'protocol=https\nhost=github.com\n\n' --debug --m2m "$CREDS" get
  assert_empty "$OUT"
  assert_contains "$ERR" "no CARTO token for host github.com" "--debug names the host"
  assert_contains "$ERR" "not a CARTO host" "--debug says why"
  assert_not_contains "$ERR" "$TOKEN" "the token in the trace"
  assert_not_contains "$ERR" "$STANDIN_SECRET_1" "the secret in the trace"
}

case_reject_other_host_keeps_token() {
  local before
  before=$(token_files)
  _t_capture $'protocol=https\nhost=github.com\nusername=x\npassword='"$TOKEN"$'\n' \
    git -c credential.helper= -c "credential.helper=carto --m2m $CREDS" credential reject
  assert_rc 0
  assert_eq "$before" "$(token_files)" "git's reject for github.com changed the CARTO token"
  run_helper $'\n' --m2m "$CREDS" get
  assert_eq "$TOKEN" "$(kv_get "$OUT" password)" "the CARTO token is still there"
}

case_approve_other_host_is_plain() {
  local before
  before=$(token_files)
  _t_capture $'protocol=https\nhost=github.com\nusername=octo\npassword=gh-pass-1\n' \
    git -c credential.helper= -c "credential.helper=carto --m2m $CREDS" credential approve
  assert_rc 0
  assert_eq "$before" "$(token_files)" "git's approve for github.com touched the CARTO token"
  fill github.com
  assert_eq $'protocol=https\nhost=github.com\nusername=octo\npassword=gh-pass-1' "$OUT" \
    "github.com's own credential comes back"
}

# url= as git reads it: the query ends the host; user and password are
# percent-decoded.
case_url_as_git_reads_it() {
  run_helper $'url=https://gcp-us-east1.api.carto.com?x=1\n\n' --m2m "$CREDS" get
  assert_rc 0
  assert_eq "$TOKEN" "$(kv_get "$OUT" password)" "the token for a CARTO url with a query"
  assert_eq "gcp-us-east1.api.carto.com" "$(kv_get "$OUT" host)" "the host without the query"
  run_helper $'url=https://us%40er:p%3Ax@plain.example?x=1\n\n' --m2m "$CREDS" store
  assert_rc 0
  run_helper $'protocol=https\nhost=plain.example\n\n' --m2m "$CREDS" get
  assert_rc 0
  assert_eq "us@er" "$(kv_get "$OUT" username)" "the decoded user"
  assert_eq "p:x" "$(kv_get "$OUT" password)" "the decoded password"
  run_helper $'url=https://u:a%0Ab@github.com\n\n' --m2m "$CREDS" get
  assert_rc 2
  assert_empty "$OUT"
  assert_contains "$ERR" "line break in its password"
  assert_not_contains "$ERR" "a%0Ab" "the password in the message"
  run_helper $'url=https://us%40er@plain.example\n\n' --m2m "$CREDS" erase
  assert_rc 0
  run_helper $'protocol=https\nhost=plain.example\n\n' --m2m "$CREDS" get
  assert_empty "$OUT" "erased by the decoded user"
}

# git asks with protocol=http for an http:// remote (a hostile https remote
# may redirect there) and then sends the password in clear: a CARTO token
# goes only over https, or over http to a loopback host.
case_clear_text_protocols() {
  local proto before
  before=$(standin_requests /oauth/token)
  for proto in http smtp ftp HTTP git; do
    run_helper "protocol=$proto"$'\nhost=gcp-us-east1.api.carto.com\n\n' --m2m "$CREDS" get
    assert_rc 0
    assert_empty "$OUT" "an answer for protocol=$proto"
  done
  _t_capture $'protocol=http\nhost=gcp-us-east1.api.carto.com\n' git -c credential.helper= \
    -c "credential.helper=carto --m2m $CREDS" credential fill
  assert_rc 0
  assert_not_contains "$OUT" "$TOKEN" "git's fill for http:// got the CARTO token"
  assert_contains "$OUT" "password=askpass-password" "git found nothing and asked the user"
  run_helper $'protocol=http\nhost=gcp-us-east1.api.carto.com\n\n' --debug --m2m "$CREDS" get
  assert_contains "$ERR" "not over https" "--debug says why"
  # http to the loopback API host (a local server) is answered.
  run_helper "protocol=http"$'\n'"host=$API_HOST:$STANDIN_PORT"$'\n\n' --m2m "$CREDS" get
  assert_eq "$TOKEN" "$(kv_get "$OUT" password)" "http to the loopback API host"
  assert_eq "$before" "$(standin_requests /oauth/token)" "no token was requested"
}

# Any local user may listen on another port of the API host (on loopback,
# on a shared machine): the port is part of the host it names.
case_other_port_of_api_host() {
  local host
  for host in "$API_HOST" "$API_HOST:$((STANDIN_PORT == 65535 ? 1 : STANDIN_PORT + 1))" "localhost:$STANDIN_PORT"; do
    run_helper "protocol=http"$'\n'"host=$host"$'\n\n' --m2m "$CREDS" get
    assert_rc 0
    assert_empty "$OUT" "an answer for host $host (the API is at $API_HOST:$STANDIN_PORT)"
  done
  run_helper "protocol=https"$'\n'"host=$API_HOST:$STANDIN_PORT"$'\n\n' --m2m "$CREDS" get
  assert_eq "$TOKEN" "$(kv_get "$OUT" password)" "https to the API host and port"
}

t_case "a global --m2m helper gives github.com nothing" case_git_fill_other_host
t_case "no token for hosts that only look like CARTO's" case_direct_get_other_hosts
t_case "CARTO hosts, the API host and no host are answered" case_carto_hosts_answered
t_case "CARTO_AUTH_HOSTS adds hosts, *. matches below" case_carto_auth_hosts
t_case "no CARTO token for http://, smtp or ftp (git would send it in clear)" case_clear_text_protocols
t_case "no CARTO token for another port of the API host" case_other_port_of_api_host
t_case "--debug says why a request got no token" case_debug_says_why
t_case "git reject for another host keeps the CARTO token" case_reject_other_host_keeps_token
t_case "git approve for another host stores a plain credential" case_approve_other_host_is_plain
t_case "url= as git reads it: query dropped, user and password decoded" case_url_as_git_reads_it
t_done
