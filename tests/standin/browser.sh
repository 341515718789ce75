#!/bin/bash
# browser.sh URL -- a scripted "browser" for the OAuth login tests ($BROWSER).
#
# Like a real browser it returns at once and does its work in the background:
# it opens the authorize URL on the stand-in (which logs the user in without
# asking), reads the redirect and visits the loopback callback.
#
# Environment:
#   STANDIN_BROWSER_MODE  normal (default)   visit the callback
#                         favicon-first      GET /favicon.ico on the callback's
#                                            host:port first, then the callback
#                         wrong-state-first  visit the callback with state=wrong
#                                            first, then the real one
#                         never              visit nothing (timeout tests)
#                         error              the test made /authorize answer
#                                            with an error; follow it as is
#   STANDIN_BROWSER_LOG   file to append to (default: nothing is logged)
#   STANDIN_BROWSER_DELAY seconds to wait before visiting (default 0)
#   CURL_CA_BUNDLE        trust for an HTTPS stand-in (curl reads it itself)
#
# Log lines (appended):
#   URL <url given>                     at once, before returning
#   AUTHORIZE <http status>
#   LOCATION <redirect, code value replaced by "...">
#   FAVICON <status>                    favicon-first only
#   WRONG_STATE <status>, then its body wrong-state-first only
#   CALLBACK <status>, then the callback page's body
#   DONE <mode>                         when the background work has finished
# curl errors, if any, appear in the log too.  The URL carries no secret (only
# the code challenge and state); the authorization code is never logged.
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
  normal|favicon-first|wrong-state-first|error) ;;
  never) printf 'DONE never\n' >>"$log"; exit 0 ;;
  *) printf 'ERROR unknown STANDIN_BROWSER_MODE %s\n' "$mode" >>"$log"; exit 2 ;;
esac

fetch() {
  # Loopback only: never through a proxy; bounded in time.
  curl -q -sS --noproxy '*' --connect-timeout 5 --max-time 30 "$@"
}

# GET a page; log "<LABEL> <status>" then the body.
visit() {
  local label=$1 target=$2 body status
  body=$(mktemp)
  status=$(fetch -o "$body" -w '%{http_code}' "$target") || status="${status:-000}"
  printf '%s %s\n' "$label" "$status"
  cat "$body"
  printf '\n'
  rm -f "$body"
}

browse() {
  sleep "$delay"
  local out status location
  # The authorize request, without following the redirect.
  out=$(fetch -o /dev/null -w '%{http_code} %{redirect_url}' "$url") || true
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
      status=$(fetch -o /dev/null -w '%{http_code}' "$origin/favicon.ico") || true
      printf 'FAVICON %s\n' "${status:-000}"
      ;;
    wrong-state-first)
      visit WRONG_STATE "$(printf '%s' "$location" | sed -E 's/([?&]state=)[^&#]*/\1wrong/')"
      ;;
  esac
  visit CALLBACK "$location"
}

# Detach like a real browser: the caller does not wait, and our output never
# lands on its standard streams.
( browse; printf 'DONE %s\n' "$mode" ) </dev/null >>"$log" 2>&1 &
exit 0
