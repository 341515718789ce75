#!/bin/bash
# Output hygiene and protocol input (issue 10, items 4 and 9), each case an
# attack on the built helper:
#   - a hostile server's value (an access token, a config.yaml baseUrl, an
#     error_description) with \v, ESC sequences (a terminal title, an OSC 52
#     clipboard write), C1 controls or U+2028 never reaches standard output:
#     the answer is refused whole (exit 1, one line on stderr, nothing on
#     stdout); text for a terminal shows such characters escaped ("\x1b")
#     and never carries the raw byte;
#   - the Python drop-in is not fooled by a \v that injects a line;
#   - a store whose values could not be printed back is bad input (exit 2)
#     and leaves the store byte for byte as it was;
#   - a get never prints part of an answer;
#   - 80,000 distinct keys are read in linear time.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

SRC=${CARTO_AUTH_SOURCE_DIR:-$(cd "$TESTS_DIR/.." && pwd)}

standin_start
CREDS=$TEST_TMP/creds.json
make_creds_file "$CREDS" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
GET_M2M=$'credentials_file='"$CREDS"$'\n\n'

fresh() {
  export CARTO_AUTH_HOME=$TEST_TMP/home-$1
  export CARTO_AUTH_REDIRECT_URI="http://localhost:$(free_port)/callback/"
  export STANDIN_BROWSER_LOG=$TEST_TMP/browser-$1.log
  : >"$STANDIN_BROWSER_LOG"
  standin_reset
}

ESC=$'\e'

# assert_no_raw FILE WHAT: FILE holds no byte a terminal or a line-based
# reader would act on: no C0 control but the line feed, no DEL, no C1
# control (C2 80..C2 9F), no U+2028/U+2029, no invalid UTF-8.
assert_no_raw() {
  "$PYTHON" - "$1" <<'EOF' || _t_assert_failed "$2 carries a raw control character" \
    "bytes: [$(od -c "$1" | head -5)]"
import re, sys
data = open(sys.argv[1], "rb").read()
try:
    text = data.decode("utf-8")
except UnicodeDecodeError:
    sys.exit(1)
sys.exit(1 if re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]", text) else 0)
EOF
}

# assert_refused_whole: exit 1, nothing on stdout, one line on stderr.
assert_refused_whole() {
  assert_rc 1 "${1:-the answer is refused}"
  assert_eq 0 "$(stat -c %s "$OUT_FILE")" "nothing on stdout"
  assert_eq 1 "$(wc -l <"$ERR_FILE")" "one line on stderr"
  assert_no_raw "$ERR_FILE" "stderr"
}

# hostile_token BODY_JSON_STRING: the next token answer carries this token.
hostile_token() {
  standin_fault '{"kind": "status", "status": 200, "path": "/oauth/token", "body":
    {"access_token": "eyJhbGciOiJub25lIn0.e30.'"$1"'", "expires_in": 86400, "token_type": "Bearer"}}'
}

# JSON escapes of each class the protocol refuses.
HOSTILE=(
  '\u000bapi_base_url=https://evil.example'
  '\u001b]52;c;ZWNobyBwd25lZA==\u0007'
  '\u001b]0;pwned\u0007'
  '\u001b[2J'
  '\u0009tab'
  '\u007f'
  '\u0085access_token=x'
  '\u0080'
  '\u009b31m'
  '\u2028access_token=x'
  '\u2029'
)

# --- protocol output: refused whole ------------------------------------------

case_hostile_token_refused() {
  local i=0 value
  for value in "${HOSTILE[@]}"; do
    fresh token-$((i++))
    hostile_token "$value"
    run_helper "$GET_M2M" get
    assert_refused_whole "a token with $value"
    # Refused where the server's answer is read: never stored, so the
    # next call asks again instead of failing on a stored bad token.
    assert_contains "$ERR" "carto-auth: get: token request failed: the answer has no valid access_token"
    assert_eq "" "$(find "$CARTO_AUTH_HOME" -name 'token*.json' 2>/dev/null)" "a hostile token was stored"
  done
}
t_case "a token with a control character or separator: refused whole, never stored" \
  case_hostile_token_refused

