#!/bin/bash
# Runs one libFuzzer target over its seed corpus and then mutates for a
# while. Usage: run_one.sh FUZZER SEED_DIR WORK_DIR [libFuzzer options...]
#
# The seed corpus is only read: libFuzzer writes new inputs to the first
# directory it is given, so WORK_DIR (emptied first unless FUZZ_KEEP_WORK=1)
# goes first. A crash, leak, sanitizer report or timeout leaves its input
# next to WORK_DIR (WORK_DIR-crash-..., -leak-..., -timeout-...) and fails.
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3
shift 3
if [ "${FUZZ_KEEP_WORK:-0}" != 1 ]; then
	rm -rf "$work" "$work"-*
fi
mkdir -p "$work"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# A dictionary of the tokens the target looks for, when there is one.
here=$(cd "$(dirname "$0")" && pwd)
dict=()
case $(basename "$fuzzer") in
fuzz_protocol) dict=(-dict="$here/protocol.dict") ;;
fuzz_credentials|fuzz_token_response|fuzz_token_file|fuzz_jwt|fuzz_git_credentials) dict=(-dict="$here/json.dict") ;;
fuzz_config_yaml) dict=(-dict="$here/yaml.dict") ;;
fuzz_callback) dict=(-dict="$here/callback.dict") ;;
fuzz_url) dict=(-dict="$here/url.dict") ;;
esac
exec "$fuzzer" "${dict[@]}" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$work-" "$@" "$work" "$seeds"
