# tests/lib.sh -- helpers for carto-auth's bash integration tests.
#
# Source it from a test script (works under `set -euo pipefail`):
#
#   #!/bin/bash
#   set -euo pipefail
#   . "$(dirname "$0")/../lib.sh"
#   standin_start
#
#   case_m2m_get() {
#     make_creds_file "$TEST_TMP/creds.json" demo-client-id-0001 \
#       "$STANDIN_SECRET_1" "$STANDIN_URL"
#     run_helper $'mode=m2m\ncredentials_file='"$TEST_TMP/creds.json"$'\n\n' get
#     assert_rc 0
#     assert_contains "$OUT" "password=eyJ" "a token is printed"
#   }
#   t_case "m2m get prints a token" case_m2m_get
#   t_done
#
# What sourcing does:
#   - makes $TEST_TMP (mktemp -d), removed on exit (kept when KEEP_TEST_TMP=1);
#   - isolates the environment: HOME=$TEST_TMP/userhome (and XDG dirs in it),
#     CARTO_AUTH_HOME=$TEST_TMP/home, CARTO_AUTH_STORE=file; unsets proxy
#     variables, DBUS_SESSION_BUS_ADDRESS (unless inside keyring_session.sh,
#     CARTO_KEYRING_SESSION=1), BROWSER, GIT_TERMINAL_PROMPT,
#     DATABRICKS_RUNTIME_VERSION, CURL_CA_BUNDLE, SSL_CERT_FILE and all other
#     CARTO_AUTH_* except CARTO_AUTH itself and the ctest-provided
#     CARTO_AUTH_BUILD_DIR / CARTO_AUTH_SOURCE_DIR / CARTO_AUTH_LIB;
#   - installs an EXIT trap that stops every stand-in, prints the summary if
#     t_done was not reached and removes $TEST_TMP.  Don't replace that trap;
#     add work to it with `on_exit COMMAND`.
#
# Test cases: `t_case NAME FUNCTION [ARGS...]` runs the function in a
# subshell with `set -e`, so the first failing command or assertion ends the
# case (and only the case).  Variables set inside a case do not reach later
# cases: keep shared state in files under $TEST_TMP, or compute it at top
# level.  Call t_case as a plain statement (not after `if`, `&&` or `||`,
# which would switch `set -e` off inside the case).  Start stand-ins at top
# level, not inside a case.

if [ -n "${_CARTO_TEST_LIB:-}" ]; then
  return 0
fi
_CARTO_TEST_LIB=1

# -- environment isolation ----------------------------------------------------

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
  no_proxy NO_PROXY ftp_proxy FTP_PROXY
# The session bus is kept only inside tests/keyring_session.sh's private one,
# so that no test can reach the user's real keyring.
if [ "${CARTO_KEYRING_SESSION:-}" != 1 ]; then
  unset DBUS_SESSION_BUS_ADDRESS
fi
unset BROWSER GIT_TERMINAL_PROMPT \
  DATABRICKS_RUNTIME_VERSION CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR
for _v in $(compgen -e); do
  case $_v in
    CARTO_AUTH|CARTO_AUTH_BUILD_DIR|CARTO_AUTH_SOURCE_DIR|CARTO_AUTH_LIB) ;;
    CARTO_AUTH_*|CARTO_ACCOUNTS_URL|STANDIN_*) unset "$_v" ;;
  esac
done
unset _v

# -- paths and constants -------------------------------------------------------

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STANDIN_HOME=$TESTS_DIR/standin
STANDIN_BROWSER=$STANDIN_HOME/browser.sh
PYTHON=${PYTHON:-$(command -v python3 || echo /usr/bin/python3)}
HELPER_TIMEOUT=${HELPER_TIMEOUT:-120}
export TESTS_DIR STANDIN_HOME STANDIN_BROWSER PYTHON

# Secrets of the stand-in's two built-in M2M clients.
STANDIN_CLIENT_1=demo-client-id-0001
STANDIN_SECRET_1=demo-secret-0001-$(printf 'x%.0s' {1..48})
STANDIN_CLIENT_2=demo-client-id-0002
STANDIN_SECRET_2=demo-secret-0002-$(printf 'y%.0s' {1..48})
export STANDIN_CLIENT_1 STANDIN_SECRET_1 STANDIN_CLIENT_2 STANDIN_SECRET_2

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/carto-auth-test.XXXXXX")
export TEST_TMP
: >"$TEST_TMP/.results"
: >"$TEST_TMP/.standin_pids"
_T_DONE=
_T_EXIT_HOOKS=()

