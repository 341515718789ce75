#!/bin/bash
# bench/bench.sh -- how fast carto-auth answers, next to the tools it is
# measured against (docs/performance.md). Run it as scripts/bench.sh.
#
#   scripts/bench.sh [-n RUNS] [-w WARMUP] [--items N] [--use-build DIR] [--no-keyring]
#
# Builds a Release carto-auth in build-bench/ (or uses the binaries in DIR),
# compiles the timing driver (bench/runner.c) and the exec floor
# (bench/floor.c), starts the CARTO stand-in, and measures each row with
# both commands alternating run by run (RUNS timed runs each, default 50,
# after WARMUP untimed ones, default 5). Prints a Markdown table: medians,
# ratios, peak RSS. The keyring row runs inside a private D-Bus session
# with gnome-keyring (tests/keyring_session.sh); without one it says
# "skipped". The two "among N git credentials" rows store N general git
# credentials (--items, default 1000) in the file store and in the keyring
# and look up the last one, next to git credential-store on the same N
# entries and secret-tool lookup on the same N items.
#
# Raises its scheduling priority when allowed (real-time FIFO, or nice
# -20); CARTO_BENCH_NORMAL_PRIORITY=1 keeps normal priority.
#
# Not a test: figures depend on the machine. tests/integration/test_bench.sh
# only checks that it runs to completion with every row.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=50
WARMUP=5
USE_BUILD=
KEYRING=1
KEYRING_ROW_OUT=
ITEMS=1000

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case $1 in
    -n) RUNS=$2; shift ;;
    -w) WARMUP=$2; shift ;;
    --items) ITEMS=$2; shift ;;
    --use-build) USE_BUILD=$2; shift ;;
    --no-keyring) KEYRING= ;;
    --keyring-row) KEYRING_ROW_OUT=$2; shift ;;  # internal: inside the session
    -h|--help) usage; exit 0 ;;
    *) echo "bench.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
case $RUNS$WARMUP$ITEMS in *[!0-9]*) echo "bench.sh: -n, -w and --items take numbers" >&2; exit 2 ;; esac
[ "$ITEMS" -ge 1 ] || { echo "bench.sh: --items must be at least 1" >&2; exit 2; }
[ "$RUNS" -ge 1 ] || { echo "bench.sh: -n must be at least 1" >&2; exit 2; }

# -- the binaries -------------------------------------------------------------

if [ -z "$KEYRING_ROW_OUT" ]; then
  if [ -n "$USE_BUILD" ]; then
    BUILD=$(cd "$USE_BUILD" && pwd)
  else
    BUILD=$SRC/build-bench
    echo "building a Release carto-auth in $BUILD ..." >&2
    cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
    cmake --build "$BUILD" -j"$(nproc)" >/dev/null
  fi
  mkdir -p "$BUILD/bench"
  ${CC:-cc} -O2 -Wall -Wextra -o "$BUILD/bench/runner" "$SRC/bench/runner.c"
  ${CC:-cc} -O2 -Wall -Wextra -o "$BUILD/bench/floor" "$SRC/bench/floor.c"
  export BENCH_BUILD=$BUILD
fi
BUILD=$BENCH_BUILD
export CARTO_AUTH=$BUILD/carto-auth
RUNNER=$BUILD/bench/runner
[ -x "$CARTO_AUTH" ] || { echo "bench.sh: no $CARTO_AUTH" >&2; exit 1; }

# Other work on the machine (two cores here, often both busy) makes the
# medians wander by several times. When allowed (root, CAP_SYS_NICE),
# everything started from here on (the stand-in, the keyring session, the
# driver and every command it times) runs under the real-time FIFO policy,
# or at least at nice -20, so that it is not queued behind that work: the
# same for both commands of a row. The header says which.
if [ -n "${CARTO_BENCH_NORMAL_PRIORITY:-}" ]; then
  # The test suite runs the benchmark beside other tests: no starving them.
  SCHEDULING="normal priority (CARTO_BENCH_NORMAL_PRIORITY)"