case_hostile_token_other_outputs() {
  local format
  fresh token-formats
  hostile_token "${HOSTILE[1]}"
  run_helper "" token --m2m "$CREDS"
  assert_refused_whole "token --format plain"
  assert_contains "$ERR" "carto-auth: token: token request failed: the answer has no valid access_token"
  # every format refuses it the same way
  for format in plain json env header; do
    hostile_token "${HOSTILE[1]}"
    run_helper "" token --m2m "$CREDS" --format "$format"
    assert_refused_whole "token --format $format"
  done
  # and git's view of it, with the authtype capability
  hostile_token "${HOSTILE[1]}"
  run_helper $'capability[]=authtype\ncredentials_file='"$CREDS"$'\n\n' get
  assert_refused_whole "get with capability[]=authtype"
}
t_case "token --format plain/json/env/header refuse a hostile token, printing nothing" \
  case_hostile_token_other_outputs

case_env_quoting() {
  local out creds=$TEST_TMP/creds-quote.json
  fresh env-quote
  # A token can hold no quote (RFC 6750 characters only); a URL path can.
  make_creds_file "$creds" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" \
    "$STANDIN_URL/a'\$(id>$TEST_TMP/pwned)'b"
  run_helper "" token --m2m "$creds" --format env
  assert_rc 0
  out=$(cd "$TEST_TMP" && eval "$OUT" && printf '%s' "$CARTO_API_BASE_URL")
  assert_eq "$STANDIN_URL/a'\$(id>$TEST_TMP/pwned)'b" "$out" \
    "the value comes back unchanged through eval"
  assert_no_file "$TEST_TMP/pwned" "a quote broke out of the shell quoting"
}
t_case "token --format env: a quote in a value cannot break out of the shell quoting" \
  case_env_quoting

case_hostile_dw() {
  local format
  fresh dw
  standin_fault '{"kind": "status", "status": 200, "path": "/v3/connections/carto-dw/token",
    "count": 0, "body": {"projectId": "carto-dw-ac-x\u001b]0;pwned\u0007", "token": "ya29.ok"}}'
  run_helper $'carto_dw=true\ncredentials_file='"$CREDS"$'\n\n' get
  assert_refused_whole "get with carto_dw=true"
  for format in plain json env; do
    run_helper "" dw --m2m "$CREDS" --format "$format"
    assert_refused_whole "dw --format $format"
  done
}
t_case "a Data Warehouse project with an escape sequence: get and dw refuse it" case_hostile_dw

# --- terminal text: escaped ---------------------------------------------------

case_error_description_escaped() {
  fresh errdesc
  standin_fault '{"kind": "status", "status": 401, "path": "/oauth/token", "body":
    {"error": "access_denied\u001b]0;pwned\u0007",
     "error_description": "no \u001b]52;c;ZWNobyBwd25lZA==\u0007 \u009b2J \u2028 \u0085"}}'
  run_helper "$GET_M2M" --debug get
  assert_rc 1
  assert_empty "$OUT"
  assert_not_contains "$ERR" "$ESC" "a raw ESC on stderr"
  assert_no_raw "$ERR_FILE" "stderr"
  assert_contains "$ERR" "carto-auth: get: "
}
t_case "a server's error and error_description never reach the terminal raw" \
  case_error_description_escaped

