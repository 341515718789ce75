#!/bin/bash
# Local tampering with the file store (docs/reliability.md, "Local
# tampering"): planted symbolic links are never followed, folders and files
# open to other users are made private (or refused when they belong to
# someone else), damaged token files are set aside with a clear warning and
# replaced by a fresh token; nothing crashes or hangs.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/reliability_lib.sh"

standin_start
CREDS=$TEST_TMP/creds.json
make_creds_file "$CREDS" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
GET=$'credentials_file='"$CREDS"$'\n\n'
NOCACHE=$'credentials_file='"$CREDS"$'\nuse_cache=false\n\n'
FUTURE=$(($(date +%s) + 86400))

# A token file for our identity that an attacker would like us to hand out.
planted_token() {
  printf '{"api_base_url": "%s", "access_token": "planted-token-0123456789", "expiration": %s}\n' \
    "$STANDIN_URL" "$FUTURE"
}

# fresh_home NAME: a store with one token in it; sets HOME_DIR, IDFILE, TOK.
fresh_home() {
  export CARTO_AUTH_HOME=$TEST_TMP/$1
  run "$GET" get
  assert_rc 0
  TOK=$(kv_get "$OUT" password)
  IDFILE=$CARTO_AUTH_HOME/tokens/$(ls "$CARTO_AUTH_HOME/tokens")
}

requests() { standin_requests /oauth/token; }

# -- symbolic links --------------------------------------------------------------

case_symlink_token_files() {
  fresh_home links
  local victim=$TEST_TMP/victim.json before
  planted_token >"$victim"
  cp "$victim" "$TEST_TMP/victim.orig"
  ln -sf "$victim" "$CARTO_AUTH_HOME/token_m2m.json"
  ln -sf "$victim" "$IDFILE"
  before=$(requests)
  run "$GET" get
  assert_rc 0
  assert_ne "planted-token-0123456789" "$(kv_get "$OUT" password)" "the link is not read"
  assert_contains "$ERR" "warning: ignoring token file: refusing to read $IDFILE: it is a symbolic link; it will be replaced"
  assert_contains "$ERR" "refusing to read $CARTO_AUTH_HOME/token_m2m.json: it is a symbolic link"
  assert_eq $((before + 1)) "$(requests)" "a fresh token instead"
  cmp -s "$victim" "$TEST_TMP/victim.orig" || { echo "  the link's target was written" >&2; return 1; }
  if [ -L "$IDFILE" ] || [ -L "$CARTO_AUTH_HOME/token_m2m.json" ]; then
    echo "  a link is still there" >&2
    return 1
  fi
  token_files_whole "$CARTO_AUTH_HOME" >/dev/null
}
t_case "symlinks planted at the token files: not followed, target untouched, replaced" case_symlink_token_files

case_symlink_folders() {
  local real=$TEST_TMP/realhome before
  fresh_home realhome
  # The store folder itself is a link: refused, with or without the cache.
  ln -s "$real" "$TEST_TMP/linkhome"
  export CARTO_AUTH_HOME=$TEST_TMP/linkhome
  before=$(store_digest "$real")
  run "$GET" get
  assert_failure "refusing to use $TEST_TMP/linkhome: it is a symbolic link"
  run "$NOCACHE" get
  assert_failure "refusing to use $TEST_TMP/linkhome: it is a symbolic link"
  assert_eq "$before" "$(store_digest "$real")" "the target folder is untouched"
  # Its tokens/ or locks/ folder is a link to somewhere else.
  for sub in tokens locks; do
    fresh_home "sub-$sub"
    mkdir -p "$TEST_TMP/elsewhere-$sub"
    rm -rf "${CARTO_AUTH_HOME:?}/$sub"
    ln -s "$TEST_TMP/elsewhere-$sub" "$CARTO_AUTH_HOME/$sub"
    run "$NOCACHE" get
    assert_failure "refusing to use $CARTO_AUTH_HOME/$sub: it is a symbolic link"
    assert_eq "" "$(ls -A "$TEST_TMP/elsewhere-$sub")" "nothing written through the $sub link"
  done
}
t_case "a symlinked store folder (or tokens/, locks/): refused with a clear message" case_symlink_folders

case_symlink_lock() {
  fresh_home locklink
  local lock victim=$TEST_TMP/lockvictim
  lock=$(ls "$CARTO_AUTH_HOME"/locks/m2m-*.lock)
  echo "precious" >"$victim"
  rm -f "$lock"
  ln -s "$victim" "$lock"
  run "$NOCACHE" get
  assert_failure "refusing to use lock $lock: it is a symbolic link"
  assert_eq "precious" "$(cat "$victim")"
}
t_case "a symlink planted at the lock file: refused, target untouched" case_symlink_lock

# -- permissions ----------------------------------------------------------------

