#!/bin/bash
# Secrets never leave the helper's memory through its children or its own
# process listing: the browser it starts for an OAuth login gets the
# authorize URL and nothing else (no token, refresh token, PKCE verifier or
# client secret in its arguments or environment, no variable added), and
# while an M2M request is in flight neither /proc/PID/cmdline nor
# /proc/PID/environ of the helper, nor any child, holds the client secret.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

standin_start
CREDS=$TEST_TMP/creds.json
make_creds_file "$CREDS" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
# tests/lib.sh exports the stand-in's secrets; the helper must not get them
# from us, or the checks below would find our own copy.
export -n STANDIN_SECRET_1 STANDIN_SECRET_2

# assert_lacks FILE WHAT SECRET...: none of the secrets occurs in FILE.
assert_lacks() {
  local file=$1 what=$2 secret
  shift 2
  for secret in "$@"; do
    [ -n "$secret" ] || continue
    if grep -qF -- "$secret" "$file"; then
      echo "a secret (${secret:0:6}...) is in $what" >&2
      return 1
    fi
  done
}

# --- the browser --------------------------------------------------------------

# A browser that records its arguments and environment, then does what the
# stand-in's scripted browser does.
SPY=$TEST_TMP/spy-browser.sh
cat >"$SPY" <<EOF
#!/bin/bash
printf '%s\n' "\$#" >"$TEST_TMP/browser.argc"
printf '%s\0' "\$@" >"$TEST_TMP/browser.argv"
env -0 >"$TEST_TMP/browser.env"
exec "$STANDIN_BROWSER" "\$@"
EOF
chmod +x "$SPY"

case_browser_gets_only_the_url() {
  export CARTO_AUTH_HOME=$TEST_TMP/home-browser
  env -0 >"$TEST_TMP/parent.env"
  BROWSER=$SPY run_helper '' login
  assert_rc 0
  assert_eq 1 "$(cat "$TEST_TMP/browser.argc")" "the browser gets one argument"
  local url
  url=$(tr -d '\0' <"$TEST_TMP/browser.argv")
  # the one-time loopback start page: no state, no PKCE challenge
  assert_match "$url" '^http://(localhost|127\.0\.0\.1):[0-9]+/start/[A-Za-z0-9_-]+$' \
    "the argument is the loopback start page"

  local tokfile=$CARTO_AUTH_HOME/token_oauth.json access refresh verifier
  access=$(json_file_get "$tokfile" access_token)
  refresh=$(json_file_get "$tokfile" refresh_token)
  verifier=$(standin_last_form code_verifier)
  assert_nonempty "$access"
  assert_nonempty "$refresh"
  assert_nonempty "$verifier"
  assert_lacks "$TEST_TMP/browser.argv" "the browser's arguments" \
    "$access" "$refresh" "$verifier" "$STANDIN_SECRET_1"
  assert_lacks "$TEST_TMP/browser.env" "the browser's environment" \
    "$access" "$refresh" "$verifier" "$STANDIN_SECRET_1"
  assert_lacks "$ERR_FILE" "stderr" "$access" "$refresh" "$verifier"

  # Every variable the browser sees, the helper was given (bash itself
  # sets PWD, SHLVL, _ and OLDPWD; valgrind, under tests/valgrind, its own).
  local added ignore='PWD|OLDPWD|SHLVL|_'
  [ -z "${CARTO_VG_REAL:-}" ] ||
    ignore+='|LD_PRELOAD|LD_LIBRARY_PATH|GLIBCPP_FORCE_NEW|GLIBCXX_FORCE_NEW'
  added=$(comm -13 <(tr '\0' '\n' <"$TEST_TMP/parent.env" | cut -d= -f1 | sort -u) \
    <(tr '\0' '\n' <"$TEST_TMP/browser.env" | cut -d= -f1 | sort -u) |
    grep -vxE "$ignore" || true)
  assert_empty "$added" "variables the helper added for the browser"
}
t_case "the browser gets the start page's URL and nothing secret" case_browser_gets_only_the_url

# --- the helper's own process ------------------------------------------------------

# The pids of PID and all its descendants.
tree() {
  local pid=$1 child
  echo "$pid"
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
    tree "$child"
  done
}

# check_proc PID SECRET...: while PID runs, neither its command line nor its
# environment (nor those of its children) holds a secret.
check_proc() {
  local pid=$1 p
  shift
  for p in $(tree "$pid"); do
    tr '\0' '\n' </proc/"$p"/cmdline >"$TEST_TMP/proc.cmdline" 2>/dev/null || continue
    tr '\0' '\n' </proc/"$p"/environ >"$TEST_TMP/proc.environ" 2>/dev/null || continue
    assert_lacks "$TEST_TMP/proc.cmdline" "/proc/$p/cmdline" "$@"
    assert_lacks "$TEST_TMP/proc.environ" "/proc/$p/environ" "$@"
  done
}

# m2m_in_flight NAME STDIN [ARGS...]: runs a get whose token request the
# stand-in holds for 2 s, and checks the helper's process meanwhile.
m2m_in_flight() {
  local name=$1 input=$2 pid
  shift 2
  export CARTO_AUTH_HOME=$TEST_TMP/home-$name
  standin_reset
  standin_fault '{"kind": "delay", "seconds": 2, "path": "/oauth/token"}'
  printf '%s' "$input" >"$TEST_TMP/$name.in"
  "$CARTO_AUTH" "$@" get <"$TEST_TMP/$name.in" >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
  pid=$!
  # The request has arrived: the secret is in the helper's memory now.
  wait_until 30 eval '[ "$(standin_requests /oauth/token)" -ge 1 ]'
  check_proc "$pid" "$STANDIN_SECRET_1"
  local rc=0
  wait "$pid" || rc=$?
  assert_eq 0 "$rc" "the get succeeds"
  assert_lacks "$TEST_TMP/$name.err" "stderr" "$STANDIN_SECRET_1"
  grep -q '^password=eyJ' "$TEST_TMP/$name.out"
}

case_m2m_file() {
  m2m_in_flight file $'credentials_file='"$CREDS"$'\n\n'
}
t_case "M2M from a file: no secret in the helper's command line or environment" case_m2m_file

case_m2m_option() {
  m2m_in_flight option $'protocol=https\nhost=gcp-us-east1.api.carto.com\n\n' --m2m "$CREDS"
}
t_case "M2M with --m2m FILE (git's helper line): only the path is in argv" case_m2m_option

case_m2m_inline() {
  m2m_in_flight inline "client_id=$STANDIN_CLIENT_1"$'\n'"client_secret=$STANDIN_SECRET_1"$'\n'"api_base_url=$STANDIN_URL"$'\n\n'
}
t_case "M2M with an inline client_secret: it stays off argv and environment" case_m2m_inline

t_done
