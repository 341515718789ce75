#!/bin/bash
# The Python drop-in (python/carto_auth) against the stand-in: the seed
# documentation's code and the reference's usage example run unchanged on
# top of it, tokens come from the helper and are reused across processes,
# failures raise CredentialsError with the helper's message, secrets never
# reach a command line, and the installed copy finds the installed helper.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

SRC=${CARTO_AUTH_SOURCE_DIR:-$(cd "$TESTS_DIR/.." && pwd)}
export PYTHONPATH=$SRC/python
export CARTO_AUTH_BIN=$CARTO_AUTH
export PYTHONDONTWRITEBYTECODE=1

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 8))'; then
  t_skip_all "python 3.8 or later is needed"
fi

# The interpreter itself, not a shim that needs PATH (cases change PATH).
PY=$("$PYTHON" -c 'import sys; print(sys.executable)')

standin_start

# A folder like a user's notebook folder, with the credentials file the
# CARTO dashboard gives (the seed documentation calls it
# ./carto-credentials.json).
NB=$TEST_TMP/notebook
mkdir -p "$NB"
make_creds_file "$NB/carto-credentials.json" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"

# Stand-ins for google-cloud-bigquery, which the reference's example uses
# through get_carto_dw_client().
STUBS=$TEST_TMP/stubs
mkdir -p "$STUBS/google/cloud" "$STUBS/google/oauth2"
: >"$STUBS/google/__init__.py"
: >"$STUBS/google/cloud/__init__.py"
: >"$STUBS/google/oauth2/__init__.py"
cat >"$STUBS/google/cloud/bigquery.py" <<'EOF'
class Client:
    def __init__(self, project, credentials=None):
        self.project = project
        self.credentials = credentials
EOF
cat >"$STUBS/google/oauth2/credentials.py" <<'EOF'
class Credentials:
    def __init__(self, token):
        self.token = token
EOF

token_requests() { standin_requests /oauth/token; }

# py DIR CODE: run Python code in DIR (stdin from /dev/null); sets OUT, ERR, RC.
py() {
  local dir=$1
  printf '%s\n' "$2" >"$TEST_TMP/snippet.py"
  _t_capture "" /bin/bash -c 'cd "$1" && exec "$2" "$3"' _ "$dir" "$PY" "$TEST_TMP/snippet.py"
}

# --- the seed documentation's M2M code, unchanged --------------------------------

# The code block of the "M2M (advanced)" section, verbatim.
SEED_M2M='from carto_auth import CartoAuth

carto_auth = CartoAuth.from_m2m("./carto-credentials.json")'

CHECK='
print("token=" + carto_auth.get_access_token())
print("api_base_url=" + carto_auth.get_api_base_url())'

case_seed_m2m() {
  py "$NB" "$SEED_M2M$CHECK"
  assert_rc 0
  assert_match "$(kv_get "$OUT" token)" '^eyJ' "a token from the stand-in"
  assert_eq "$STANDIN_URL" "$(kv_get "$OUT" api_base_url)" "api_base_url from the credentials file"
  assert_eq 1 "$(token_requests)" "one token request"
  assert_eq client_credentials "$(standin_last_form grant_type)"
  assert_empty "$ERR" "nothing on stderr"
  kv_get "$OUT" token >"$TEST_TMP/m2m_token"
}
t_case "seed doc: CartoAuth.from_m2m(\"./carto-credentials.json\") gets a token" case_seed_m2m

case_cache_reuse() {
  py "$NB" "$SEED_M2M$CHECK"
  assert_rc 0
  assert_eq "$(cat "$TEST_TMP/m2m_token")" "$(kv_get "$OUT" token)" "the stored token again"
  assert_eq 1 "$(token_requests)" "the second process made no token request"
  assert_file_mode "$CARTO_AUTH_HOME/token_m2m.json" 600
  assert_eq "$(cat "$TEST_TMP/m2m_token")" "$(json_file_get "$CARTO_AUTH_HOME/token_m2m.json" access_token)" \
    "the reference's token file holds the token"
}
t_case "a second process reuses the stored token (no token request)" case_cache_reuse