case_open_folders_repaired() {
  fresh_home openhome
  chmod 777 "$CARTO_AUTH_HOME" "$CARTO_AUTH_HOME/tokens"
  run "$GET" get
  assert_rc 0
  assert_eq "$TOK" "$(kv_get "$OUT" password)" "the token is still served"
  assert_contains "$ERR" "warning: $CARTO_AUTH_HOME was open to other users (mode 0777); made it private (0700)"
  assert_contains "$ERR" "warning: $CARTO_AUTH_HOME/tokens was open to other users (mode 0777); made it private (0700)"
  assert_file_mode "$CARTO_AUTH_HOME" 700
  assert_file_mode "$CARTO_AUTH_HOME/tokens" 700
  # The next call has nothing to say.
  run "$GET" get
  assert_empty "$ERR"
}
t_case "a store folder open to others (0777): made 0700, with a warning" case_open_folders_repaired

case_readable_token_file() {
  fresh_home readable
  chmod 644 "$IDFILE" "$CARTO_AUTH_HOME/token_m2m.json"
  run "$GET" get
  assert_rc 0
  assert_eq "$TOK" "$(kv_get "$OUT" password)"
  assert_contains "$ERR" "warning: $IDFILE was readable by other users; made it private (0600)"
  assert_file_mode "$IDFILE" 600
  assert_file_mode "$CARTO_AUTH_HOME/token_m2m.json" 600
  assert_not_contains "$ERR" "$TOK"
}
t_case "a token file readable by others: made 0600 before it is used, with a warning" case_readable_token_file

case_foreign_token_file() {
  fresh_home foreign
  local before
  planted_token >"$IDFILE"
  planted_token >"$CARTO_AUTH_HOME/token_m2m.json"
  chown 65534:65534 "$IDFILE" "$CARTO_AUTH_HOME/token_m2m.json"
  before=$(requests)
  run "$GET" get
  assert_rc 0
  assert_ne "planted-token-0123456789" "$(kv_get "$OUT" password)"
  assert_contains "$ERR" "refusing to read $IDFILE: owned by another user"
  assert_eq $((before + 1)) "$(requests)"
  assert_eq "0 0" "$(stat -c '%u %g' "$IDFILE")" "replaced by our own file"
}
# Giving a file to another user needs root.
if [ "$(id -u)" = 0 ]; then
  t_case "a token file owned by another user: ignored and replaced" case_foreign_token_file
else
  t_skip "a token file owned by another user: ignored and replaced" "needs root"
fi

case_readable_credentials() {
  local f=$TEST_TMP/open-creds.json
  make_creds_file "$f" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
  chmod 644 "$f"
  export CARTO_AUTH_HOME=$TEST_TMP/opencreds
  run $'credentials_file='"$f"$'\n\n' get
  assert_rc 0
  assert_eq "carto-auth: warning: $f is readable by other users; protect it with: chmod 600 $f" "$ERR"
  assert_no_known_secret "$ERR"
  assert_file_mode "$f" 644 "the user's own file is left as it is"
}
t_case "a credentials file readable by others: a warning (no secret), not a failure" case_readable_credentials

# -- damaged token files ----------------------------------------------------------

# damaged KIND: write a damaged file of that kind to stdout.
damaged() {
  case $1 in
    truncated) printf '{"api_base_url": "%s", "access_token": "eyJhbGciOiJSUzI1NiJ9.eyJzd' "$STANDIN_URL" ;;
    notjson) printf 'this is not JSON\n' ;;
    binary) head -c 4096 /dev/urandom ;;
    wrongtypes) printf '{"api_base_url": ["x"], "access_token": 12345, "expiration": "soon"}\n' ;;
    nulltoken) printf '{"api_base_url": "%s", "access_token": null, "expiration": 1e999}\n' "$STANDIN_URL" ;;
    array) printf '[1, 2, 3]\n' ;;
    badmode) printf '{"api_base_url": "%s", "access_token": "eyJx", "expiration": %s, "mode": "saml"}\n' "$STANDIN_URL" "$FUTURE" ;;
    empty) ;;
    huge) "$PYTHON" -c 'import json, sys; print(json.dumps({"api_base_url": sys.argv[1], "access_token": "eyJhuge", "expiration": int(sys.argv[2]), "padding": "x" * 300000}))' "$STANDIN_URL" "$FUTURE" ;;
  esac
}

# The warning for each kind, after the file's name.
why() {
  case $1 in
    truncated|notjson|binary|array) echo ": it is not a JSON object (truncated?); it will be replaced" ;;
    wrongtypes|nulltoken) echo ": access_token, api_base_url or expiration is missing or of the wrong type; it will be replaced" ;;
    badmode) echo ': its mode is neither "m2m" nor "oauth"; it will be replaced' ;;
    empty) echo ": it is empty; it will be replaced" ;;
    huge) echo ": larger than 262144 bytes; it will be replaced" ;;
  esac
}

