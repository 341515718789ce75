#!/bin/bash
# No secret crosses the session bus in clear: an eavesdropper on the bus
# (dbus-monitor, which any process of the same user may become) watches
# carto-auth store and read a CARTO token and a git credential in a real
# gnome-keyring (tests/keyring_session.sh), and must see only encrypted
# Secret Service sessions (dh-ietf1024-sha256-aes128-cbc-pkcs7), never the
# secrets' bytes, as text or as hex.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${CARTO_KEYRING_SESSION:-}" ]; then
  exec "$HERE/../keyring_session.sh" bash "$0" "$@"
fi
KEYRING_BUS=$DBUS_SESSION_BUS_ADDRESS
. "$HERE/../lib.sh"
export DBUS_SESSION_BUS_ADDRESS=$KEYRING_BUS   # lib.sh unsets it

command -v dbus-monitor >/dev/null || t_skip_all "dbus-monitor is missing (dbus)"

DH_ALGORITHM=dh-ietf1024-sha256-aes128-cbc-pkcs7
standin_start
CREDS=$TEST_TMP/creds.json
make_creds_file "$CREDS" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
REQ=$'credentials_file='"$CREDS"$'\n\n'
GIT_PASSWORD=git-pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

# -- the eavesdropper --------------------------------------------------------

MONITOR_LOG=$TEST_TMP/monitor.log
dbus-monitor --session >"$MONITOR_LOG" 2>"$TEST_TMP/monitor.err" &
MONITOR_PID=$!
on_exit "kill $MONITOR_PID 2>/dev/null || true"
# It is listening once the bus took its name away (BecomeMonitor).
monitor_ready() { grep -q 'member=NameLost' "$MONITOR_LOG"; }
wait_until 10 monitor_ready || { cat "$TEST_TMP/monitor.err" >&2; t_skip_all "dbus-monitor could not become a monitor"; }

# monitor_digest: what the monitor saw, summed up by a parser of
# dbus-monitor's output: one line per Secret Service call of interest
# ("call OpenSession ALGORITHM", "call GetSecrets", "call CreateItem", ...)
# and, after a line "--- bytes ---", every byte array it printed, decoded
# (dbus-monitor prints printable ones as text, the others as hex), one per
# line with non-printable bytes as \xNN.
monitor_digest() {
  "$PYTHON" - "$MONITOR_LOG" "$(monitor_start_of_case)" <<'EOF'
import re, sys
with open(sys.argv[1], "rb") as f:
    f.seek(int(sys.argv[2]))
    lines = f.read().decode("utf-8", "replace").split("\n")
calls, arrays = [], []
i = 0
while i < len(lines):
    line = lines[i]
    m = re.search(r"interface=org\.freedesktop\.Secret\.\w+; member=(\w+)$", line)
    if line.startswith("method call") and m:
        name = m.group(1)
        if name == "OpenSession":
            arg = re.match(r'\s*string "(.*)"$', lines[i + 1]) if i + 1 < len(lines) else None
            name += " " + (arg.group(1) if arg else "?")
        calls.append("call " + name)
    m = re.search(r'array of bytes "(.*)"( \+ \\0)?$', line)
    if m:
        arrays.append(m.group(1).encode())
    elif re.search(r"array of bytes \[$", line):
        data = bytearray()
        i += 1
        while i < len(lines) and lines[i].strip() != "]":
            data += bytes(int(x, 16) for x in lines[i].split())
            i += 1
        arrays.append(bytes(data))
    i += 1
print("\n".join(calls))
print("--- bytes ---")
for a in arrays:
    print("".join(chr(b) if 32 <= b < 127 and b != 92 else "\\x%02x" % b for b in a))
EOF
}

# Each case looks only at what the monitor saw during the case.
monitor_mark() { stat -c %s "$MONITOR_LOG" >"$TEST_TMP/monitor.mark"; }
monitor_start_of_case() { cat "$TEST_TMP/monitor.mark"; }
monitor_case_log() { tail -c +$(($(monitor_start_of_case) + 1)) "$MONITOR_LOG"; }
monitor_saw_get_secrets() { monitor_case_log | grep -q "member=GetSecrets"; }

