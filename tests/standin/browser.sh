#!/bin/bash
# browser.sh URL -- a scripted "browser" for the OAuth login tests ($BROWSER).
#
# Like a real browser it returns at once and does its work in the background,
# with a cookie jar of its own: it opens the URL it was given (carto-auth's
# one-time loopback start page), follows its redirect to the authorize URL
# on the stand-in (which logs the user in without asking), reads that
# redirect and visits the loopback callback with the cookie the start page
# set.  Given an authorize URL directly, it starts there.
#
# Environment:
#   STANDIN_BROWSER_MODE  normal (default)   visit the callback
#                         favicon-first      GET /favicon.ico on the callback's
#                                            host:port first, then the callback
#                         wrong-state-first  visit the callback with state=wrong
#                                            first, then the real one
#                         no-cookie-first    visit the callback without the
#                                            cookie first, then with it
#                         start-twice        open the start page a second time
#                                            right after the first
#                         never              visit nothing (timeout tests)
#                         error              the test made /authorize answer
#                                            with an error; follow it as is
#   STANDIN_BROWSER_HOLD  file: wait (up to 60 s) until it exists before
#                         opening anything; "stop" in it: give up
#   STANDIN_BROWSER_PAUSE file: the same, after the start page, before the
#                         authorize URL
#   STANDIN_BROWSER_LOG   file to append to (default: nothing is logged)
#   STANDIN_BROWSER_DELAY seconds to wait before visiting (default 0)
#   CURL_CA_BUNDLE        trust for an HTTPS stand-in (curl reads it itself)
#
# Log lines (appended):
#   URL <url given>                     at once, before returning
#   START <http status>                 the loopback start page
#   START_AGAIN <status>, then its body start-twice only
#   AUTHORIZE <http status>
#   LOCATION <redirect, code value replaced by "...">
#   FAVICON <status>                    favicon-first only
#   WRONG_STATE <status>, then its body wrong-state-first only
#   NO_COOKIE <status>, then its body   no-cookie-first only
#   CALLBACK <status>, then the callback page's body
#   DONE <mode>                         when the background work has finished
# curl errors, if any, appear in the log too.  The URL given carries no
# secret; the authorization code and the cookie are never logged.
set -u

url=${1:-}
if [ -z "$url" ]; then
  echo "usage: browser.sh URL" >&2
  exit 2
fi
log=${STANDIN_BROWSER_LOG:-/dev/null}
mode=${STANDIN_BROWSER_MODE:-normal}
delay=${STANDIN_BROWSER_DELAY:-0}

printf 'URL %s\n' "$url" >>"$log"

case $mode in
  normal|favicon-first|wrong-state-first|no-cookie-first|start-twice|error) ;;
  never) printf 'DONE never\n' >>"$log"; exit 0 ;;
  *) printf 'ERROR unknown STANDIN_BROWSER_MODE %s\n' "$mode" >>"$log"; exit 2 ;;
esac

fetch() {
  # Loopback only: never through a proxy; bounded in time.
  curl -q -sS --noproxy '*' --connect-timeout 5 --max-time 30 "$@"
}

# GET a page with the cookie jar; log "<LABEL> <status>" then the body.
visit() {
  local label=$1 target=$2 body status
  body=$(mktemp)
  status=$(fetch -b "$jar" -c "$jar" -o "$body" -w '%{http_code}' "$target") ||
    status="${status:-000}"
  printf '%s %s\n' "$label" "$status"
  cat "$body"
  printf '\n'
  rm -f "$body"
}

# hold FILE: wait until FILE exists (60 s at most); 1 when it says "stop".
hold() {
  local file=$1 i
  [ -n "$file" ] || return 0
  for ((i = 0; i < 600; i++)); do
    [ -e "$file" ] && break
    sleep 0.1
  done
  ! grep -qx stop "$file" 2>/dev/null
}

# Whether a URL is carto-auth's loopback start page (the stand-in is on
# loopback too: the path tells them apart).
is_start_page() {
  [[ $1 =~ ^http://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]+)?/start/ ]]
}

browse() {
  sleep "$delay"
  hold "${STANDIN_BROWSER_HOLD:-}" || return 0
  local out status location authorize=$url
  if is_start_page "$url"; then
    out=$(fetch -b "$jar" -c "$jar" -o /dev/null -w '%{http_code} %{redirect_url}' "$url") || true
    status=${out%% *}
    location=${out#* }
    printf 'START %s\n' "${status:-000}"
    if [ -z "$location" ] || [ "$location" = "$out" ]; then
      printf 'NO_REDIRECT\n'
      return 0
    fi
    authorize=$location
    [ "$mode" != start-twice ] || visit START_AGAIN "$url"
    hold "${STANDIN_BROWSER_PAUSE:-}" || return 0
  fi

  # The authorize request, without following the redirect.
  out=$(fetch -o /dev/null -w '%{http_code} %{redirect_url}' "$authorize") || true
  status=${out%% *}
  location=${out#* }
  printf 'AUTHORIZE %s\n' "${status:-000}"
  if [ -z "$location" ] || [ "$location" = "$out" ]; then
    printf 'NO_REDIRECT\n'
    return 0
  fi
  printf 'LOCATION %s\n' "$(printf '%s' "$location" | sed -E 's/([?&]code=)[^&#]*/\1.../')"

  case $mode in
    favicon-first)
      local origin
      origin=$(printf '%s' "$location" | sed -E 's#^([A-Za-z]+://[^/?#]+).*#\1#')
      status=$(fetch -b "$jar" -o /dev/null -w '%{http_code}' "$origin/favicon.ico") || true
      printf 'FAVICON %s\n' "${status:-000}"
      ;;
    wrong-state-first)
      visit WRONG_STATE "$(printf '%s' "$location" | sed -E 's/([?&]state=)[^&#]*/\1wrong/')"
      ;;
    no-cookie-first)
      local saved=$jar
      jar=/dev/null
      visit NO_COOKIE "$location"
      jar=$saved
      ;;
  esac
  visit CALLBACK "$location"
}

# Detach like a real browser: the caller does not wait, and our output never
# lands on its standard streams.
(
  jar=$(mktemp)
  browse
  rm -f "$jar"
  printf 'DONE %s\n' "$mode"
) </dev/null >>"$log" 2>&1 &
exit 0