# -- isolated home and stores ------------------------------------------------------

export HOME=$TEST_TMP/userhome
mkdir -m 700 "$HOME"
export XDG_CONFIG_HOME=$HOME/.config XDG_DATA_HOME=$HOME/.local/share \
  XDG_CACHE_HOME=$HOME/.cache XDG_STATE_HOME=$HOME/.local/state
export CARTO_AUTH_HOME=$TEST_TMP/home   # not created: the helper makes it
export CARTO_AUTH_STORE=file
export GIT_CONFIG_NOSYSTEM=1 LC_ALL=C

# -- exit handling -------------------------------------------------------------

on_exit() { _T_EXIT_HOOKS+=("$*"); }

_t_counts() {
  _T_PASSED=$(grep -c '^PASS ' "$TEST_TMP/.results" || true)
  _T_FAILED=$(grep -c '^FAIL ' "$TEST_TMP/.results" || true)
  _T_SKIPPED=$(grep -c '^SKIP ' "$TEST_TMP/.results" || true)
}

_t_on_exit() {
  local rc=$? hook
  set +e
  for hook in "${_T_EXIT_HOOKS[@]}"; do eval "$hook"; done
  standin_stop_all
  if [ -z "$_T_DONE" ]; then
    _t_counts
    if [ "$rc" -ne 0 ]; then
      echo "ABORTED: the test script stopped with status $rc before t_done" >&2
      _t_list_failures
      echo "$_T_PASSED passed, $((_T_FAILED + 1)) failed"
    elif [ $((_T_PASSED + _T_FAILED)) -gt 0 ]; then
      _t_summary
      [ "$_T_FAILED" -eq 0 ] || rc=1
    fi
  fi
  if [ -n "${KEEP_TEST_TMP:-}" ]; then
    echo "kept $TEST_TMP" >&2
  else
    rm -rf "$TEST_TMP"
  fi
  exit "$rc"
}
trap _t_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# -- test cases and results ----------------------------------------------------

t_pass() { echo "PASS $*" >>"$TEST_TMP/.results"; echo "ok - $*"; }
t_fail() { echo "FAIL $*" >>"$TEST_TMP/.results"; echo "not ok - $*"; }
t_skip() {
  local name=$1; shift
  echo "SKIP $name" >>"$TEST_TMP/.results"
  echo "skip - $name${1:+ ($*)}"
}

# t_case NAME FUNCTION [ARGS...]: run one case (see the top of this file).
t_case() {
  local name=$1 rc errexit=
  shift
  case $- in *e*) errexit=1 ;; esac
  set +e
  (set -e; "$@")
  rc=$?
  [ -z "$errexit" ] || set -e
  if [ "$rc" -eq 0 ]; then
    t_pass "$name"
  else
    t_fail "$name"
  fi
  return 0
}

_t_list_failures() {
  if grep -q '^FAIL ' "$TEST_TMP/.results"; then
    echo "failed cases:"
    sed -n 's/^FAIL /  /p' "$TEST_TMP/.results"
  fi
}

_t_summary() {
  _t_list_failures
  [ "$_T_SKIPPED" -eq 0 ] || echo "$_T_SKIPPED skipped"
  echo "$_T_PASSED passed, $_T_FAILED failed"
}

# t_done: print "N passed, M failed" and exit: 0 when all passed, 1 when any
# failed or no case ran, 77 (ctest's SKIP_RETURN_CODE) when all were skipped.
t_done() {
  _T_DONE=1
  _t_counts
  _t_summary
  if [ "$_T_FAILED" -gt 0 ]; then exit 1; fi
  if [ "$_T_PASSED" -eq 0 ]; then
    if [ "$_T_SKIPPED" -gt 0 ]; then exit 77; fi
    echo "no test case ran" >&2
    exit 1
  fi
  exit 0
}

# t_skip_all REASON: skip the whole script (exit 77).
t_skip_all() {
  _T_DONE=1
  echo "SKIP: $*"
  exit 77
}

# -- assertions ------------------------------------------------------------------
# Each prints "FAIL: MSG" with details on standard error and returns 1 when
# the check does not hold (which ends the current t_case), 0 otherwise.

_t_show() {
  # Shorten long values in failure messages.
  local value=$1
  if [ "${#value}" -gt 2000 ]; then
    printf '%s... (%d bytes)' "${value:0:2000}" "${#value}"
  else
    printf '%s' "$value"
  fi
}