case_path_escaped() {
  local evil=$TEST_TMP/$'creds\e]0;pwned\a\e]52;c;ZWNobw==\a\xc2\x85\xe2\x80\xa8.json'
  run_helper "" token --m2m "$evil"
  assert_rc 2 "a credentials file that does not exist"
  assert_empty "$OUT"
  assert_no_raw "$ERR_FILE" "stderr"
  assert_contains "$ERR" 'creds\x1b]0;pwned\x07\x1b]52;c;ZWNobw==\x07\u0085\u2028.json' \
    "the path is shown escaped"
  run_helper "" token --format $'x\e[2J'
  assert_rc 2
  assert_contains "$ERR" "unknown --format 'x\\x1b[2J'"
  assert_no_raw "$ERR_FILE" "stderr"
}
t_case "a file name with escape sequences is shown escaped in the error line" case_path_escaped

# Bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F,
# U+061C) reorder what a terminal shows ("Trojan Source"): a server's text
# or a file name could make an error line read as something else.
case_bidi_escaped() {
  local rlo=$'\xe2\x80\xae' lri=$'\xe2\x81\xa6' evil
  fresh bidi
  standin_fault '{"kind": "status", "status": 401, "path": "/oauth/token", "body":
    {"error": "access_denied", "error_description": "retry at \u202emoc.otrac.evil\u202c \u2066x\u2069 \u200f\u061c"}}'
  run_helper "$GET_M2M" get
  assert_rc 1
  assert_empty "$OUT"
  assert_not_contains "$ERR" "$rlo" "a raw RLO on stderr"
  assert_not_contains "$ERR" "$lri" "a raw LRI on stderr"
  assert_contains "$ERR" 'retry at \u202emoc.otrac.evil\u202c \u2066x\u2069 \u200f\u061c'
  evil=$TEST_TMP/$'creds\xe2\x80\xaenosj.json'
  run_helper "" token --m2m "$evil"
  assert_rc 2
  assert_contains "$ERR" 'creds\u202enosj.json' "the path is shown escaped"
}
t_case "bidirectional controls in a server's text or a path are shown escaped" case_bidi_escaped

# login + get + status with a tenant config.yaml whose baseUrl carries YAML
# escapes: \e (ESC), \a (BEL), \N (U+0085), \L (U+2028), \P (U+2029).
case_config_yaml_base_url() {
  local yaml_escape name
  for yaml_escape in '\e]0;pwned\a' '\e]52;c;ZWNobw==\a' '\N' '\L' '\P' '\t' '\x9b'; do
    name=yaml-$(printf '%s' "$yaml_escape" | md5sum | cut -c1-8)
    fresh "$name"
    standin_settings "$("$PYTHON" -c 'import json, sys
print(json.dumps({"config_yaml": "apis:\n  baseUrl: \"@API_BASE_URL@/x" + sys.argv[1] + "y\"\n"}))' "$yaml_escape")"
    run_helper "" --debug login
    assert_empty "$OUT" "login prints nothing on stdout"
    assert_no_raw "$ERR_FILE" "login's stderr ($yaml_escape)"
    if [ "$RC" = 0 ]; then
      # The URL was accepted: it is stored, and every output path must hold.
      assert_match "$ERR" 'Logged in to CARTO \(oauth, http://127\.0\.0\.1:[0-9]+/x\\(x1b|u0085|u2028|u2029|x09|u009b)' \
        "the login message shows the URL escaped"
      run_helper $'mode=oauth\n\n' get
      assert_refused_whole "get with the hostile api_base_url ($yaml_escape)"
      run_helper "" status
      assert_rc 0
      assert_no_raw "$OUT_FILE" "status's stdout"
      assert_contains "$OUT" "api base url: $STANDIN_URL/x\\"
      run_helper "" token --format json
      assert_refused_whole "token --format json"
      run_helper "" --debug token --format env
      assert_rc 1 "token --format env"
      assert_eq 0 "$(stat -c %s "$OUT_FILE")" "nothing on stdout"
      assert_no_raw "$ERR_FILE" "token --debug's stderr"
      run_helper "" token --format header
      assert_rc 0 "the header format does not print the API base URL"
      assert_no_raw "$OUT_FILE" "token's stdout"
    else
      assert_rc 1 "a refused discovery"
    fi
  done
}
t_case "a config.yaml baseUrl with ESC, BEL, C1 or U+2028: escaped on the terminal, refused on the protocol" \
  case_config_yaml_base_url