case_use_cache_false() {
  local before
  before=$(token_requests)
  py "$NB" 'from carto_auth import CartoAuth
a = CartoAuth.from_m2m("./carto-credentials.json", use_cache=False)
print("token=" + a.get_access_token())
print("again=" + a.get_access_token())'
  assert_rc 0
  assert_eq $((before + 1)) "$(token_requests)" "use_cache=False asks the server once"
  assert_ne "$(cat "$TEST_TMP/m2m_token")" "$(kv_get "$OUT" token)" "a new token"
  assert_eq "$(kv_get "$OUT" token)" "$(kv_get "$OUT" again)" "held while valid"
}
t_case "use_cache=False gets a new token" case_use_cache_false

case_cache_filepath() {
  local before
  before=$(token_requests)
  py "$NB" 'from carto_auth import CartoAuth
a = CartoAuth.from_m2m("./carto-credentials.json", cache_filepath="./my-token.json")
print("token=" + a.get_access_token())'
  assert_rc 0
  assert_file_mode "$NB/my-token.json" 600
  assert_eq "$(kv_get "$OUT" token)" "$(json_file_get "$NB/my-token.json" access_token)"
  assert_eq $((before + 1)) "$(token_requests)" "a new file: one token request"
  py "$NB" 'from carto_auth import CartoAuth
a = CartoAuth.from_m2m("./carto-credentials.json", cache_filepath="./my-token.json")
print("token=" + a.get_access_token())'
  assert_eq $((before + 1)) "$(token_requests)" "the file is reused"
}
t_case "cache_filepath names the token file" case_cache_filepath

case_dw_m2m() {
  py "$NB" "$SEED_M2M"'
project, token = carto_auth.get_carto_dw_credentials()
print("project=" + project)
print("token=" + token)'
  assert_rc 0
  assert_eq carto-dw-ac-demo1234 "$(kv_get "$OUT" project)"
  assert_nonempty "$(kv_get "$OUT" token)"
  assert_eq 1 "$(standin_requests /v3/connections/carto-dw/token)" "one Data Warehouse request"
}
t_case "get_carto_dw_credentials() returns (project, token)" case_dw_m2m

case_renewal() {
  local before
  standin_settings '{"expires_in": 5}'
  py "$NB" 'import time
from carto_auth import CartoAuth
a = CartoAuth.from_m2m("./carto-credentials.json", cache_filepath="./short.json")
first = a.get_access_token()
# Reused while half its 5 s lifetime is left, renewed once less is.
time.sleep(4)
second = a.get_access_token()
print("renewed=" + str(first != second))'
  standin_settings '{"expires_in": 86400}'
  assert_rc 0
  assert_eq True "$(kv_get "$OUT" renewed)" "a token about to expire is renewed"
}
t_case "get_access_token() renews a token about to expire" case_renewal

case_short_tokens_reused() {
  local before
  standin_settings '{"expires_in": 120}'
  before=$(standin_requests /oauth/token)
  py "$NB" 'from carto_auth import CartoAuth
a = CartoAuth.from_m2m("./carto-credentials.json", cache_filepath="./short120.json")
tokens = {a.get_access_token() for _ in range(4)}
b = CartoAuth.from_m2m("./carto-credentials.json", cache_filepath="./short120.json")
tokens.add(b.get_access_token())
print("tokens=" + str(len(tokens)))'
  standin_settings '{"expires_in": 86400}'
  assert_rc 0
  assert_eq 1 "$(kv_get "$OUT" tokens)" "120 s tokens: one token for 5 calls"
  assert_eq $((before + 1)) "$(standin_requests /oauth/token)" "120 s tokens: one token request"
}
t_case "get_access_token() with 120 s tokens: one request, one token (no min_ttl given)" case_short_tokens_reused

