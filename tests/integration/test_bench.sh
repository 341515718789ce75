#!/bin/bash
# The benchmark (scripts/bench.sh) runs to completion on a small run count
# (and 20 git credentials for the "among N" rows) and prints its table with
# every row. Not a timed test: no figure is
# checked, only that each row is there (the keyring row may say "skipped"
# where there is no gnome-keyring) and that the parallel cold gets made one
# token request per set.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

SRC=${CARTO_AUTH_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
BUILD=${CARTO_AUTH_BUILD_DIR:-$SRC/build}
[ -x "$BUILD/carto-auth" ] || t_skip_all "no carto-auth in $BUILD (build first)"
command -v git >/dev/null || t_skip_all "git is missing"
command -v "${CC:-cc}" >/dev/null || t_skip_all "no C compiler for the timing driver"

set +e
CARTO_BENCH_NORMAL_PRIORITY=1 "$SRC/scripts/bench.sh" -n 3 -w 1 --items 20 --use-build "$BUILD" \
  >"$TEST_TMP/bench.out" 2>"$TEST_TMP/bench.err"
echo $? >"$TEST_TMP/bench.rc"
set -e

case_completes() {
  RC=$(cat "$TEST_TMP/bench.rc") OUT=$(cat "$TEST_TMP/bench.out") ERR=$(cat "$TEST_TMP/bench.err")
  assert_eq 0 "$RC" "exit status of scripts/bench.sh -n 3 -w 1 (stderr: $ERR)"
  assert_contains "$OUT" "| row | carto-auth | compared with | ratio | target | peak RSS (ours / theirs) | meets |"
  assert_contains "$OUT" "3 timed runs of each command after 1 warm-up runs"
  # Beside other tests it must not take the cores from them.
  assert_contains "$OUT" "normal priority (CARTO_BENCH_NORMAL_PRIORITY)"
}
t_case "the benchmark runs to completion and prints its table" case_completes

case_every_row() {
  local out label line
  out=$(cat "$TEST_TMP/bench.out")
  for label in "get from the file store" "get from the keyring" \
    "get among 20 git credentials, file store" "get among 20 git credentials, keyring" \
    "get from the file store, vs exec floor" "M2M token minted from the stand-in" \
    "32 parallel cold gets"; do
    line=$(grep -F "| $label |" <<<"$out" || true)
    assert_nonempty "$line" "a table row for: $label"
    # A measured row has a ratio; only the keyring row may be skipped.
    if [[ $line != *"| skipped ("* ]]; then
      assert_match "$line" '\| [0-9]+\.[0-9]+x \|' "a ratio in: $line"
    else
      assert_match "$label" 'keyring$' "only the keyring rows may be skipped"
    fi
  done
}
t_case "every row is there, with a ratio unless skipped" case_every_row

case_one_request_per_cold_set() {
  local line
  line=$(grep -E '^32 parallel cold gets: [0-9]+ token requests for [0-9]+ cold sets' \
    "$TEST_TMP/bench.out" || true)
  assert_nonempty "$line" "the token request count of the cold rows"
  [[ $line =~ ([0-9]+)\ token\ requests\ for\ ([0-9]+)\ cold ]]
  assert_eq "${BASH_REMATCH[2]}" "${BASH_REMATCH[1]}" "one token request per cold set"
}
t_case "the parallel cold gets made one token request per set" case_one_request_per_cold_set

t_done