_t_assert_failed() {
  local msg=$1
  shift
  {
    printf '  FAIL: %s\n' "$msg"
    local line
    for line in "$@"; do printf '    %s\n' "$line"; done
  } >&2
  return 1
}

assert_eq() {
  [ "$1" == "$2" ] && return 0
  _t_assert_failed "${3:-values differ}" "expected: [$(_t_show "$1")]" \
    "actual:   [$(_t_show "$2")]"
}

assert_ne() {
  [ "$1" != "$2" ] && return 0
  _t_assert_failed "${3:-values should differ}" "both: [$(_t_show "$1")]"
}

assert_contains() {
  [[ $1 == *"$2"* ]] && return 0
  _t_assert_failed "${3:-text lacks the expected part}" "missing: [$2]" \
    "in:      [$(_t_show "$1")]"
}

assert_not_contains() {
  [[ $1 != *"$2"* ]] && return 0
  _t_assert_failed "${3:-text has a part it must not have}" "found: [$2]" \
    "in:    [$(_t_show "$1")]"
}

# assert_match TEXT EXTENDED-REGEX [MSG]
assert_match() {
  [[ $1 =~ $2 ]] && return 0
  _t_assert_failed "${3:-text does not match}" "regex: $2" "text:  [$(_t_show "$1")]"
}

assert_empty() {
  [ -z "$1" ] && return 0
  _t_assert_failed "${2:-value should be empty}" "value: [$(_t_show "$1")]"
}

assert_nonempty() {
  [ -n "$1" ] && return 0
  _t_assert_failed "${2:-value should not be empty}"
}

assert_file_exists() {
  [ -e "$1" ] && return 0
  _t_assert_failed "${2:-file should exist}" "path: $1"
}

assert_no_file() {
  [ ! -e "$1" ] && return 0
  _t_assert_failed "${2:-file should not exist}" "path: $1"
}

# assert_file_mode PATH MODE [MSG]   e.g. assert_file_mode "$f" 600
assert_file_mode() {
  local actual want=$2
  if ! actual=$(stat -c %a "$1" 2>/dev/null); then
    _t_assert_failed "${3:-file should exist with mode $2}" "path: $1"
    return 1
  fi
  while [ "${want#0}" != "$want" ] && [ ${#want} -gt 1 ]; do want=${want#0}; done
  [ "$actual" == "$want" ] && return 0
  _t_assert_failed "${3:-wrong file mode}" "path:     $1" "expected: $want" \
    "actual:   $actual"
}

# assert_rc EXPECTED [MSG]: checks $RC from run_helper / assert_exit.
assert_rc() {
  [ "${RC:-}" == "$1" ] && return 0
  _t_assert_failed "${2:-wrong exit status}" "expected: $1" "actual:   ${RC:-unset}" \
    "stdout:   [$(_t_show "${OUT:-}")]" "stderr:   [$(_t_show "${ERR:-}")]"
}

# assert_exit EXPECTED CMD [ARGS...]: run CMD (stdin from /dev/null), set
# $OUT, $ERR and $RC like run_helper, and check the exit status.
assert_exit() {
  local want=$1
  shift
  _t_capture "" "$@"
  [ "$RC" == "$want" ] && return 0
  _t_assert_failed "exit status of: $*" "expected: $want" "actual:   $RC" \
    "stdout:   [$(_t_show "$OUT")]" "stderr:   [$(_t_show "$ERR")]"
}

# assert_json JSON KEY EXPECTED [MSG]: json_get JSON KEY must print EXPECTED.
assert_json() {
  local value
  value=$(json_get "$1" "$2") || { _t_assert_failed "${4:-no key $2}" \
    "json: [$(_t_show "$1")]"; return 1; }
  assert_eq "$3" "$value" "${4:-JSON key $2}"
}

# -- running the helper -------------------------------------------------------------

# _t_capture STDIN CMD...: run CMD with STDIN (a string, given verbatim) on
# standard input; set OUT, ERR (contents) and RC.  Files: $OUT_FILE, $ERR_FILE.
_t_capture() {
  local input=$1 errexit=
  shift
  OUT_FILE=$TEST_TMP/.run.out
  ERR_FILE=$TEST_TMP/.run.err
  printf '%s' "$input" >"$TEST_TMP/.run.in"
  case $- in *e*) errexit=1 ;; esac
  set +e
  case $(type -t "$1") in
    function|builtin) "$@" <"$TEST_TMP/.run.in" >"$OUT_FILE" 2>"$ERR_FILE" ;;
    *) timeout -k 5 "$HELPER_TIMEOUT" "$@" <"$TEST_TMP/.run.in" >"$OUT_FILE" 2>"$ERR_FILE" ;;
  esac
  RC=$?
  [ -z "$errexit" ] || set -e
  OUT=$(cat "$OUT_FILE")
  ERR=$(cat "$ERR_FILE")
  return 0
}