# --- the Python drop-in --------------------------------------------------------

# A stand-in helper whose answer has a \v in api_base_url, followed by an
# access_token= of its own: a reader that splits on \v takes that token.
cat >"$TEST_TMP/fake-helper" <<'EOF'
#!/bin/bash
cat >/dev/null
printf 'protocol=https\nhost=api.example\nusername=id\npassword=GOOD\npassword_expiry_utc=4000000000\n'
printf 'access_token=GOOD\ntoken_type=Bearer\nexpiration=4000000000\n'
printf 'api_base_url=https://api.example\vaccess_token=INJECTED\nmode=m2m\n'
EOF
chmod +x "$TEST_TMP/fake-helper"

drop_in() {
  _t_capture "" env PYTHONPATH="$SRC/python" PYTHONDONTWRITEBYTECODE=1 CARTO_AUTH_BIN="$1" \
    "$PYTHON" -c '
import sys
from carto_auth import CartoAuth
from carto_auth.errors import CredentialsError
try:
    auth = CartoAuth.from_m2m(sys.argv[1], use_cache=False)
    print("TOKEN=" + auth.get_access_token())
except CredentialsError as e:
    print("REFUSED: " + str(e))
' "$CREDS"
}

case_python_vt_injection() {
  drop_in "$TEST_TMP/fake-helper"
  assert_rc 0
  assert_not_contains "$OUT" "INJECTED" "the \\v injected an access token"
  assert_contains "$OUT" "REFUSED: refusing the answer of carto-auth: it holds a control character"
}
t_case "python drop-in: a \\v in a value cannot inject an access_token= line" case_python_vt_injection

case_python_hostile_server() {
  fresh python
  hostile_token "${HOSTILE[0]}"
  drop_in "$CARTO_AUTH"
  assert_rc 0
  assert_not_contains "$OUT" "TOKEN=" "a hostile token was handed out"
  assert_contains "$OUT" "REFUSED: "
  assert_contains "$OUT" "no valid access_token"
}
t_case "python drop-in over the helper: a hostile token raises CredentialsError" case_python_hostile_server

case_python_refuses_duplicates() {
  local answer
  for answer in 'access_token=A\naccess_token=B\n' 'access_token=A\x85\n' \
      'access_token=A\xe2\x80\xa8\n' 'access_token=\xff\n' 'access_token=A' 'noequals\n'; do
    _t_capture "" env PYTHONPATH="$SRC/python" PYTHONDONTWRITEBYTECODE=1 "$PYTHON" -c '
import sys
from carto_auth._helper import decode_answer
from carto_auth.errors import CredentialsError
try:
    print(decode_answer(sys.argv[1].encode("latin-1").decode("unicode_escape").encode("latin-1")))
except CredentialsError as e:
    print("REFUSED: " + str(e))
' "$answer"
    assert_contains "$OUT" "REFUSED: " "the drop-in took the answer [$answer]"
  done
}
t_case "python drop-in refuses duplicated keys, C1, U+2028, invalid UTF-8, a cut line" \
  case_python_refuses_duplicates

# --- store: what could not be printed back is not stored ------------------------

