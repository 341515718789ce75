#!/bin/bash
# Runs integration tests with the helper under valgrind memcheck and says
# whether they are clean.
#
#   scripts/valgrind.sh [TEST...]     (default: the VALGRIND_TESTS
#                                      list in tests/CMakeLists.txt)
#
# Builds build-valgrind (RelWithDebInfo, -DCARTO_AUTH_VALGRIND=ON) and runs
# `ctest -L valgrind`: each test runs with CARTO_AUTH pointing at
# tests/valgrind/carto-auth, which starts the real helper under
#   valgrind --error-exitcode=99 --leak-check=full
#            --errors-for-leak-kinds=definite
# with its log in build-valgrind/tests/valgrind/TEST/vg.PID.log. Any memory
# error or definite leak in any helper run fails. Takes about 8 minutes on
# two cores (test_git_conformance alone about 7).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
	echo "valgrind is not installed (apt-get install valgrind)" >&2
	exit 2
fi
build=build-valgrind
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCARTO_AUTH_VALGRIND=ON >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

filter=()
if [ $# -gt 0 ]; then
	filter=(-R "^valgrind\\.($(IFS='|'; echo "$*"))\$")
fi
rc=0
ctest --test-dir "$build" -L valgrind -j"$(nproc)" --output-on-failure "${filter[@]}" || rc=$?

echo
echo "valgrind summary:"
for dir in "$build"/tests/valgrind/*/; do
	[ -f "$dir/test.out" ] || continue
	name=$(basename "$dir")
	if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qxF "$name"; then
		continue
	fi
	runs=$(find "$dir" -maxdepth 1 -name 'vg.*.log' | wc -l)
	reports=$(find "$dir" -maxdepth 1 -name 'vg.*.log' -size +0 | wc -l)
	printf '  %-22s %4d helper runs, %d with errors or definite leaks\n' "$name" "$runs" "$reports"
done
if [ "$rc" = 0 ]; then
	echo "clean"
else
	echo "NOT clean (or a test failed): see above"
fi
exit "$rc"