# run_helper STDIN [ARGS...]: run "$CARTO_AUTH" ARGS with the string STDIN on
# standard input (give the blank line yourself: $'host=x\n\n').  Sets OUT,
# ERR and RC (124 when it ran longer than $HELPER_TIMEOUT seconds); always
# returns 0.
run_helper() {
  if [ -z "${CARTO_AUTH:-}" ]; then
    echo "CARTO_AUTH is not set (path of the carto-auth binary under test)" >&2
    return 1
  fi
  local input=$1
  shift
  _t_capture "$input" "$CARTO_AUTH" "$@"
}

# run_helper_bg NAME STDIN [ARGS...]: start the helper in the background;
# results go to $TEST_TMP/bg/NAME.{out,err,rc}.  Then: wait_helpers, and
# helper_result NAME to load OUT, ERR and RC.
run_helper_bg() {
  local name=$1 input=$2
  shift 2
  mkdir -p "$TEST_TMP/bg"
  printf '%s' "$input" >"$TEST_TMP/bg/$name.in"
  (
    set +e
    timeout -k 5 "$HELPER_TIMEOUT" "$CARTO_AUTH" "$@" <"$TEST_TMP/bg/$name.in" \
      >"$TEST_TMP/bg/$name.out" 2>"$TEST_TMP/bg/$name.err"
    echo $? >"$TEST_TMP/bg/$name.rc"
  ) &
  _T_BG_PIDS+=("$!")
}
_T_BG_PIDS=()

wait_helpers() {
  local pid
  for pid in "${_T_BG_PIDS[@]}"; do wait "$pid" || true; done
  _T_BG_PIDS=()
}

helper_result() {
  OUT=$(cat "$TEST_TMP/bg/$1.out")
  ERR=$(cat "$TEST_TMP/bg/$1.err")
  RC=$(cat "$TEST_TMP/bg/$1.rc")
}

# kv_get TEXT KEY: the value of the first "KEY=value" line of TEXT.
kv_get() {
  local line
  while IFS= read -r line; do
    if [ "${line%%=*}" == "$2" ] && [[ $line == *=* ]]; then
      printf '%s\n' "${line#*=}"
      return 0
    fi
  done <<<"$1"
  return 1
}

# json_get JSON PATH: print the value at PATH ("a.b.0.c"); strings raw,
# anything else as JSON.  Returns 1 when the path does not exist.
json_get() {
  printf '%s' "$1" | "$PYTHON" -c '
import json, sys
value = json.load(sys.stdin)
for part in sys.argv[1].split(".") if sys.argv[1] else []:
    try:
        value = value[int(part)] if isinstance(value, list) else value[part]
    except (KeyError, IndexError, ValueError, TypeError):
        sys.exit(1)
print(value if isinstance(value, str) else json.dumps(value))
' "$2"
}

# json_file_get FILE PATH: json_get on a file's contents.
json_file_get() { json_get "$(cat "$1")" "$2"; }

# make_creds_file PATH CLIENT_ID SECRET API_BASE_URL: an M2M credentials
# file as the CARTO dashboard offers it, mode 600.
make_creds_file() {
  (umask 077 && "$PYTHON" - "$@" <<'EOF'
import json, sys
path, client_id, secret, api_base_url = sys.argv[1:5]
with open(path, "w") as f:
    json.dump({"api_base_url": api_base_url, "client_id": client_id,
               "client_secret": secret}, f, indent=2)
    f.write("\n")
EOF
  )
  chmod 600 "$1"
}

# free_port: print a TCP port on 127.0.0.1 that was free a moment ago. It
# is drawn below the kernel's ephemeral range (32768 and up here), so that no
# outgoing connection of a test running beside this one takes it meanwhile.
free_port() {
  "$PYTHON" -c 'import random, socket
lo, hi = 20000, 32000
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        if int(f.read().split()[0]) <= hi:
            lo = hi = 0   # an unusual range: let the kernel choose
except (OSError, ValueError, IndexError):
    pass
for _ in range(200):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", random.randint(lo, hi) if hi else 0))
        except OSError:
            continue
        print(s.getsockname()[1])
        break'
}

