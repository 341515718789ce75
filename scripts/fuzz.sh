#!/bin/bash
# Runs every libFuzzer target (tests/fuzz) for longer than CI does.
#
#   scripts/fuzz.sh [-j JOBS] [--merge] [SECONDS] [TARGET...]
#
# SECONDS per target (default 60); TARGET names (fuzz_protocol, ...) limit
# the run; -j runs that many targets at once (default 1). Each target keeps
# a work corpus in tests/fuzz/corpus-work/TARGET (gitignored), seeded from
# tests/fuzz/corpus/TARGET and kept between runs. A crash, leak, sanitizer
# report or timeout is saved as tests/fuzz/corpus-work/TARGET-crash-*
# (-leak-*, -timeout-*, -oom-*) and listed at the end with the command that
# replays it; the exit status is 1 when anything was found.
# --merge afterwards folds the inputs that add coverage into the committed
# seed corpus (minimised with libFuzzer's -merge=1; review before committing).
set -uo pipefail
cd "$(dirname "$0")/.."

jobs=1 merge=0 seconds=60
targets=()
while [ $# -gt 0 ]; do
	case $1 in
	-j) jobs=$2; shift ;;
	-j*) jobs=${1#-j} ;;
	--merge) merge=1 ;;
	-h|--help) sed -n '2,16p' "$0"; exit 0 ;;
	[0-9]*) seconds=$1 ;;
	*) targets+=("$1") ;;
	esac
	shift
done
all=(fuzz_protocol fuzz_credentials fuzz_token_response fuzz_token_file
	fuzz_config_yaml fuzz_callback fuzz_url)
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

build=build-fuzz
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCARTO_AUTH_FUZZ=ON >/dev/null || exit 2
cmake --build "$build" -j"$(nproc)" --target fuzzers >/dev/null || exit 2

work=tests/fuzz/corpus-work
mkdir -p "$work"
echo "fuzzing ${#targets[@]} target(s) for ${seconds}s each, $jobs at a time; logs in $work/*.log"

run() {
	local t=$1 log=$work/$1.log
	FUZZ_KEEP_WORK=1 bash tests/fuzz/run_one.sh "$build/tests/fuzz/$t" \
		"tests/fuzz/corpus/$t" "$work/$t" -max_total_time="$seconds" \
		>"$log" 2>&1
	local rc=$?
	local execs cov
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n1)
	printf '%-20s %s  %s execs, %s, corpus %s files\n' "$t" \
		"$([ $rc = 0 ] && echo ok || echo "FAILED (exit $rc)")" "${execs:-?}" \
		"${cov:-cov: ?}" "$(find "$work/$t" -type f | wc -l)"
}

running=0
for t in "${targets[@]}"; do
	if [ ! -x "$build/tests/fuzz/$t" ]; then
		echo "$t: no such fuzz target" >&2
		exit 2
	fi
	run "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

if [ "$merge" = 1 ]; then
	for t in "${targets[@]}"; do
		"$build/tests/fuzz/$t" -merge=1 -max_len=8192 "tests/fuzz/corpus/$t" \
			"$work/$t" >"$work/$t.merge.log" 2>&1 &&
			echo "$t: merged into tests/fuzz/corpus/$t ($(ls "tests/fuzz/corpus/$t" | wc -l) files)"
	done
fi

found=0
for t in "${targets[@]}"; do
	for f in "$work/$t"-crash-* "$work/$t"-leak-* "$work/$t"-timeout-* "$work/$t"-oom-*; do
		[ -e "$f" ] || continue
		[ "$found" = 1 ] || echo "found:"
		found=1
		echo "  $f"
		echo "    replay: $build/tests/fuzz/$t $f"
	done
done
[ "$found" = 0 ] && echo "no crashes, leaks or timeouts"
exit "$found"