elif [ -z "$KEYRING_ROW_OUT" ]; then
  if chrt -f -p 10 $$ >/dev/null 2>&1; then
    SCHEDULING="SCHED_FIFO 10"
  elif renice -n -20 -p $$ >/dev/null 2>&1; then
    SCHEDULING="nice -20"
  else
    SCHEDULING="normal priority (not allowed to raise it)"
  fi
fi

# The test library: an isolated HOME and CARTO_AUTH_HOME in a temporary
# folder removed on exit, and the stand-in server.
. "$SRC/tests/lib.sh"
if [ -n "$KEYRING_ROW_OUT" ]; then
  export DBUS_SESSION_BUS_ADDRESS=$BENCH_BUS   # lib.sh unsets it
fi

# bench NAME RUNNER-ARGS...: run the driver; its lines go to $TEST_TMP/NAME.tsv.
bench() {
  local name=$1
  shift
  mkdir -p "$TEST_TMP/out.$name"
  "$RUNNER" -n "$RUNS" -w "$WARMUP" -d "$TEST_TMP/out.$name" "$@" >"$TEST_TMP/$name.tsv"
}

standin_start
CREDS=$TEST_TMP/creds.json
make_creds_file "$CREDS" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
printf 'credentials_file=%s\n\n' "$CREDS" >"$TEST_TMP/get.in"
printf 'credentials_file=%s\nuse_cache=false\n\n' "$CREDS" >"$TEST_TMP/mint.in"
: >"$TEST_TMP/empty.in"

# -- inside the keyring session: the keyring row only ----------------------------

if [ -n "$KEYRING_ROW_OUT" ]; then
  export CARTO_AUTH_STORE=auto   # what a desktop user has
  "$CARTO_AUTH" get <"$TEST_TMP/get.in" >/dev/null
  attrs=(xdg:schema com.carto.auth.Token mode m2m client_id "$STANDIN_CLIENT_1")
  if ! secret-tool lookup "${attrs[@]}" | grep -q access_token; then
    echo "bench.sh: the token did not land in the keyring" >&2
    exit 1
  fi
  bench keyring \
    carto-auth "$TEST_TMP/get.in" 1 password= "$CARTO_AUTH" get ::: \
    secret-tool "$TEST_TMP/empty.in" 1 access_token secret-tool lookup "${attrs[@]}"
  cp "$TEST_TMP/keyring.tsv" "$KEYRING_ROW_OUT"
  # ITEMS general git credentials, stored as git would; the last one is looked up.
  export CARTO_AUTH_STORE=keyring
  for i in $(seq 1 "$ITEMS"); do
    printf 'protocol=https\nhost=host%d.example.com\nusername=user%d\npassword=pass-%d-0123456789abcdef\n\n' \
      "$i" "$i" "$i" | "$CARTO_AUTH" store
  done
  printf 'protocol=https\nhost=host%d.example.com\n\n' "$ITEMS" >"$TEST_TMP/many.in"
  bench keyring_creds \
    carto-auth "$TEST_TMP/many.in" 1 password=pass- "$CARTO_AUTH" get ::: \
    secret-tool "$TEST_TMP/empty.in" 1 pass- secret-tool lookup xdg:schema com.carto.auth.Credential \
    protocol https host "host$ITEMS.example.com"
  cp "$TEST_TMP/keyring_creds.tsv" "$(dirname "$KEYRING_ROW_OUT")/keyring_creds.tsv"
  _T_DONE=1
  exit 0
fi

echo "measuring: $RUNS runs of each command after $WARMUP warm-up runs, alternating ..." >&2
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# -- 1 and 3: a token from the file store --------------------------------------

export CARTO_AUTH_STORE=file
"$CARTO_AUTH" get <"$TEST_TMP/get.in" >/dev/null   # the token to be found
GIT_CREDS=$TEST_TMP/git-credentials
printf 'protocol=https\nhost=example.com\nusername=bench\npassword=%s\n\n' "$STANDIN_SECRET_2" |
  git credential-store --file="$GIT_CREDS" store
printf 'protocol=https\nhost=example.com\n\n' >"$TEST_TMP/git.in"

bench file_vs_git \
  carto-auth "$TEST_TMP/get.in" 1 password= "$CARTO_AUTH" get ::: \
  git "$TEST_TMP/git.in" 1 password= git credential-store --file="$GIT_CREDS" get