# assert_never_in_clear SECRET WHAT: the monitor saw Secret Service traffic
# with a GetSecrets call (or the check would prove nothing), only encrypted
# sessions, and SECRET nowhere: not in its raw output, not in any byte array.
assert_never_in_clear() {
  local secret=$1 what=$2 digest calls
  # The monitor writes what the bus sent it a moment later: wait for the
  # secret's read to show (the assertion below fails if it never does),
  # then a little longer for what followed it.
  wait_until 10 monitor_saw_get_secrets || true
  sleep 0.2
  digest=$(monitor_digest)
  calls=$(printf '%s\n' "$digest" | sed '/^--- bytes ---$/,$d')
  assert_contains "$calls" "call GetSecrets" "the monitor saw a secret being read"
  assert_eq 0 "$(monitor_case_log | grep -cF -- "$secret" || true)" "$what in the monitor's output"
  assert_eq 0 "$(printf '%s\n' "$digest" | grep -cF -- "$secret" || true)" \
    "$what in a byte array on the bus"
  assert_contains "$calls" "call OpenSession $DH_ALGORITHM" "an encrypted session was opened"
  assert_eq "" "$(printf '%s\n' "$calls" | grep '^call OpenSession' |
    grep -v "^call OpenSession $DH_ALGORITHM\$" || true)" "every session is $DH_ALGORITHM"
}

# -- the cases: a real gnome-keyring --------------------------------------------

case_token_fast_path() {
  monitor_mark
  CARTO_AUTH_STORE=keyring run_helper "$REQ" get
  assert_rc 0
  local token
  token=$(kv_get "$OUT" password)
  assert_match "$token" '^eyJ' "a token is handed out (and stored)"
  # The second get reads it back through the fast path.
  CARTO_AUTH_STORE=keyring run_helper "$REQ" --debug get
  assert_rc 0
  assert_eq "$token" "$(kv_get "$OUT" password)" "the stored token is read back"
  assert_contains "$ERR" "keyring: fast path: m2m token found" "read by the fast path"
  assert_eq 1 "$(standin_requests /oauth/token)" "read, not minted again"
  assert_never_in_clear "$token" "the token"
  # The client secret never goes to the keyring at all.
  assert_eq 0 "$(monitor_case_log | grep -cF -- "$STANDIN_SECRET_1" || true)" \
    "the client secret on the bus"
}
t_case "a token stored and read back (fast path) never crosses the bus in clear" case_token_fast_path

case_git_credential() {
  monitor_mark
  CARTO_AUTH_STORE=keyring run_helper $'protocol=https\nhost=git.example.com\nusername=alice\npassword='"$GIT_PASSWORD"$'\n\n' store
  assert_rc 0
  CARTO_AUTH_STORE=keyring run_helper $'protocol=https\nhost=git.example.com\n\n' --debug get
  assert_rc 0
  assert_eq $'username=alice\npassword='"$GIT_PASSWORD" "$OUT" "the credential is read back"
  assert_contains "$ERR" "keyring: fast path: credential found" "read by the fast path"
  assert_never_in_clear "$GIT_PASSWORD" "the git password"
}
t_case "a git credential stored and read back (fast path) never crosses the bus in clear" case_git_credential

case_git_authtype_credential() {
  local bearer=bearer-$GIT_PASSWORD
  monitor_mark
  CARTO_AUTH_STORE=keyring run_helper $'capability[]=authtype\nprotocol=https\nhost=bearer.example.com\nauthtype=Bearer\ncredential='"$bearer"$'\n\n' store
  assert_rc 0
  CARTO_AUTH_STORE=keyring run_helper $'capability[]=authtype\nprotocol=https\nhost=bearer.example.com\n\n' --debug get
  assert_rc 0
  assert_eq $'capability[]=authtype\nauthtype=Bearer\ncredential='"$bearer" "$OUT" "read back"
  assert_contains "$ERR" "keyring: fast path: credential found" "read by the fast path"
  assert_never_in_clear "$bearer" "the authtype credential"
  CARTO_AUTH_STORE=keyring run_helper $'protocol=https\nhost=bearer.example.com\n\n' get
  assert_rc 0
  assert_empty "$OUT" "not without capability[]=authtype"
}
t_case "an authtype credential (git 2.46+) never crosses the bus in clear" case_git_authtype_credential

# -- the cases: a Secret Service that answers wrong ---------------------------------
#
# tests/standin/secret_service_standin.py owns org.freedesktop.secrets on a
# bus of its own (dbus-run-session) and, depending on its mode, cannot
# encrypt or sends an answer that must not be trusted. Each must end the
# get with exit 1 and one clear line: never "not found" (which would mint
# and store a new token), never a fallback to a session in clear.

KEYRING_PY=
for py in /usr/bin/python3 "$PYTHON" python3; do
  if command -v "$py" >/dev/null &&
      "$py" -c 'import dbus, dbus.mainloop.glib; from gi.repository import GLib' 2>/dev/null; then
    KEYRING_PY=$py
    break
  fi