# wait_until SECONDS CMD [ARGS...]: poll CMD every 0.1 s until it succeeds;
# return 1 when SECONDS pass first.
wait_until() {
  local ms deadline
  ms=$(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }')
  deadline=$(($(date +%s%N) / 1000000 + ms))
  shift
  until "$@"; do
    if [ $(($(date +%s%N) / 1000000)) -ge "$deadline" ]; then return 1; fi
    sleep 0.1
  done
}

# -- shell completion ------------------------------------------------------------

# bash_complete FILE WORD...: what the bash completion in FILE offers for the
# command line "WORD..." (WORD 1 is the command; the last word is the one
# being completed), sorted, one per line.
bash_complete() {
  bash --norc --noprofile -c '
    . "$1" || exit 1
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    spec=$(complete -p "$1") || exit 1
    func=$(sed -n "s/.*-F \([^ ]*\) .*/\1/p" <<<"$spec")
    "$func" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"
  ' _ "$@" | sort
}

# -- the stand-in server -----------------------------------------------------------

# standin_start [--tls] [--expires-in N]: start a stand-in and point the
# helper at it.  Exports STANDIN_URL (base URL), STANDIN_PORT, STANDIN_PID,
# STANDIN_RUN_DIR (its port file, request log requests.jsonl, stderr.log),
# CARTO_AUTH_URL, CARTO_ACCOUNTS_URL, CARTO_AUTH_HOME, CARTO_AUTH_STORE=file,
# HOME, CARTO_AUTH_REDIRECT_URI (a free loopback port, so tests can run in
# parallel), BROWSER=browser.sh and STANDIN_BROWSER_LOG.  With --tls: HTTPS
# with a test CA ($TEST_TMP/certs/ca.pem, also exported as CURL_CA_BUNDLE and
# STANDIN_CA).  May be called again for a second server; the variables then
# describe the newest one (save the old ones first).
standin_start() {
  local tls='' args=() dir port pid i redirect_port
  while [ $# -gt 0 ]; do
    case $1 in
      --tls) tls=1 ;;
      --expires-in) args+=(--expires-in "$2"); shift ;;
      *) echo "standin_start: unknown option $1" >&2; return 2 ;;
    esac
    shift
  done
  # A folder of its own: a case runs in a subshell, where a counter would
  # start again from the parent's value and find an earlier server's port.
  dir=$(mktemp -d "$TEST_TMP/standin.XXXXXX")
  args+=(--port-file "$dir/port" --log "$dir/requests.jsonl" --parent-pid $$)
  if [ -n "$tls" ]; then
    if [ ! -f "$TEST_TMP/certs/server.pem" ]; then
      "$STANDIN_HOME/mkcerts.sh" "$TEST_TMP/certs" || return 1
    fi
    args+=(--tls-cert "$TEST_TMP/certs/server.pem" --tls-key "$TEST_TMP/certs/server.key")
  fi
  "$PYTHON" "$STANDIN_HOME/carto_standin.py" "${args[@]}" \
    >"$dir/stdout.log" 2>"$dir/stderr.log" </dev/null &
  pid=$!
  echo "$pid" >>"$TEST_TMP/.standin_pids"
  for ((i = 0; i < 100; i++)); do
    [ -s "$dir/port" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "standin_start: the stand-in exited:" >&2
      cat "$dir/stderr.log" >&2
      return 1
    fi
    sleep 0.05
  done
  if [ ! -s "$dir/port" ]; then
    echo "standin_start: no port after 5 s" >&2
    cat "$dir/stderr.log" >&2
    return 1
  fi
  port=$(cat "$dir/port")
  export STANDIN_PORT=$port STANDIN_PID=$pid STANDIN_RUN_DIR=$dir
  if [ -n "$tls" ]; then
    export STANDIN_URL=https://127.0.0.1:$port
    export STANDIN_CA=$TEST_TMP/certs/ca.pem CURL_CA_BUNDLE=$TEST_TMP/certs/ca.pem
  else
    export STANDIN_URL=http://127.0.0.1:$port
    unset STANDIN_CA
  fi
  export CARTO_AUTH_URL=$STANDIN_URL CARTO_ACCOUNTS_URL=$STANDIN_URL/accounts
  export CARTO_AUTH_HOME=$TEST_TMP/home CARTO_AUTH_STORE=file
  export HOME=$TEST_TMP/userhome
  redirect_port=$(free_port)
  export CARTO_AUTH_REDIRECT_URI=http://localhost:$redirect_port/callback/
  export BROWSER=$STANDIN_BROWSER STANDIN_BROWSER_LOG=$TEST_TMP/browser.log
}

