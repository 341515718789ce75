#!/bin/bash
# A one-minute tour of carto-auth against the bundled CARTO stand-in server:
# an M2M token through the protocol, the same token from the cache, git
# asking for it, and an OAuth login in a (scripted) browser.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

BIN=$PWD/build/carto-auth
WORK=$(mktemp -d)
STANDIN_PID=
cleanup() {
  [ -z "$STANDIN_PID" ] || kill "$STANDIN_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; }
# Tokens are long: show their first characters only.
redact() { sed -E 's/(password|access_token|credential|carto_dw_token)=(.{12}).*/\1=\2…/'; }

python3 tests/standin/carto_standin.py --port-file "$WORK/port" --log "$WORK/requests.jsonl" \
  >"$WORK/standin.log" 2>&1 &
STANDIN_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
URL=http://127.0.0.1:$(cat "$WORK/port")
requests() { wc -l <"$WORK/requests.jsonl" | tr -d ' '; }

export HOME=$WORK/home CARTO_AUTH_HOME=$WORK/home/.carto-auth CARTO_AUTH_STORE=file
export CARTO_AUTH_URL=$URL CARTO_ACCOUNTS_URL=$URL/accounts
mkdir -p "$HOME"
unset DBUS_SESSION_BUS_ADDRESS
echo "The local CARTO stand-in listens on $URL (it plays auth.carto.com and the API)."

step "1. M2M: a credentials file, as the CARTO dashboard offers it"
cat >"$WORK/carto_credentials.json" <<JSON
{
  "api_base_url": "$URL",
  "client_id": "demo-client-id-0001",
  "client_secret": "demo-secret-0001-$(printf 'x%.0s' $(seq 48))"
}
JSON
chmod 600 "$WORK/carto_credentials.json"
show "printf 'credentials_file=carto_credentials.json\n\n' | carto-auth get"
printf 'credentials_file=%s\n\n' "$WORK/carto_credentials.json" | "$BIN" get | redact
echo "(requests to the server so far: $(requests))"

step "2. Again: answered from the cache, no request"
start=$(date +%s%N)
printf 'credentials_file=%s\n\n' "$WORK/carto_credentials.json" | "$BIN" get >/dev/null
echo "answered in $(( ($(date +%s%N) - start) / 1000000 )) ms; requests to the server: $(requests)"
ls -l "$CARTO_AUTH_HOME" | sed 1d

step "3. git asks for it: credential.helper = \"carto --m2m FILE\""
show "git credential fill   (protocol=https host=gcp-us-east1.api.carto.com)"
printf 'protocol=https\nhost=gcp-us-east1.api.carto.com\n\n' |
  git -c credential.helper= -c "credential.helper=$BIN --m2m $WORK/carto_credentials.json" credential fill | redact

step "4. For shells and curl"
show 'carto-auth token --m2m carto_credentials.json --format header'
"$BIN" token --m2m "$WORK/carto_credentials.json" --format header | redact | sed -E 's/(Bearer .{12}).*/\1…/'

step "5. OAuth: a login in the browser (a scripted browser here), with PKCE"
export BROWSER=$PWD/tests/standin/browser.sh STANDIN_BROWSER_LOG=$WORK/browser.log
export CARTO_AUTH_REDIRECT_URI=http://localhost:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')/callback/
show "carto-auth login"
"$BIN" login
show "carto-auth status"
"$BIN" status

step "6. The token is renewed with the refresh token, no browser"
show "printf 'mode=oauth\nmin_ttl=999999\n\n' | carto-auth get"
printf 'mode=oauth\nmin_ttl=999999\ninteractive=false\n\n' | "$BIN" get | redact
echo
echo "Done. Every request the stand-in received is in its log ($(requests) requests)."