case_pydeck_carto_credentials() {
  # What pydeck_carto.get_layer_credentials() reads: get_api_base_url() in
  # current versions, the api_base_url attribute in older ones.
  py "$NB" "$SEED_M2M"'
layer_credentials = {
    "apiVersion": "v3",
    "apiBaseUrl": carto_auth.get_api_base_url(),
    "accessToken": carto_auth.get_access_token(),
}
print("new=" + layer_credentials["apiBaseUrl"])
print("old=" + carto_auth.api_base_url)
print("token=" + layer_credentials["accessToken"])'
  assert_rc 0
  assert_eq "$STANDIN_URL" "$(kv_get "$OUT" new)"
  assert_eq "$STANDIN_URL" "$(kv_get "$OUT" old)"
  assert_match "$(kv_get "$OUT" token)" '^eyJ'
}
t_case "pydeck-carto's layer credentials (get_api_base_url() and .api_base_url)" case_pydeck_carto_credentials

# --- the reference's usage example (OAuth), unchanged -------------------------------

# README "Usage" of the reference package, verbatim.
cat >"$NB/carto_auth_example.py" <<'EOF'
from carto_auth import CartoAuth

# Authentication
carto_auth = CartoAuth.from_oauth()
# carto_auth = CartoAuth.from_m2m("./carto_credentials.json")

# Get access token
access_token = carto_auth.get_access_token()

# CARTO Data Warehouse
carto_dw_project, carto_dw_token = carto_auth.get_carto_dw_credentials()
carto_dw_client = carto_auth.get_carto_dw_client()
EOF

RUN_EXAMPLE='exec(open("carto_auth_example.py").read())
print("access_token=" + access_token)
print("api_base_url=" + carto_auth.get_api_base_url())
print("carto_dw_project=" + carto_dw_project)
print("client_project=" + carto_dw_client.project)
print("client_token=" + carto_dw_client.credentials.token)'

case_reference_example() {
  PYTHONPATH=$PYTHONPATH:$STUBS py "$NB" "$RUN_EXAMPLE"
  assert_rc 0
  assert_match "$(kv_get "$OUT" access_token)" '^eyJ'
  assert_eq "$STANDIN_URL" "$(kv_get "$OUT" api_base_url)" "discovered API base URL"
  assert_eq carto-dw-ac-demo1234 "$(kv_get "$OUT" carto_dw_project)"
  assert_eq carto-dw-ac-demo1234 "$(kv_get "$OUT" client_project)"
  assert_nonempty "$(kv_get "$OUT" client_token)" "the client holds a Data Warehouse token"
  assert_contains "$ERR" "Opening the browser" "the helper's login progress reaches the user"
  # the scripted browser logs its end after the helper has its answer
  wait_until 10 grep -q '^DONE' "$STANDIN_BROWSER_LOG"
  assert_eq 1 "$(grep -c '^DONE' "$STANDIN_BROWSER_LOG")" "one browser login"
  assert_eq 1 "$(standin_requests /oauth/token authorization_code)"
  assert_file_mode "$CARTO_AUTH_HOME/token_oauth.json" 600
}
t_case "reference usage example (from_oauth, DW client) runs unchanged" case_reference_example

case_oauth_cached() {
  local codes
  codes=$(standin_requests /oauth/token authorization_code)
  py "$NB" 'from carto_auth import CartoAuth

carto_auth = CartoAuth.from_oauth()
print("token=" + carto_auth.get_access_token())'
  assert_rc 0
  assert_match "$(kv_get "$OUT" token)" '^eyJ'
  assert_eq "$codes" "$(standin_requests /oauth/token authorization_code)" "no second login"
  assert_eq 1 "$(grep -c '^DONE' "$STANDIN_BROWSER_LOG")" "the browser did not open again"
}
t_case "seed doc: CartoAuth.from_oauth() again uses the stored token" case_oauth_cached

case_dw_client_needs_bigquery() {
  py "$NB" 'from carto_auth import CartoAuth
a = CartoAuth.from_oauth()
try:
    a.get_carto_dw_client()
except ImportError as e:
    from carto_auth import CredentialsError
    print("error=" + str(e))
    print("credentials_error=" + str(isinstance(e, CredentialsError)))'
  assert_rc 0
  assert_contains "$(kv_get "$OUT" error)" "pip install google-cloud-bigquery"
  assert_eq True "$(kv_get "$OUT" credentials_error)"
}
t_case "get_carto_dw_client() without google-cloud-bigquery says what to install" case_dw_client_needs_bigquery

# --- paste mode from a notebook: no terminal, prompt through Python -----------------