case_store_refuses_unprintable() {
  local value snap
  fresh store
  run_helper $'protocol=https\nhost=git.example\nusername=u\npassword=good\n\n' store
  assert_rc 0
  assert_file_exists "$CARTO_AUTH_HOME/credentials.json"
  cp -p "$CARTO_AUTH_HOME/credentials.json" "$TEST_TMP/credentials.before"
  for value in $'pa\vss' $'pa\tss' $'\e]52;c;eA==\a' $'\xc2\x85' $'\xe2\x80\xa8' $'\x7f' $'\xff'; do
    run_helper $'protocol=https\nhost=git.example\nusername=u\npassword='"$value"$'\n\n' store
    assert_rc 2 "store of [$value]"
    assert_empty "$OUT"
    assert_eq 1 "$(wc -l <"$ERR_FILE")" "one line on stderr"
    assert_contains "$ERR" "carto-auth: store: bad input: the value of password"
    assert_no_raw "$ERR_FILE" "stderr"
    cmp "$TEST_TMP/credentials.before" "$CARTO_AUTH_HOME/credentials.json"
    run_helper $'protocol=https\nhost=other.example\nusername=u'"$value"$'\npassword=p\n\n' store
    assert_rc 2 "store of a username [$value]"
    cmp "$TEST_TMP/credentials.before" "$CARTO_AUTH_HOME/credentials.json"
  done
  run_helper $'protocol=https\nhost=git.example\n\n' get
  assert_rc 0
  assert_eq $'username=u\npassword=good' "$OUT" "the stored credential is unchanged"

  # a CARTO token handed to store: the token files stay as they were
  run_helper "$GET_M2M" get
  assert_rc 0
  snap=$(cd "$CARTO_AUTH_HOME" && find . -type f ! -name '*.lock' -print0 | sort -z | xargs -0 sha256sum)
  run_helper $'credentials_file='"$CREDS"$'\npassword=eyJx\e]0;t\a\nexpiration=4000000000\n\n' store
  assert_rc 2 "store of a hostile CARTO token"
  assert_empty "$OUT"
  assert_eq "$snap" "$(cd "$CARTO_AUTH_HOME" && find . -type f ! -name '*.lock' -print0 | sort -z | xargs -0 sha256sum)" \
    "the store is byte-identical"
}
t_case "store of a value that could not be printed back: exit 2, store byte-identical" \
  case_store_refuses_unprintable

# --- get: whole or nothing --------------------------------------------------------

case_get_never_partial() {
  fresh partial
  run_helper $'protocol=https\nhost=git.example\nusername=alice\npassword=good\noauth_refresh_token=r\n\n' store
  assert_rc 0
  # A store changed behind the helper's back (or written by another
  # program): the password now holds a \v, username still prints fine.
  "$PYTHON" - "$CARTO_AUTH_HOME/credentials.json" <<'EOF'
import json, sys
path = sys.argv[1]
doc = json.load(open(path))
items = doc["credentials"] if isinstance(doc, dict) else doc
items[0]["password"] = "good\u000bpassword=evil"
json.dump(doc, open(path, "w"))
EOF
  run_helper $'protocol=https\nhost=git.example\n\n' get
  assert_refused_whole "a stored credential that cannot be printed"
  assert_not_contains "$OUT" "username=" "a partial answer"
  assert_contains "$ERR" "carto-auth: get: refusing to print password"
}
t_case "get never prints a partial answer" case_get_never_partial

# --- input cost is linear ------------------------------------------------------------

case_many_keys() {
  local start end
  "$PYTHON" -c '
n = 80000
print("".join("k%d=v\n" % i for i in range(n)), end="")
print("".join("l%d[]=v\n" % i for i in range(n // 2)), end="")
print("".join("l%d[]=\n" % i for i in range(n // 2)), end="")
print("protocol=https\nhost=nothing.example\n")' >"$TEST_TMP/many.in"
  start=$(date +%s%N)
  _t_capture "$(cat "$TEST_TMP/many.in")"$'\n' timeout 5 "$CARTO_AUTH" get
  end=$(date +%s%N)
  assert_rc 0 "80,000 keys (+40,000 list items set and cleared) within the 5 s hang guard"
  assert_empty "$OUT"
  echo "    read $(wc -c <"$TEST_TMP/many.in") bytes, 160,000 lines in $(((end - start) / 1000000)) ms"
}
t_case "80,000 distinct keys are read in linear time" case_many_keys

t_done
