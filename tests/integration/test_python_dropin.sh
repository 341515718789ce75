#!/bin/bash
# The Python drop-in as a user installs it: one `pip install` of its wheel
# into a fresh virtual environment, offline; then the seed documentation's
# code and the reference package's API (constructor with a token, an m2m
# object from a token alone, the cache file it writes, Data Warehouse
# credentials with the object's own token, ValueError / ConnectionError /
# CredentialsError, __version__, module names) against the stand-in.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

SRC=${CARTO_AUTH_SOURCE_DIR:-$(cd "$TESTS_DIR/.." && pwd)}
BUILD=${CARTO_AUTH_BUILD_DIR:-}
export PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INDEX=1
unset PYTHONPATH CARTO_AUTH_BIN

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 8))'; then
  t_skip_all "python 3.8 or later is needed"
fi
if [ -z "$BUILD" ]; then
  echo "CARTO_AUTH_BUILD_DIR is not set" >&2
  exit 1
fi
WHEEL=$(ls "$BUILD"/python/carto_auth-*-py3-none-any.whl 2>/dev/null | head -n 1 || true)

standin_start
NB=$TEST_TMP/notebook
mkdir -p "$NB"
make_creds_file "$NB/carto-credentials.json" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
token_requests() { standin_requests /oauth/token; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

VENV=$TEST_TMP/venv
VPY=$VENV/bin/python

# vpy CODE: run CODE with the virtual environment's python in $NB; OUT, ERR, RC.
vpy() {
  printf '%s\n' "$1" >"$TEST_TMP/snippet.py"
  _t_capture "" /bin/bash -c 'cd "$1" && exec "$2" "$3"' _ "$NB" "$VPY" "$TEST_TMP/snippet.py"
}

# A valid stand-in token and its expiry, from the helper itself.
fresh_token() {
  run_helper $'credentials_file='"$NB/carto-credentials.json"$'\nuse_cache=false\ncache_file='"$TEST_TMP/side.json"$'\n\n' get
  [ "$RC" = 0 ] || { echo "helper get failed: $ERR" >&2; return 1; }
  TOKEN=$(kv_get "$OUT" access_token)
  EXPIRATION=$(kv_get "$OUT" expiration)
}

# --- one pip command --------------------------------------------------------------

case_pip_install() {
  assert_file_exists "$WHEEL" "the build made the wheel"
  "$PYTHON" -m venv "$VENV" >"$TEST_TMP/venv.log" 2>&1 ||
    { cat "$TEST_TMP/venv.log" >&2; echo "python3 -m venv failed (apt-get install python3-venv)" >&2; return 1; }
  _t_capture "" "$VENV/bin/pip" install -q "$WHEEL"
  assert_rc 0
  assert_empty "$ERR" "pip installs it offline, without a word"
  _t_capture "" /bin/bash -c 'cd / && exec "$1" -c "
import carto_auth, importlib.metadata as m
print(\"file=\" + carto_auth.__file__)
print(\"dist=\" + m.version(\"carto-auth\"))
print(\"requires=\" + str(m.requires(\"carto-auth\")))"' _ "$VPY"
  assert_rc 0
  assert_match "$(kv_get "$OUT" file)" "^$VENV/lib/python[0-9.]*/site-packages/carto_auth/__init__.py\$" \
    "imported from the virtual environment"
  assert_match "$(kv_get "$OUT" dist)" '^0\.2\.[0-9]'
  assert_not_contains "$(kv_get "$OUT" requires)" "requests" "no run-time dependency"
}
t_case "python3 -m venv v && v/bin/pip install <wheel> works offline" case_pip_install

case_pydeck_carto_requirement() {
  # A package that depends on carto-auth>=0.2.0 as pydeck-carto does
  # installs with --no-index: pip takes the drop-in as its carto-auth.
  "$PYTHON" - "$TEST_TMP/dep" <<'EOF'
import os, sys, zipfile
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
info = "needs_carto_auth-1.0.dist-info"
files = {
    "needs_carto_auth.py": "import carto_auth\n",
    info + "/METADATA": "Metadata-Version: 2.1\nName: needs-carto-auth\nVersion: 1.0\n"
                        "Requires-Dist: carto-auth>=0.2.0\n",
    info + "/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = "".join(f"{name},,\n" for name in files) + info + "/RECORD,,\n"
with zipfile.ZipFile(os.path.join(out, "needs_carto_auth-1.0-py3-none-any.whl"), "w") as z:
    for name, text in files.items():
        z.writestr(name, text)
    z.writestr(info + "/RECORD", record)
EOF
  _t_capture "" "$VENV/bin/pip" install -q "$TEST_TMP/dep/needs_carto_auth-1.0-py3-none-any.whl"
  assert_rc 0
  _t_capture "" "$VENV/bin/pip" check
  assert_rc 0
  assert_contains "$OUT" "No broken requirements"
}
t_case "a dependency on carto-auth>=0.2.0 (pydeck-carto's) is satisfied" case_pydeck_carto_requirement

# --- the seed documentation's code, unchanged, in the virtual environment -----------

SEED_OAUTH='from carto_auth import CartoAuth

carto_auth = CartoAuth.from_oauth()'
SEED_M2M='from carto_auth import CartoAuth

carto_auth = CartoAuth.from_m2m("./carto-credentials.json")'
CHECK='
print("token=" + carto_auth.get_access_token())
print("api_base_url=" + carto_auth.get_api_base_url())'

case_seed_snippets() {
  PATH=$(dirname "$CARTO_AUTH"):$PATH vpy "$SEED_M2M$CHECK"
  assert_rc 0
  assert_match "$(kv_get "$OUT" token)" '^eyJ'
  assert_eq "$STANDIN_URL" "$(kv_get "$OUT" api_base_url)"
  assert_empty "$ERR"
  PATH=$(dirname "$CARTO_AUTH"):$PATH vpy "$SEED_OAUTH$CHECK"
  assert_rc 0
  assert_match "$(kv_get "$OUT" token)" '^eyJ'
  assert_eq "$STANDIN_URL" "$(kv_get "$OUT" api_base_url)" "discovered after the login"
  # the scripted browser logs its end after the helper has its answer
  wait_until 10 grep -q '^DONE' "$STANDIN_BROWSER_LOG"
  assert_eq 1 "$(grep -c '^DONE' "$STANDIN_BROWSER_LOG")" "one browser login"
}
t_case "seed doc: from_oauth() and from_m2m() run unchanged on the pip-installed drop-in" case_seed_snippets

case_finds_wheel_helper() {
  # No $CARTO_AUTH_BIN, no carto-auth on PATH: the wheel recorded the
  # helper it was built with.
  PATH=/usr/bin:/bin vpy 'import carto_auth._helper as h
print("helper=" + h.find_helper())'
  assert_rc 0
  assert_eq "$CARTO_AUTH" "$(kv_get "$OUT" helper)"
}
t_case "the pip-installed drop-in finds the helper recorded in its wheel" case_finds_wheel_helper

case_install_prefix() {
  # cmake --install puts the wheel in <prefix>/share/carto-auth/python; a
  # venv's copy of it runs <prefix>/bin/carto-auth with nothing on PATH.
  local prefix=$TEST_TMP/prefix wheel venv2=$TEST_TMP/venv2
  cmake --install "$BUILD" --prefix "$prefix" >"$TEST_TMP/install.log" 2>&1 ||
    { cat "$TEST_TMP/install.log" >&2; return 1; }
  wheel=$(ls "$prefix"/share/carto-auth/python/carto_auth-*-py3-none-any.whl | head -n 1)
  assert_file_exists "$wheel"
  "$PYTHON" -m venv "$venv2" >/dev/null
  _t_capture "" "$venv2/bin/pip" install -q "$wheel"
  assert_rc 0
  printf '%s\n' "$SEED_M2M$CHECK" 'import carto_auth._helper as h
print("helper=" + h.find_helper())' >"$TEST_TMP/prefix_snippet.py"
  _t_capture "" env PATH=/usr/bin:/bin /bin/bash -c 'cd "$1" && exec "$2" "$3"' _ "$NB" \
    "$venv2/bin/python" "$TEST_TMP/prefix_snippet.py"
  assert_rc 0
  assert_eq "$prefix/bin/carto-auth" "$(kv_get "$OUT" helper)" "the helper of the install prefix"
  assert_match "$(kv_get "$OUT" token)" '^eyJ'
}
t_case "pip install <prefix>/share/carto-auth/python/carto_auth-*.whl runs <prefix>/bin/carto-auth" \
  case_install_prefix

# From here on the helper is on PATH, as for a user of the installed package.
export PATH=$(dirname "$CARTO_AUTH"):$PATH

# --- the reference's API ---------------------------------------------------------------

case_names_and_version() {
  vpy 'import carto_auth, carto_auth.auth, carto_auth.errors, carto_auth.pkce, carto_auth.utils
from importlib.metadata import version
from carto_auth import CartoAuth, CredentialsError, __version__
from carto_auth.auth import CartoAuth as A2
from carto_auth.errors import CredentialsError as E2
from carto_auth.pkce import CartoPKCE, CLIENT_ID, REDIRECT_URI, REDIRECT_URI_CLI
from carto_auth.utils import (api_headers, get_cache_filepath, load_cache_file,
    save_cache_file, is_token_expired, get_oauth_token_info, get_m2m_token_info,
    get_api_base_url, get_home_dir)
print("same=" + str(A2 is CartoAuth and E2 is CredentialsError))
print("module=" + CredentialsError.__module__)
print("version=" + __version__)
print("dist=" + version("carto-auth"))
print("all=" + ",".join(sorted(carto_auth.__all__)))
print("default=" + str(get_cache_filepath("m2m")))
print("expired=" + str([is_token_expired(x) for x in (None, 0, 1)]))
from urllib.parse import urlparse, parse_qs
q = parse_qs(urlparse(CartoPKCE(open_browser=False, org="org_1").get_authorize_url()).query)
print("authorize=" + q["redirect_uri"][0] + " " + q["organization"][0] + " " + q["code_challenge_method"][0])
class Pasted(CartoPKCE):
    def _input(self, prompt):
        return "https://app.carto.com/auth/token?code=abcde"
print("code=" + Pasted(open_browser=False).get_auth_response())'
  assert_rc 0
  assert_eq True "$(kv_get "$OUT" same)"
  assert_eq carto_auth.errors "$(kv_get "$OUT" module)" "CredentialsError lives in carto_auth.errors"
  assert_eq "$(kv_get "$OUT" dist)" "$(kv_get "$OUT" version)" "__version__ is the distribution's version"
  assert_eq "CartoAuth,CredentialsError,__version__" "$(kv_get "$OUT" all)"
  assert_eq "$HOME/.carto-auth/token_m2m.json" "$(kv_get "$OUT" default)"
  assert_eq "[True, True, True]" "$(kv_get "$OUT" expired)"
  assert_eq "https://app.carto.com/auth/token org_1 S256" "$(kv_get "$OUT" authorize)"
  assert_eq abcde "$(kv_get "$OUT" code)" "a pasted redirect URL gives its code"
}
t_case "the reference's modules and names, CredentialsError's module, __version__" case_names_and_version

case_constructor_token() {
  local before
  fresh_token
  before=$(token_requests)
  # A helper that must not run: the given token is used as it is.
  printf '#!/bin/sh\necho ran >>"%s"\nexit 1\n' "$TEST_TMP/spy.log" >"$TEST_TMP/spy.sh"
  chmod +x "$TEST_TMP/spy.sh"
  CARTO_AUTH_BIN=$TEST_TMP/spy.sh vpy 'from carto_auth import CartoAuth
a = CartoAuth("oauth", api_base_url="'"$STANDIN_URL"'",
              access_token="'"$TOKEN"'", expiration='"$EXPIRATION"',
              cache_filepath="./given.json")
print("token=" + a.get_access_token())
print("again=" + a.get_access_token())
print("url=" + a.get_api_base_url())
# As in the reference tests: a token valid for 10 more seconds (expiration
# computed as the reference does) is still handed out.
from datetime import datetime, timedelta
soon = int((datetime.utcnow() + timedelta(seconds=10)).timestamp())
b = CartoAuth("oauth", access_token="short-lived", expiration=soon)
print("short=" + b.get_access_token())'
  assert_rc 0
  assert_eq short-lived "$(kv_get "$OUT" short)" "reused until it expires, as the reference"
  assert_eq "$TOKEN" "$(kv_get "$OUT" token)" "the given token"
  assert_eq "$TOKEN" "$(kv_get "$OUT" again)"
  assert_eq "$STANDIN_URL" "$(kv_get "$OUT" url)"
  assert_no_file "$TEST_TMP/spy.log" "the helper did not run"
  assert_eq "$before" "$(token_requests)" "no token request"
}
t_case "CartoAuth(mode, api_base_url, access_token, expiration, ...) uses the given token" case_constructor_token

case_cache_file_as_reference() {
  # The reference writes json.dump({api_base_url, access_token, expiration}):
  # one line, in this key order, no newline at the end.
  local want
  fresh_token
  vpy 'from carto_auth import CartoAuth
CartoAuth("m2m", api_base_url="'"$STANDIN_URL"'", access_token="'"$TOKEN"'",
          expiration='"$EXPIRATION"', cache_filepath="./given.json")'
  assert_rc 0
  want=$("$PYTHON" -c 'import json, sys
print(json.dumps({"api_base_url": sys.argv[1], "access_token": sys.argv[2],
                  "expiration": int(sys.argv[3])}), end="")' "$STANDIN_URL" "$TOKEN" "$EXPIRATION")
  assert_file_exists "$NB/given.json"
  assert_eq "$want" "$(cat "$NB/given.json")" "the file the reference would write"
  assert_eq 0 "$(tail -c 1 "$NB/given.json" | wc -l)" "no newline at the end, as json.dump"
  assert_file_mode "$NB/given.json" 600
  # The helper takes the file as the stored token: no login, no request.
  local before
  before=$(token_requests)
  run_helper $'credentials_file='"$NB/carto-credentials.json"$'\ncache_file='"$NB/given.json"$'\n\n' get
  assert_rc 0
  assert_eq "$TOKEN" "$(kv_get "$OUT" access_token)" "carto-auth get hands out the file's token"
  assert_eq "$before" "$(token_requests)"
  # use_cache=False: nothing written, as in the reference.
  vpy 'from carto_auth import CartoAuth
CartoAuth("m2m", api_base_url="'"$STANDIN_URL"'", access_token="t", expiration=1,
          cache_filepath="./not-written.json", use_cache=False)'
  assert_rc 0
  assert_no_file "$NB/not-written.json"
}
t_case "a given token is written to cache_filepath as the reference writes it" case_cache_file_as_reference

case_m2m_token_only() {
  local before
  fresh_token
  before=$(token_requests)
  vpy 'from carto_auth import CartoAuth, CredentialsError
a = CartoAuth("m2m", api_base_url="'"$STANDIN_URL"'", access_token="'"$TOKEN"'",
              expiration='"$EXPIRATION"')
print("token=" + a.get_access_token())
project, dw_token = a.get_carto_dw_credentials()
print("project=" + project)
old = CartoAuth("m2m", api_base_url="'"$STANDIN_URL"'", access_token="x", expiration=1)
try:
    old.get_access_token()
except CredentialsError as e:
    print("expired=" + str(e))'
  assert_rc 0
  assert_eq "$TOKEN" "$(kv_get "$OUT" token)"
  assert_eq carto-dw-ac-demo1234 "$(kv_get "$OUT" project)"
  assert_contains "$(kv_get "$OUT" expired)" "client_id" "an expired token alone says what is missing"
  assert_eq "$before" "$(token_requests)" "no token request"
}
t_case "an m2m object built from a token alone works" case_m2m_token_only

case_time_zones() {
  # The reference's expiration is datetime.utcnow().timestamp() plus the
  # lifetime: off from Unix time by the local UTC offset.  The drop-in
  # holds and takes it in that frame in every zone.
  local tz before
  for tz in Asia/Tokyo Europe/Madrid America/New_York; do
    before=$(token_requests)
    TZ=$tz vpy 'from datetime import datetime, timedelta
from carto_auth import CartoAuth, CredentialsError
now = datetime.utcnow()
soon = int((now + timedelta(seconds=10)).timestamp())
past = int((now - timedelta(seconds=10)).timestamp())
print("soon=" + CartoAuth("m2m", access_token="t", expiration=soon).get_access_token())
try:
    CartoAuth("m2m", access_token="t", expiration=past).get_access_token()
    print("past=handed out")
except CredentialsError:
    print("past=expired")
a = CartoAuth.from_m2m("./carto-credentials.json", use_cache=False)
tokens = {a.get_access_token() for _ in range(3)}
print("tokens=" + str(len(tokens)))
want = int((datetime.utcnow() + timedelta(seconds=86400)).timestamp())
print("frame=" + str(abs(a._expiration - want) <= 5))'
    assert_rc 0
    assert_eq t "$(kv_get "$OUT" soon)" "$tz: a token valid 10 more seconds is handed out"
    assert_eq expired "$(kv_get "$OUT" past)" "$tz: one 10 seconds past is not"
    assert_eq 1 "$(kv_get "$OUT" tokens)" "$tz: the helper's token is held"
    assert_eq True "$(kv_get "$OUT" frame)" "$tz: _expiration is in the reference's frame"
    assert_eq $((before + 1)) "$(token_requests)" "$tz: one token request"
  done
}
t_case "expiration in the reference's frame under Tokyo, Madrid and New York time" case_time_zones

case_dw_uses_own_token() {
  # use_cache=False: every request to the helper would get a new token;
  # the Data Warehouse request goes with the token this object holds.
  standin_reset
  vpy 'from carto_auth import CartoAuth
a = CartoAuth.from_m2m("./carto-credentials.json", use_cache=False)
print("token=" + a.get_access_token())
project, dw = a.get_carto_dw_credentials()
print("project=" + project)'
  assert_rc 0
  assert_eq carto-dw-ac-demo1234 "$(kv_get "$OUT" project)"
  assert_eq 1 "$(token_requests)" "one token request: the DW call made none"
  assert_eq "Bearer $(kv_get "$OUT" token)" \
    "$(standin_request_json /v3/connections/carto-dw/token | "$PYTHON" -c 'import json, sys
print(json.load(sys.stdin)[-1]["headers"]["authorization"])')" "the DW request carried this object's token"
  # The same with a token given to the constructor (OAuth: no login).
  fresh_token
  standin_reset
  vpy 'from carto_auth import CartoAuth
a = CartoAuth("oauth", api_base_url="'"$STANDIN_URL"'", access_token="'"$TOKEN"'",
              expiration='"$EXPIRATION"')
print("project=" + a.get_carto_dw_credentials()[0])'
  assert_rc 0
  assert_eq carto-dw-ac-demo1234 "$(kv_get "$OUT" project)"
  assert_eq 0 "$(token_requests)" "no token request, no login"
  assert_eq 1 "$(grep -c '^DONE' "$STANDIN_BROWSER_LOG")" "no second browser login"
}
t_case "get_carto_dw_credentials() uses this object's token, no new login" case_dw_uses_own_token

case_dw_needs_api_base_url() {
  standin_reset
  vpy 'from carto_auth import CartoAuth, CredentialsError
a = CartoAuth("oauth", access_token="t", expiration=4102444800)
try:
    a.get_carto_dw_credentials()
except CredentialsError as e:
    print("error=" + str(e))
b = CartoAuth("oauth", api_base_url="http://example.com", access_token="t", expiration=4102444800)
try:
    b.get_carto_dw_credentials()
except CredentialsError as e:
    print("plain=" + str(e))
for url in ("http://user:pw@'"${STANDIN_URL#http://}"'",
            "http://example.com\\@'"${STANDIN_URL#http://}"'"):
    try:
        CartoAuth("oauth", api_base_url=url, access_token="t",
                  expiration=4102444800).get_carto_dw_credentials()
        print("userinfo=sent")
    except CredentialsError as e:
        print("userinfo=" + str(e))'
  assert_rc 0
  assert_eq "2 refused" "$(grep -c '^userinfo=refusing to send the token' <<<"$OUT") refused" \
    "no token to a URL with user-info or a backslash"
  assert_not_contains "$OUT" "user:pw" "the user-info is not repeated"
  assert_eq 0 "$(standin_requests /v3/connections/carto-dw/token)" "the stand-in got no request"
  assert_eq "api_base_url required" "$(kv_get "$OUT" error)"
  assert_contains "$(kv_get "$OUT" plain)" "https://" "no token over plain http to a remote host"
}
t_case "get_carto_dw_credentials(): api_base_url required; https only, no user-info" case_dw_needs_api_base_url

DW=/v3/connections/carto-dw/token

case_dw_deadline() {
  # A Data Warehouse endpoint that answers 200 one byte every 0.5 s: each
  # byte within any per-read timeout, the whole answer (a valid one, with
  # a token) only after 8 s. The call has one deadline, here 2 s
  # (CARTO_AUTH_HTTP_TIMEOUT_MS; 60 s without it): cut there, no token.
  local t0 t1
  standin_reset
  standin_fault '{"path": "'"$DW"'", "kind": "drip", "interval": 0.5, "seconds": 8, "body": {"projectId": "p-dripped", "token": "dw-token-dripped"}}'
  t0=$(now_ms)
  CARTO_AUTH_HTTP_TIMEOUT_MS=2000 vpy 'from carto_auth import CartoAuth, CredentialsError
a = CartoAuth("oauth", api_base_url="'"$STANDIN_URL"'", access_token="t", expiration=4102444800)
try:
    print("project=" + a.get_carto_dw_credentials()[0])
except ConnectionError as e:
    print("error=" + type(e).__name__ + " " + str(isinstance(e, CredentialsError)))
    print("message=" + str(e))'
  t1=$(now_ms)
  assert_rc 0
  assert_eq "NetworkError True" "$(kv_get "$OUT" error)" "a ConnectionError (and CredentialsError)"
  assert_eq "Data Warehouse token request to ${STANDIN_URL#http://} failed: no full answer within 2 s" \
    "$(kv_get "$OUT" message)"
  assert_not_contains "$OUT$ERR" "dw-token-dripped" "no token"
  [ $((t1 - t0)) -lt 5000 ] || _t_assert_failed "the call took $((t1 - t0)) ms (deadline 2 s)" ""
  assert_eq 1 "$(standin_requests "$DW")" "one request, not retried"
  # A deadline the program would not take is not taken here either: the
  # same answer waited out (it comes within the 60 s budget).
  standin_fault '{"path": "'"$DW"'", "kind": "drip", "interval": 0.2, "seconds": 0.6, "body": {"projectId": "p-dripped", "token": "dw-token-dripped"}}'
  CARTO_AUTH_HTTP_TIMEOUT_MS=junk vpy 'from carto_auth import CartoAuth
a = CartoAuth("oauth", api_base_url="'"$STANDIN_URL"'", access_token="t", expiration=4102444800)
print("project=" + a.get_carto_dw_credentials()[0])'
  assert_rc 0
  assert_eq p-dripped "$(kv_get "$OUT" project)"
}
t_case "get_carto_dw_credentials(): one deadline for the whole answer, a dripping one is cut" case_dw_deadline

case_dw_refusal_gives_no_credentials() {
  # A refusal that carries projectId and token is still a refusal.
  local status
  standin_reset
  for status in 403 500 201; do
    standin_fault '{"path": "'"$DW"'", "kind": "status", "status": '"$status"', "body": {"projectId": "p-refused", "token": "dw-token-refused", "message": "no Data Warehouse\u0007 here"}}'
    vpy 'from carto_auth import CartoAuth, CredentialsError
a = CartoAuth("oauth", api_base_url="'"$STANDIN_URL"'", access_token="t", expiration=4102444800)
try:
    print("project=" + a.get_carto_dw_credentials()[0])
except CredentialsError as e:
    print("error=" + type(e).__name__ + " " + str(isinstance(e, ConnectionError)))
    print("message=" + str(e))'
    assert_rc 0
    assert_eq "CredentialsError False" "$(kv_get "$OUT" error)" "HTTP $status raises"
    assert_contains "$(kv_get "$OUT" message)" "(HTTP $status: no Data Warehouse? here)" \
      "HTTP $status: the status and the server's words, control characters replaced"
    assert_not_contains "$OUT$ERR" "dw-token-refused" "HTTP $status: no token"
    assert_not_contains "$OUT$ERR" "p-refused" "HTTP $status: no project"
  done
}
t_case "get_carto_dw_credentials(): a non-200 answer with projectId and token raises" case_dw_refusal_gives_no_credentials

case_not_json_is_value_error() {
  printf 'api_base_url: nope\n' >"$NB/not-json.json"
  chmod 600 "$NB/not-json.json"
  vpy 'import json
from carto_auth import CartoAuth, CredentialsError
try:
    CartoAuth.from_m2m("./not-json.json")
except ValueError as e:
    print("value_error=" + str(e))
    print("credentials_error=" + str(isinstance(e, CredentialsError)))'
  assert_rc 0
  assert_contains "$(kv_get "$OUT" value_error)" "not-json.json is not a JSON object"
  assert_eq True "$(kv_get "$OUT" credentials_error)"
}
t_case "a credentials file that is not JSON raises a ValueError" case_not_json_is_value_error

case_connection_error() {
  local port
  port=$(free_port)
  # The API is down: the Data Warehouse request.
  vpy 'from carto_auth import CartoAuth, CredentialsError
a = CartoAuth("oauth", api_base_url="http://127.0.0.1:'"$port"'", access_token="t",
              expiration=4102444800)
try:
    a.get_carto_dw_credentials()
except ConnectionError as e:
    print("dw=" + str(isinstance(e, CredentialsError)) + " " + str(e))'
  assert_rc 0
  assert_match "$(kv_get "$OUT" dw)" "^True Data Warehouse token request to 127.0.0.1:$port failed"
  # The authorization server is down: the helper's token request.
  standin_stop
  vpy 'from carto_auth import CartoAuth, CredentialsError
try:
    CartoAuth.from_m2m("./carto-credentials.json", use_cache=False)
except ConnectionError as e:
    print("token=" + str(isinstance(e, CredentialsError)) + " " + str(e))'
  assert_rc 0
  assert_match "$(kv_get "$OUT" token)" "^True token request to 127.0.0.1:[0-9]+ failed"
  assert_not_contains "$OUT$ERR" "$STANDIN_SECRET_1"
}
t_case "a server that cannot be reached raises a ConnectionError" case_connection_error

case_exception_follows_type() {
  standin_start
  # A refusal whose words read like a network failure is a refusal.
  standin_fault '{"path": "/oauth/token", "kind": "status", "status": 400, "body": {"error": "unreachable", "error_description": "token request to auth.carto.com failed: no answer"}}'
  vpy 'from carto_auth import CartoAuth, CredentialsError
try:
    CartoAuth.from_m2m("./carto-credentials.json", use_cache=False)
except CredentialsError as e:
    print("refused=" + type(e).__name__ + " " + str(isinstance(e, ConnectionError)))'
  assert_rc 0
  assert_eq "CredentialsError False" "$(kv_get "$OUT" refused)"
  # The credentials file: each of the reference's errors, by its cause.
  printf '{"api_base_url": "%s", "client_id": "x"}' "$STANDIN_URL" >"$NB/partial.json"
  printf '{"api_base_url": "%s", "client_id": "", "client_secret": "s"}' "$STANDIN_URL" >"$NB/empty.json"
  chmod 600 "$NB/partial.json" "$NB/empty.json"
  vpy 'from carto_auth import CartoAuth
for path, kind in (("./partial.json", AttributeError), ("./empty.json", ValueError),
                   ("./absent.json", FileNotFoundError)):
    try:
        CartoAuth.from_m2m(path, use_cache=False)
    except kind as e:
        print(path[2:-5] + "=" + type(e).__name__)'
  assert_rc 0
  assert_eq "MissingAttributeError" "$(kv_get "$OUT" partial)"
  assert_eq "MissingValueError" "$(kv_get "$OUT" empty)"
  assert_eq "CredentialsFileNotFoundError" "$(kv_get "$OUT" absent)"
}
t_case "the exception follows the helper's typed cause, never its words" case_exception_follows_type

# --- the Data Warehouse request's address and proxy -------------------------------

# listen NAME MODE [ADDRESS]: a TCP listener (127.0.0.1 unless ADDRESS) that
# records the first line of each connection in $TEST_TMP/NAME.log and sets
# ${NAME}_PORT. MODE "proxy" answers a CONNECT with 403, "sink" closes.
cat >"$TEST_TMP/listen.py" <<'PY'
import os, socket, sys, threading
portfile, logfile, mode, address = sys.argv[1:5]
s = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((address, 0)); s.listen(16)
open(portfile + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
def serve(c):
    c.settimeout(5)
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < 65536:
            d = c.recv(4096)
            if not d:
                break
            data += d
    except OSError:
        pass
    with open(logfile, "ab") as f:
        f.write((data.split(b"\r\n", 1)[0] if data else b"(connection)") + b"\n")
        if data.startswith(b"CONNECT"):
            f.write(b"".join(b"header " + h + b"\n" for h in data.split(b"\r\n")[1:] if h))
    if mode == "proxy" and data.startswith(b"CONNECT"):
        c.sendall(b"HTTP/1.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    if mode == "badproxy" and data.startswith(b"CONNECT"):
        c.sendall(b"\x1b]0;owned\x07\x1b[2J fake: line\r\n\r\n")
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
listen() {
  local name=$1 mode=$2 address=${3:-127.0.0.1}
  : >"$TEST_TMP/$name.log"
  "$PYTHON" "$TEST_TMP/listen.py" "$TEST_TMP/$name.port" "$TEST_TMP/$name.log" "$mode" "$address" \
    >/dev/null 2>&1 &
  on_exit "kill $! 2>/dev/null || true"
  wait_until 10 test -s "$TEST_TMP/$name.port"
  printf -v "${name^^}_PORT" '%s' "$(cat "$TEST_TMP/$name.port")"
}
have_ipv6_loopback() { ip -6 addr show lo 2>/dev/null | grep -q 'inet6 ::1/128'; }

# dw URL: the installed drop-in's Data Warehouse request for URL (token
# "tok"), with no proxy variable but those given; prints "connect=ADDRESS"
# for each connection the process opens (the socket.connect audit event),
# then the exception's type and words.
dw() {
  printf '%s\n' 'import sys
sys.addaudithook(lambda event, args: event == "socket.connect" and print("connect=%r" % (args[1],)))
from carto_auth import _dw
try:
    print(_dw.get_credentials(sys.argv[1], "tok"))
except Exception as e:
    print("error=" + type(e).__name__ + " " + str(e))' >"$TEST_TMP/dw.py"
  _t_capture "" env -u https_proxy -u HTTPS_PROXY -u all_proxy -u ALL_PROXY -u no_proxy -u NO_PROXY \
    CARTO_AUTH_HTTP_TIMEOUT_MS=2000 "$@" "$VPY" "$TEST_TMP/dw.py" "$DW_URL"
}

listen proxy proxy
listen badproxy badproxy
listen target sink
if have_ipv6_loopback; then listen v6 sink ::1; fi

case_dw_ipv6_literal() {
  # An IPv6 literal is the address the token goes to, with the URL's port
  # or the scheme's: never split at its last colon into another address.
  DW_URL="https://[2001:db8::1:443]" dw
  echo "$OUT"
  assert_contains "$OUT" "connect=('2001:db8::1:443', 443, 0, 0)" "the URL's address, port 443"
  assert_not_contains "$OUT" "connect=('2001:db8::1'," "not 2001:db8::1, another host"
  DW_URL="https://[::1]" dw
  echo "$OUT"
  assert_contains "$OUT" "connect=('::1', 443, 0, 0)" "no port: ::1 port 443"
  assert_not_contains "$OUT" "Name or service not known" "::1 is an address, not a name"
  if [ -z "${V6_PORT:-}" ]; then t_skip "no IPv6 loopback (ip -6 addr show lo)"; return 0; fi
  DW_URL="http://[::1]:$V6_PORT/base" dw
  echo "$OUT"
  assert_eq "GET /base$DW HTTP/1.1" "$(cat "$TEST_TMP/v6.log")" "the listener on [::1]:$V6_PORT got the request"
}
t_case "get_carto_dw_credentials(): an IPv6 api_base_url goes to exactly that address and port" \
  case_dw_ipv6_literal

case_dw_proxy_connect_target() {
  # Through an http:// proxy the tunnel is asked for the API host and
  # port, an IPv6 literal in brackets (RFC 9110 authority-form), as the
  # program's libcurl asks; the proxy's password goes only in its header.
  local url want
  for url in "https://[2001:db8::1]" "https://[2001:db8::1]:8443" "https://api.example.com"; do
    case $url in
      *:8443) want="[2001:db8::1]:8443" ;;
      *\]) want="[2001:db8::1]:443" ;;
      *) want="api.example.com:443" ;;
    esac
    : >"$TEST_TMP/proxy.log"
    DW_URL=$url dw https_proxy="http://user:pro%78y-pw@127.0.0.1:$PROXY_PORT"
    echo "$OUT"; cat "$TEST_TMP/proxy.log"
    assert_eq "CONNECT $want HTTP/1.0" "$(head -n 1 "$TEST_TMP/proxy.log")" "$url: the CONNECT line"
    assert_contains "$(cat "$TEST_TMP/proxy.log")" "header Host: $want" "$url: its Host"
    assert_contains "$(cat "$TEST_TMP/proxy.log")" \
      "header Proxy-Authorization: Basic $(printf 'user:proxy-pw' | base64)" "$url: the proxy's credentials"
    assert_contains "$OUT" "error=NetworkError" "$url: the refused tunnel is a network failure"
    assert_contains "$OUT" "the proxy refused the tunnel: 403 Forbidden" "$url"
    assert_not_contains "$OUT$ERR" "proxy-pw" "$url: no proxy password in any message"
    assert_not_contains "$OUT$ERR" "pro%78y-pw" "$url"
  done
}
t_case "get_carto_dw_credentials() through an http:// proxy: CONNECT host:port, IPv6 in brackets" \
  case_dw_proxy_connect_target

case_dw_unusable_proxy_refused() {
  # A proxy the drop-in cannot speak to (the program's libcurl can, or
  # it is broken): refused, and the token goes nowhere, neither to the
  # proxy nor straight to the API host around it.
  local setting scheme
  DW_URL="https://127.0.0.1:$TARGET_PORT"
  for setting in "https_proxy=socks5h://user:proxy-pw@127.0.0.1:$PROXY_PORT" \
      "https_proxy=https://user:proxy-pw@127.0.0.1:$PROXY_PORT" \
      "https_proxy=http://user:proxy-pw@127.0.0.1:99999" \
      "https_proxy=http://user:proxy-pw@:$PROXY_PORT" \
      "HTTPS_PROXY=socks4://127.0.0.1:$PROXY_PORT" \
      "ALL_PROXY=socks5://user:proxy-pw@127.0.0.1:$PROXY_PORT"; do
    : >"$TEST_TMP/target.log"; : >"$TEST_TMP/proxy.log"
    dw https_proxy= "$setting"
    echo "$setting: $OUT"
    assert_contains "$OUT" "error=CredentialsError refusing to send the token: ${setting%%=*} " \
      "$setting: refused, a configuration error naming the variable"
    scheme=${setting#*=}; scheme=${scheme%%://*}
    case $scheme in
      http) assert_contains "$OUT" "names a proxy with" "$setting: what is wrong" ;;
      *) assert_contains "$OUT" "names a $scheme:// proxy" "$setting: the proxy's scheme" ;;
    esac
    assert_not_contains "$OUT" "connect=" "$setting: no connection at all"
    assert_empty "$(cat "$TEST_TMP/target.log")" "$setting: nothing reached the API host"
    assert_empty "$(cat "$TEST_TMP/proxy.log")" "$setting: nor the proxy"
    assert_not_contains "$OUT$ERR" "proxy-pw" "$setting: no proxy password in the message"
  done
  # no_proxy exempts the API host (an address range, as libcurl reads it):
  # then the proxy is not used and the request goes straight there.
  : >"$TEST_TMP/target.log"
  dw https_proxy="socks5h://127.0.0.1:$PROXY_PORT" no_proxy="example.com, 127.0.0.0/8"
  echo "$OUT"
  assert_contains "$OUT" "connect=('127.0.0.1', $TARGET_PORT)" "no_proxy: direct"
  wait_until 5 test -s "$TEST_TMP/target.log"
  assert_empty "$(cat "$TEST_TMP/proxy.log")" "no_proxy: the proxy is not asked"
}
t_case "get_carto_dw_credentials(): a proxy it cannot use is refused, never gone around" \
  case_dw_unusable_proxy_refused

case_dw_no_proxy_as_libcurl_reads_it() {
  # Entries Debian 12's libcurl (7.88) does not take as exempting the API
  # host: the proxy stays in use (here one the drop-in refuses), never
  # gone around. "*" exempts only as the whole value.
  local np url
  for np in "localhost,*" "* ,example.com"; do
    : >"$TEST_TMP/target.log"
    DW_URL="https://127.0.0.1:$TARGET_PORT" dw https_proxy="socks5h://127.0.0.1:$PROXY_PORT" no_proxy="$np"
    assert_contains "$OUT" "error=CredentialsError refusing to send the token" "no_proxy='$np': the proxy stays"
    assert_not_contains "$OUT" "connect=" "no_proxy='$np': no connection around the proxy"
  done
  DW_URL="https://127.0.0.1:$TARGET_PORT" dw https_proxy="socks5h://127.0.0.1:$PROXY_PORT" no_proxy="*"
  assert_contains "$OUT" "connect=('127.0.0.1', $TARGET_PORT)" "no_proxy='*': direct"
  for np in "[::1]" "::1/128" "::/0"; do
    DW_URL="https://[::1]:9" dw https_proxy="socks5h://127.0.0.1:$PROXY_PORT" no_proxy="$np"
    assert_contains "$OUT" "error=CredentialsError refusing to send the token" "no_proxy='$np': the proxy stays"
    assert_not_contains "$OUT" "connect=" "no_proxy='$np': no connection around the proxy"
  done
  DW_URL="https://[::1]:9" dw https_proxy="socks5h://127.0.0.1:$PROXY_PORT" no_proxy="::1"
  assert_contains "$OUT" "connect=('::1', 9" "no_proxy='::1': direct"
}
t_case "get_carto_dw_credentials(): no_proxy as libcurl 7.88 reads it, in doubt the proxy" \
  case_dw_no_proxy_as_libcurl_reads_it

case_dw_proxy_words_escaped() {
  # A proxy's malformed answer to CONNECT: its bytes reach no terminal raw.
  DW_URL="https://api.example.com" dw https_proxy="http://127.0.0.1:$BADPROXY_PORT"
  assert_contains "$OUT" "error=NetworkError Data Warehouse token request to api.example.com failed: "
  assert_not_contains "$OUT" $'\e' "a raw ESC in the message"
  assert_not_contains "$OUT" $'\a' "a raw BEL in the message"
}
t_case "get_carto_dw_credentials(): a proxy's malformed answer is shown escaped" case_dw_proxy_words_escaped

# Last, as it points the stand-in variables at a TLS stand-in: the drop-in's
# own Data Warehouse request over real TLS, the certificate checked.
case_dw_over_tls() {
  standin_start --tls
  make_creds_file "$NB/tls-credentials.json" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
  local snippet='from carto_auth import CartoAuth, CredentialsError
a = CartoAuth.from_m2m("./tls-credentials.json", use_cache=False)
try:
    print("project=" + a.get_carto_dw_credentials()[0])
except CredentialsError as e:
    print("error=" + type(e).__name__ + " " + str(e))'
  SSL_CERT_FILE=$STANDIN_CA vpy "$snippet"
  assert_rc 0
  assert_eq carto-dw-ac-demo1234 "$(kv_get "$OUT" project)" "over TLS with the test CA: $OUT$ERR"
  assert_eq 1 "$(standin_requests /v3/connections/carto-dw/token)" "one DW request"
  # Without the test CA the certificate is refused, and nothing is sent.
  SSL_CERT_FILE=/nonexistent vpy "$snippet"
  assert_rc 0
  assert_contains "$(kv_get "$OUT" error)" "certificate" "the refusal names the certificate"
  assert_empty "$(kv_get "$OUT" project)"
  assert_eq 1 "$(standin_requests /v3/connections/carto-dw/token)" "no DW request without a trusted certificate"
}
t_case "get_carto_dw_credentials() over real TLS: the certificate is checked" case_dw_over_tls

t_done