# A kernel has no controlling terminal; the drop-in gives the helper a
# pseudo-terminal and answers its "Code: " prompt with input().  The driver
# plays the user: it reads the URL from the kernel's stderr, logs in on the
# stand-in and types the code on the kernel's stdin.
cat >"$TEST_TMP/paste_driver.py" <<'EOF'
import os, re, subprocess, sys, time, urllib.error, urllib.parse, urllib.request

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None

code = 'from carto_auth import CartoAuth\na = CartoAuth.from_oauth(open_browser=False, cache_filepath="paste.json")\nprint("token=" + a.get_access_token())\n'
kernel = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          start_new_session=True)
os.set_blocking(kernel.stderr.fileno(), False)
err = b""
deadline = time.time() + 60
while time.time() < deadline and not err.endswith(b"Code: "):
    try:
        chunk = os.read(kernel.stderr.fileno(), 4096)
    except BlockingIOError:
        time.sleep(0.05)
        continue
    if not chunk:
        break
    err += chunk
url = re.findall(r"(http\S+/authorize\?\S+)", err.decode())[-1]
opener = urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({}))
try:
    opener.open(url, timeout=10)
    raise SystemExit("no redirect")
except urllib.error.HTTPError as e:
    location = e.headers["Location"]
the_code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
os.set_blocking(kernel.stderr.fileno(), True)
out, rest = kernel.communicate(the_code.encode() + b"\n", timeout=60)
sys.stdout.write(out.decode())
sys.stderr.write((err + rest).decode())
sys.exit(kernel.returncode)
EOF

case_paste_without_terminal() {
  _t_capture "" /bin/bash -c 'cd "$1" && exec "$2" "$3"' _ "$NB" "$PY" "$TEST_TMP/paste_driver.py"
  assert_rc 0
  assert_match "$(kv_get "$OUT" token)" '^eyJ' "a token after pasting the code"
  assert_contains "$ERR" "open this URL" "the helper's instructions reach the user"
  assert_contains "$ERR" "redirect_uri=https%3A%2F%2Fapp.carto.com%2Fauth%2Ftoken" "paste-mode redirect URI"
  assert_file_exists "$NB/paste.json"
}
t_case "paste mode with no terminal: the prompt goes through Python's input()" case_paste_without_terminal

# --- failures ------------------------------------------------------------------------

case_missing_attribute() {
  local before
  before=$(token_requests)
  printf '{"api_base_url": "%s", "client_id": "abc"}\n' "$STANDIN_URL" >"$NB/no-secret.json"
  chmod 600 "$NB/no-secret.json"
  py "$NB" 'from carto_auth import CartoAuth, CredentialsError
from carto_auth.errors import CredentialsError as E2
assert CredentialsError is E2
try:
    CartoAuth.from_m2m("./no-secret.json")
except CredentialsError as e:
    print("message=" + str(e))
    print("attribute_error=" + str(isinstance(e, AttributeError)))'
  assert_rc 0
  assert_eq "missing attribute client_secret in $NB/no-secret.json" "$(kv_get "$OUT" message)"
  assert_eq True "$(kv_get "$OUT" attribute_error)" "also an AttributeError, as the reference raised"
  assert_eq "$before" "$(token_requests)" "no token request"
  assert_empty "$ERR" "the error is raised, not printed"
}
t_case "CredentialsError: missing attribute client_secret in FILE" case_missing_attribute

case_missing_value_and_file() {
  printf '{"api_base_url": "%s", "client_id": "", "client_secret": "s"}\n' "$STANDIN_URL" >"$NB/empty.json"
  py "$NB" 'from carto_auth import CartoAuth, CredentialsError
for path, kind in (("./empty.json", ValueError), ("./nowhere.json", FileNotFoundError)):
    try:
        CartoAuth.from_m2m(path)
    except CredentialsError as e:
        print(path + "=" + str(e) + " | " + str(isinstance(e, kind)))'
  assert_rc 0
  assert_eq "missing value for client_id in $NB/empty.json | True" "$(kv_get "$OUT" ./empty.json)"
  assert_match "$(kv_get "$OUT" ./nowhere.json)" "^cannot read credentials file $NB/nowhere.json.* \| True$"
}
t_case "CredentialsError: empty value (ValueError), no file (FileNotFoundError)" case_missing_value_and_file