# ITEMS general git credentials in both files, the same entries; the last
# one is looked up (both read their file from the start).
MANY_HOME=$TEST_TMP/many
mkdir -m 700 "$MANY_HOME"
awk -v n="$ITEMS" 'BEGIN {
  printf "{\n\t\"version\":\t1,\n\t\"credentials\":\t["
  for (i = 1; i <= n; i++)
    printf "%s{\n\t\t\t\"protocol\":\t\"https\",\n\t\t\t\"host\":\t\"host%d.example.com\",\n\t\t\t\"username\":\t\"user%d\",\n\t\t\t\"password\":\t\"pass-%d-0123456789abcdef\"\n\t\t}", (i > 1 ? ", " : ""), i, i, i
  print "]\n}"
}' >"$MANY_HOME/credentials.json"
chmod 600 "$MANY_HOME/credentials.json"
awk -v n="$ITEMS" 'BEGIN { for (i = 1; i <= n; i++)
  printf "https://user%d:pass-%d-0123456789abcdef@host%d.example.com\n", i, i, i }' >"$TEST_TMP/git-many"
chmod 600 "$TEST_TMP/git-many"
printf 'protocol=https\nhost=host%d.example.com\n\n' "$ITEMS" >"$TEST_TMP/many.in"
(
  export CARTO_AUTH_HOME=$MANY_HOME
  bench file_creds \
    carto-auth "$TEST_TMP/many.in" 1 password=pass- "$CARTO_AUTH" get ::: \
    git "$TEST_TMP/many.in" 1 password=pass- git credential-store --file="$TEST_TMP/git-many" get
)

bench file_vs_floor \
  carto-auth "$TEST_TMP/get.in" 1 password= "$CARTO_AUTH" get ::: \
  floor "$TEST_TMP/empty.in" 1 password= "$BUILD/bench/floor"

# -- 2: a token from the keyring (in its own session) ---------------------------

KEYRING_NOTE=
if [ -z "$KEYRING" ]; then
  KEYRING_NOTE="skipped (--no-keyring)"
elif ! command -v secret-tool >/dev/null; then
  KEYRING_NOTE="skipped (secret-tool missing: libsecret-tools)"
else
  set +e
  "$SRC/tests/keyring_session.sh" bash -c \
    'BENCH_BUS=$DBUS_SESSION_BUS_ADDRESS exec bash "$@"' _ \
    "$SRC/bench/bench.sh" -n "$RUNS" -w "$WARMUP" --items "$ITEMS" --keyring-row "$TEST_TMP/keyring.tsv" \
    2>"$TEST_TMP/keyring.err"
  rc=$?
  set -e
  case $rc in
    0) ;;
    77) KEYRING_NOTE="skipped ($(tail -n 1 "$TEST_TMP/keyring.err"))" ;;
    *) cat "$TEST_TMP/keyring.err" >&2
       echo "bench.sh: the keyring row failed" >&2
       exit 1 ;;
  esac
fi

# -- 4: minting an M2M token from the stand-in -------------------------------------

# The same HTTP request by curl shows what the stand-in itself takes.
printf 'grant_type=client_credentials&client_id=%s&client_secret=%s&audience=carto-cloud-native-api' \
  "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" >"$TEST_TMP/mint.form"
bench mint \
  carto-auth "$TEST_TMP/mint.in" 1 password= "$CARTO_AUTH" get ::: \
  curl "$TEST_TMP/empty.in" 1 access_token curl -q -sS --noproxy '*' \
  --data-binary "@$TEST_TMP/mint.form" "$STANDIN_URL/oauth/token"

# -- 5: 32 parallel cold gets -------------------------------------------------------

COLD_HOME=$TEST_TMP/cold
export CARTO_AUTH_HOME=$COLD_HOME
before=$(standin_requests /oauth/token)
bench cold -s "rm -rf '$COLD_HOME'" \
  one "$TEST_TMP/get.in" 1 password= "$CARTO_AUTH" get ::: \
  parallel "$TEST_TMP/get.in" 32 password= "$CARTO_AUTH" get
COLD_REQUESTS=$(( $(standin_requests /oauth/token) - before ))
COLD_SETS=$(( 2 * (RUNS + WARMUP) ))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# -- the table ----------------------------------------------------------------------