done
export KEYRING_PY
FAKE_TOKEN=eyJ-standin-service-token-$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n')
# With the client secret's salted fingerprint, as the helper stores it:
# HMAC-SHA256(salt, SHA-256(secret)).
"$PYTHON" -c 'import hashlib, hmac, json, os, sys, time
salt = os.urandom(16)
print(json.dumps({"access_token": sys.argv[1], "expiration": time.time() + 3600,
                  "api_base_url": sys.argv[2], "secret_salt": salt.hex(),
                  "secret_hmac": hmac.new(salt, hashlib.sha256(sys.argv[3].encode()).digest(), hashlib.sha256).hexdigest()}))' \
  "$FAKE_TOKEN" "$STANDIN_URL" "$STANDIN_SECRET_1" >"$TEST_TMP/fake_secret.json"
cat >"$TEST_TMP/with_service.sh" <<'EOF'
# with_service.sh MODE CMD...: CMD once the stand-in service owns its name.
mode=$1
shift
ready=$TEST_TMP/service-ready.$mode
rm -f "$ready"
"$KEYRING_PY" "$TESTS_DIR/standin/secret_service_standin.py" "$mode" \
  "$TEST_TMP/fake_secret.json" "$ready" 2>>"$TEST_TMP/service.err" &
for _ in $(seq 200); do
  [ -e "$ready" ] && exec "$@"
  sleep 0.05
done
echo "with_service.sh: the stand-in Secret Service did not start" >&2
exit 99
EOF

# service_case NAME FUNCTION: t_case, or a skip without python3-dbus.
service_case() {
  if [ -n "$KEYRING_PY" ]; then
    t_case "$@"
  else
    t_skip "$1" "python3-dbus or python3-gi is missing"
  fi
}

# run_with_service MODE STDIN ARGS...: the helper on the stand-in's bus.
run_with_service() {
  local mode=$1 input=$2
  shift 2
  CARTO_AUTH_STORE=keyring _t_capture "$input" \
    dbus-run-session -- bash "$TEST_TMP/with_service.sh" "$mode" "$CARTO_AUTH" "$@"
  # The bus daemon's own complaints are not the helper's output.
  ERR=$(printf '%s\n' "$ERR" | grep -v '^dbus-daemon\[' || true)
}

case_service_good() {
  local before
  before=$(standin_requests /oauth/token)
  run_with_service good "$REQ" --debug get
  assert_rc 0
  assert_eq "$FAKE_TOKEN" "$(kv_get "$OUT" password)" "the stand-in service's token"
  assert_contains "$ERR" "keyring: fast path: m2m token found" "read by the fast path"
  assert_eq "$before" "$(standin_requests /oauth/token)" "no token request"
}
service_case "a second implementation of the encrypted session agrees (the stand-in service)" case_service_good

# expect_refused MODE MESSAGE: a get against the stand-in in MODE fails
# with exit 1 and MESSAGE, prints nothing, and asks for no new token.
expect_refused() {
  local mode=$1 message=$2 before
  before=$(standin_requests /oauth/token)
  run_with_service "$mode" "$REQ" get
  assert_rc 1
  assert_empty "$OUT" "nothing on stdout ($mode)"
  assert_contains "$ERR" "$message" "the reason ($mode)"
  assert_eq 1 "$(printf '%s\n' "$ERR" | wc -l)" "one line ($mode)"
  assert_not_contains "$ERR" "$FAKE_TOKEN" "the token in the message"
  assert_eq "$before" "$(standin_requests /oauth/token)" "not taken for 'not found' ($mode)"
}

case_service_cannot_encrypt() {
  expect_refused plain-only "cannot encrypt secrets"
  # libsecret's own path (every write, every git credential) would fall
  # back to a plain session: refused there too.
  run_with_service plain-only $'protocol=https\nhost=git.example.com\nusername=alice\npassword='"$GIT_PASSWORD"$'\n\n' store
  assert_rc 1
  assert_contains "$ERR" "cannot encrypt secrets" "libsecret's path refuses too"
  assert_eq 1 "$(printf '%s\n' "$ERR" | wc -l)" "one line"
}
service_case "a Secret Service that cannot encrypt: refused, no fallback to plain" case_service_cannot_encrypt

case_service_bad_answers() {
  expect_refused wrong-type "value of type s, not a public key"
  expect_refused peer-one "invalid Diffie-Hellman public value"
  expect_refused peer-long "Diffie-Hellman public value of 129 bytes"
  expect_refused iv-short "15-byte IV"
  expect_refused ct-ragged "not a whole number of AES blocks"
  expect_refused bad-pad "bad padding"
}
service_case "a Secret Service whose answers do not hold: exit 1, never 'not found'" case_service_bad_answers

t_done