case_refused() {
  make_creds_file "$NB/wrong.json" unknown-client-0009 wrong-secret-123456 "$STANDIN_URL"
  py "$NB" 'from carto_auth import CartoAuth, CredentialsError
try:
    CartoAuth.from_m2m("./wrong.json")
except CredentialsError as e:
    print("message=" + str(e))'
  assert_rc 0
  assert_contains "$(kv_get "$OUT" message)" "refused"
  assert_not_contains "$OUT$ERR" wrong-secret-123456 "the secret is never shown"
  assert_not_contains "$ERR" "Traceback"
}
t_case "a refused client: CredentialsError with the server's reason" case_refused

case_no_secret_in_argv() {
  cat >"$TEST_TMP/spy.sh" <<EOF
#!/bin/bash
printf '%s\n' "\$*" >"$TEST_TMP/spy.args"
tee "$TEST_TMP/spy.stdin" | exec "$CARTO_AUTH" "\$@"
EOF
  chmod +x "$TEST_TMP/spy.sh"
  CARTO_AUTH_BIN=$TEST_TMP/spy.sh py "$NB" "$SEED_M2M$CHECK"
  assert_rc 0
  assert_eq get "$(cat "$TEST_TMP/spy.args")" "the command line is only: carto-auth get"
  assert_contains "$(cat "$TEST_TMP/spy.stdin")" "credentials_file=$NB/carto-credentials.json"
  assert_contains "$(cat "$TEST_TMP/spy.stdin")" "mode=m2m"
  assert_not_contains "$(cat "$TEST_TMP/spy.stdin")" "$STANDIN_SECRET_1" "the secret stays in the file"
}
t_case "the helper gets the request on stdin, no secret in argv" case_no_secret_in_argv

case_helper_missing() {
  if PATH=/usr/bin:/bin command -v carto-auth >/dev/null; then
    echo "carto-auth is installed in /usr/bin; cannot test its absence" >&2
    return 0
  fi
  CARTO_AUTH_BIN='' PATH=/usr/bin:/bin py "$NB" "$SEED_M2M"
  assert_rc 1
  assert_contains "$ERR" "HelperNotFoundError: cannot find the carto-auth program"
  CARTO_AUTH_BIN='' PATH=/usr/bin:/bin py "$NB" 'from carto_auth import CartoAuth, CredentialsError
try:
    CartoAuth.from_m2m("./carto-credentials.json")
except CredentialsError as e:
    print("message=" + str(e))'
  assert_rc 0
  assert_contains "$(kv_get "$OUT" message)" "set CARTO_AUTH_BIN"
}
t_case "no helper: CredentialsError saying how to install it" case_helper_missing

# --- the installed package finds the installed helper ------------------------------------

case_installed() {
  local prefix=$TEST_TMP/prefix pkg before
  if [ -z "${CARTO_AUTH_BUILD_DIR:-}" ]; then
    echo "CARTO_AUTH_BUILD_DIR is not set" >&2
    return 1
  fi
  cmake --install "$CARTO_AUTH_BUILD_DIR" --prefix "$prefix" >"$TEST_TMP/install.log"
  pkg=$prefix/share/carto-auth/python
  assert_file_exists "$pkg/carto_auth/__init__.py"
  before=$(token_requests)
  CARTO_AUTH_BIN='' PATH=/usr/bin:/bin PYTHONPATH=$pkg py "$NB" "$SEED_M2M$CHECK"'
import carto_auth._helper as h
print("helper=" + h.find_helper())
print("package=" + h.__file__)'
  assert_rc 0
  assert_eq "$prefix/bin/carto-auth" "$(kv_get "$OUT" helper)" "the helper of the same prefix"
  assert_eq "$pkg/carto_auth/_helper.py" "$(kv_get "$OUT" package)" "the installed package"
  assert_match "$(kv_get "$OUT" token)" '^eyJ'
  assert_eq "$before" "$(token_requests)" "the stored token is shared with the build's helper"
}
t_case "installed under <prefix>/share/carto-auth/python, it runs <prefix>/bin/carto-auth" case_installed

t_done