# field FILE NAME COLUMN: one figure of the driver's output (2 median us,
# 3 min us, 4 p90 us, 5 peak RSS KiB).
field() { awk -F'\t' -v n="$2" -v c="$3" '$1 == n { print $c }' "$1"; }
ms() { awk -v us="$1" 'BEGIN { printf "%.2f ms", us / 1000 }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
meets() { awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN { print (a / b <= r) ? "yes" : "no" }'; }

# row LABEL FILE OURS THEIRS THEIRS_LABEL TARGET_TEXT MAX_RATIO [MAX_RSS_KIB]
row() {
  local label=$1 file=$2 ours=$3 theirs=$4 theirs_label=$5 target=$6 max=$7 max_rss=${8:-}
  local a b ra rb ok
  a=$(field "$file" "$ours" 2)
  b=$(field "$file" "$theirs" 2)
  ra=$(field "$file" "$ours" 5)
  rb=$(field "$file" "$theirs" 5)
  ok=-
  if [ -n "$max" ]; then
    ok=$(meets "$a" "$b" "$max")
    if [ -n "$max_rss" ] && [ "$ra" -gt "$max_rss" ]; then ok=no; fi
  fi
  printf '| %s | %s | %s: %s | %s | %s | %s / %s | %s |\n' "$label" "$(ms "$a")" \
    "$theirs_label" "$(ms "$b")" "$(ratio "$a" "$b")" "$target" "$(mib "$ra")" "$(mib "$rb")" "$ok"
}

echo
echo "carto-auth $("$CARTO_AUTH" --version 2>/dev/null | head -n 1 | awk '{print $NF}'), Release build;" \
  "$(nproc) CPUs; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "$RUNS timed runs of each command after $WARMUP warm-up runs, the two commands alternating;" \
  "medians; $SCHEDULING; load average $LOAD_BEFORE before, $LOAD_AFTER after"
echo
echo "| row | carto-auth | compared with | ratio | target | peak RSS (ours / theirs) | meets |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
row "get from the file store" "$TEST_TMP/file_vs_git.tsv" carto-auth git \
  "git credential-store get" "<= 1.0x, <= 4 MiB" 1.0 4096
if [ -z "$KEYRING_NOTE" ]; then
  row "get from the keyring" "$TEST_TMP/keyring.tsv" carto-auth secret-tool \
    "secret-tool lookup" "<= 0.8x" 0.8
else
  echo "| get from the keyring | $KEYRING_NOTE | secret-tool lookup | - | <= 0.8x | - | - |"
fi
row "get among $ITEMS git credentials, file store" "$TEST_TMP/file_creds.tsv" carto-auth git \
  "git credential-store get, same entries" "<= 1.0x" 1.0
if [ -z "$KEYRING_NOTE" ]; then
  row "get among $ITEMS git credentials, keyring" "$TEST_TMP/keyring_creds.tsv" carto-auth secret-tool \
    "secret-tool lookup, same items" "<= 1.0x" 1.0
else
  echo "| get among $ITEMS git credentials, keyring | $KEYRING_NOTE | secret-tool lookup | - | <= 1.0x | - | - |"
fi
row "get from the file store, vs exec floor" "$TEST_TMP/file_vs_floor.tsv" carto-auth floor \
  "C program that only prints" "report" ""
row "M2M token minted from the stand-in" "$TEST_TMP/mint.tsv" carto-auth curl \
  "curl POST of the same request" "report" ""
row "32 parallel cold gets" "$TEST_TMP/cold.tsv" parallel one \
  "one cold get" "report" ""
echo
echo "32 parallel cold gets: $COLD_REQUESTS token requests for $COLD_SETS cold sets" \
  "(one cold get or 32 parallel ones each; expected $COLD_SETS)"
echo
echo "Driver output (name, median us, min us, p90 us, peak RSS KiB, runs):"
for f in file_vs_git keyring file_creds keyring_creds file_vs_floor mint cold; do
  [ -f "$TEST_TMP/$f.tsv" ] && sed "s/^/  $f: /" "$TEST_TMP/$f.tsv"
done
_T_DONE=1