# standin_stop [PID]: stop one stand-in (default: the newest) and wait for it.
standin_stop() {
  local pid=${1:-${STANDIN_PID:-}} i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

standin_stop_all() {
  local pid
  [ -f "$TEST_TMP/.standin_pids" ] || return 0
  while read -r pid; do
    standin_stop "$pid"
  done <"$TEST_TMP/.standin_pids"
  : >"$TEST_TMP/.standin_pids"
}

# standin_ctl METHOD PATH [JSON]: call the control API of $STANDIN_URL; print
# the answer body; fail (with a message) unless the status is 200.
standin_ctl() {
  local method=$1 path=$2 out status extra=()
  [ -z "${STANDIN_CA:-}" ] || extra+=(--cacert "$STANDIN_CA")
  [ -z "${3:-}" ] || extra+=(-H 'Content-Type: application/json' --data-binary "$3")
  out=$(curl -q -sS --noproxy '*' --max-time 10 "${extra[@]}" -X "$method" \
    -w '\n%{http_code}' "$STANDIN_URL$path") || {
    echo "standin_ctl: $method $path failed" >&2
    return 1
  }
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  if [ "$status" != 200 ]; then
    echo "standin_ctl: $method $path: HTTP $status: $out" >&2
    return 1
  fi
  printf '%s\n' "$out"
}

# standin_request_json [PATH]: the recorded requests (optionally only those
# to PATH) as a JSON list.
standin_request_json() {
  local query=
  [ -z "${1:-}" ] || query="?path=$1"
  standin_ctl GET "/_control/requests$query"
}

# standin_requests [PATH [GRANT_TYPE]]: how many requests were recorded
# (to PATH; with that form grant_type).
standin_requests() {
  standin_request_json "${1:-}" | "$PYTHON" -c '
import json, sys
grant = sys.argv[1]
reqs = json.load(sys.stdin)
print(sum(1 for r in reqs if not grant or r.get("form", {}).get("grant_type") == grant))
' "${2:-}"
}

# standin_last_form KEY [PATH]: form field KEY of the last request to PATH
# (default /oauth/token).
standin_last_form() {
  json_get "$(standin_request_json "${2:-/oauth/token}")" "-1.form.$1"
}

standin_fault() { standin_ctl POST /_control/faults "$1" >/dev/null; }
standin_reset() { standin_ctl POST /_control/reset >/dev/null; }
standin_state() { standin_ctl GET /_control/state; }
standin_settings() { standin_ctl POST /_control/settings "$1" >/dev/null; }
standin_revoke_refresh() { standin_ctl POST /_control/revoke_refresh >/dev/null; }
standin_revoke_access() { standin_ctl POST /_control/revoke_access >/dev/null; }

# standin_client ID SECRET [API_BASE_URL]: register an M2M client.
standin_client() {
  local body
  body=$("$PYTHON" -c '
import json, sys
d = {"client_id": sys.argv[1], "client_secret": sys.argv[2]}
if len(sys.argv) > 3 and sys.argv[3]:
    d["api_base_url"] = sys.argv[3]
print(json.dumps(d))' "$@")
  standin_ctl POST /_control/clients "$body" >/dev/null
}

# standin_authorize_location URL: GET an authorize URL (as a browser would,
# without following the redirect) and print the Location it redirects to.
standin_authorize_location() {
  local tls_args=()
  [ -z "${STANDIN_CA:-}" ] || tls_args=(--cacert "$STANDIN_CA")
  curl -q -sS --noproxy '*' --max-time 10 "${tls_args[@]}" -o /dev/null \
    -w '%{redirect_url}' "$1"
}

# standin_authorize_code URL: the authorization code the stand-in issues for
# URL (for tests of the paste-the-code flow).
standin_authorize_code() {
  local location
  location=$(standin_authorize_location "$1") || return 1
  [[ $location =~ [?\&]code=([^\&#]*) ]] || {
    echo "standin_authorize_code: no code in [$location]" >&2
    return 1
  }
  printf '%s\n' "${BASH_REMATCH[1]}"
}