case_damaged_files() {
  local kind before t0 ms
  for kind in truncated notjson binary wrongtypes nulltoken array badmode empty huge; do
    fresh_home "damaged-$kind"
    damaged "$kind" >"$IDFILE"
    damaged "$kind" >"$CARTO_AUTH_HOME/token_m2m.json"
    before=$(requests)
    t0=$(now_ms)
    run "$GET" get
    ms=$(elapsed_since "$t0")
    assert_rc 0 "$kind: a fresh token"
    assert_eq $((before + 1)) "$(requests)" "$kind: one new token request"
    assert_ne "$TOK" "$(kv_get "$OUT" password)"
    assert_contains "$ERR" "$IDFILE$(why "$kind")"
    if [ "$kind" = huge ]; then
      assert_contains "$ERR" "warning: ignoring token file: cannot read $IDFILE"
    else
      assert_contains "$ERR" "warning: ignoring damaged token file $IDFILE"
    fi
    assert_eq 2 "$(printf '%s\n' "$ERR" | wc -l)" "$kind: one warning per damaged file"
    assert_between 0 3000 "$ms" "$kind: no hang (ms)"
    token_files_whole "$CARTO_AUTH_HOME" >/dev/null
    assert_eq "$(kv_get "$OUT" password)" "$(json_file_get "$IDFILE" access_token)" "$kind: replaced"
    echo "  $kind: $(printf '%s\n' "$ERR" | head -n 1)" >&2
  done
}
t_case "damaged token files (truncated, not JSON, wrong types, empty, > 256 KiB...): warned, replaced" case_damaged_files

case_special_files() {
  local before t0
  # A FIFO: never opened for a blocking read.
  fresh_home fifo
  rm -f "$IDFILE" "$CARTO_AUTH_HOME/token_m2m.json"
  mkfifo -m 600 "$IDFILE" "$CARTO_AUTH_HOME/token_m2m.json"
  before=$(requests)
  t0=$(now_ms)
  run "$GET" get
  assert_rc 0
  assert_between 0 3000 "$(elapsed_since "$t0")" "no hang on a FIFO (ms)"
  assert_contains "$ERR" "warning: ignoring token file: cannot read $IDFILE: not a regular file; it will be replaced"
  assert_eq $((before + 1)) "$(requests)"
  if [ ! -f "$IDFILE" ] || [ -p "$IDFILE" ]; then
    echo "  the FIFO was not replaced" >&2
    return 1
  fi
  token_files_whole "$CARTO_AUTH_HOME" >/dev/null
  # A folder where the token file should be: not a token; the new token is
  # handed out, and the user is told it could not be stored.
  fresh_home dir
  rm -f "$IDFILE" "$CARTO_AUTH_HOME/token_m2m.json"
  mkdir -m 700 "$IDFILE" "$CARTO_AUTH_HOME/token_m2m.json"
  run "$GET" get
  assert_rc 0
  assert_match "$(kv_get "$OUT" password)" '^eyJ'
  assert_contains "$ERR" "cannot read $IDFILE: not a regular file"
  assert_contains "$ERR" "warning: the new token could not be stored: cannot replace $IDFILE"
}
t_case "a FIFO or a folder at the token file: no hang, no crash, clear warnings" case_special_files

# Another user holds a shared flock on a folder anyone may write to (here a
# sticky 1777 folder, as /tmp is), where the user keeps a cache_file. The
# folder lock is only for folders the user alone may write, so the save
# goes ahead at once instead of waiting out the lock.
case_foreign_folder_lock() {
  local shared holder t0 took as_other=()
  # Root acts as another user (uid 65534); anyone else holds the lock
  # itself, which the folder's mode makes just as foreign.
  if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    as_other=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  fi
  shared=$(mktemp -d /tmp/carto-auth-shared.XXXXXX)
  chmod 1777 "$shared"
  on_exit rm -rf "$shared"
  "${as_other[@]}" env -i PATH=/usr/local/bin:/usr/bin:/bin python3 -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
fcntl.flock(fd, fcntl.LOCK_SH)
open(os.path.join(sys.argv[1], "ready"), "w").close()
time.sleep(60)' "$shared" &
  holder=$!
  wait_until 10 test -e "$shared/ready"
  t0=$(date +%s%N)
  run_helper $'credentials_file='"$CREDS"$'\ncache_file='"$shared/token.json"$'\nuse_cache=false\n\n' get
  took=$(( ($(date +%s%N) - t0) / 1000000 ))
  kill "$holder" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
  assert_rc 0
  assert_file_exists "$shared/token.json" "the token was saved"
  assert_file_mode "$shared/token.json" 600
  [ "$took" -lt 5000 ] || { echo "another user's lock held the save up for $took ms" >&2; return 1; }
}
t_case "another user's lock on a shared folder does not hold up a save there" case_foreign_folder_lock

t_case "no secret in any stderr of this script" case_no_secret_anywhere
t_done
