#!/bin/bash
# Builds carto-auth and runs every test: unit and integration tests on a
# normal build, then the whole suite again under AddressSanitizer and
# UndefinedBehaviorSanitizer (with the 3-minute long-running host test,
# label "host"), then the library alone under ThreadSanitizer with the host
# tests, then the fuzzers briefly.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCARTO_AUTH_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

# ThreadSanitizer: the library alone, in the host programs of label "host"
# (8 threads, each with its own handle, renewing for 3 minutes). Any race
# report fails the run.
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCARTO_AUTH_TSAN=ON >/dev/null
cmake --build build-tsan -j"$jobs" --target carto-auth carto-auth-static
ctest --test-dir build-tsan -L host --output-on-failure -j"$jobs"

# The fuzzers, briefly (label "fuzz"): each libFuzzer target over its seed
# corpus, then 10 s of mutation; scripts/fuzz.sh runs them longer.
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCARTO_AUTH_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzzers
ctest --test-dir build-fuzz -L fuzz --output-on-failure -j"$jobs"
