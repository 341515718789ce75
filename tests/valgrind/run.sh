#!/bin/bash
# Runs one integration test with the helper under valgrind memcheck, then
# reads valgrind's logs.
#
#   run.sh [--memory-only] REAL_BINARY LOGDIR TEST_SCRIPT
#
# Passes when the test passes (but for the cases in known-differences.txt)
# and no helper run reported a memory error or a definite leak. With
# --memory-only (a test made of time bounds, like test_faults) the cases'
# own verdicts are shown but only valgrind's count. Prints how many helper
# runs were checked.
set -uo pipefail
memory_only=0
if [ "${1:-}" = --memory-only ]; then
	memory_only=1
	shift
fi
real=$1 logdir=$2 script=$3
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v valgrind >/dev/null; then
	echo "valgrind is not installed" >&2
	exit 77
fi
rm -rf "$logdir"
mkdir -p "$logdir/bin"
# git-credential-carto must reach the wrapper too (test_git_conformance).
cp "$here/carto-auth" "$logdir/bin/carto-auth"
ln -s carto-auth "$logdir/bin/git-credential-carto"

export CARTO_VG_REAL=$real CARTO_VG_LOGDIR=$logdir
if [ -f "$here/valgrind.supp" ]; then
	export CARTO_VG_SUPP=$here/valgrind.supp
fi
# Allow for valgrind's slowdown (tests/lib.sh reads these).
export HELPER_TIMEOUT=${HELPER_TIMEOUT:-300}
start=$SECONDS
CARTO_AUTH=$logdir/bin/carto-auth CARTO_AUTH_BUILD_DIR=$logdir/bin bash "$script" \
	2>&1 | tee "$logdir/test.out"
rc=${PIPESTATUS[0]}

# Failed cases that are known not to pass under valgrind do not count.
if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
	unexpected=$(sed -n 's/^not ok - //p' "$logdir/test.out" |
		grep -vxF -f <(grep -v '^#' "$here/known-differences.txt" | grep .) || true)
	expected=$(sed -n 's/^not ok - //p' "$logdir/test.out" |
		grep -xF -f <(grep -v '^#' "$here/known-differences.txt" | grep .) || true)
	if [ -n "$expected" ]; then
		echo "expected under valgrind (tests/valgrind/known-differences.txt):"
		printf '  %s\n' "$expected"
	fi
	if [ -n "$unexpected" ] && [ "$memory_only" = 1 ]; then
		echo "failed under valgrind, not counted (--memory-only: time bounds):"
		printf '  %s\n' "$unexpected"
		unexpected=
	fi
	if [ -z "$unexpected" ] && grep -q '^not ok - ' "$logdir/test.out" &&
	   ! grep -q '^ABORTED' "$logdir/test.out"; then
		rc=0
	fi
fi

runs=$(find "$logdir" -maxdepth 1 -name 'vg.*.log' | wc -l)
bad=$(find "$logdir" -maxdepth 1 -name 'vg.*.log' -size +0 | sort)
echo "valgrind: $runs helper runs in $((SECONDS - start)) s, $(echo -n "$bad" | grep -c .) with reports"
for f in $bad; do
	echo "==== $f"
	head -n 80 "$f"
done
if [ -n "$bad" ]; then
	exit 1
fi
exit "$rc"
