#!/bin/bash
# The benchmark (docs/performance.md): builds a Release carto-auth in
# build-bench/ and prints how fast it answers next to git credential-store,
# secret-tool and an exec floor. Options: see bench/bench.sh (-n RUNS, ...).
exec "$(dirname "$0")/../bench/bench.sh" "$@"
