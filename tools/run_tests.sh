#!/usr/bin/env bash
# The test command: sets up .venv if anything is missing (seconds when nothing is), then runs
# the test suite. Extra arguments go to pytest, e.g. `bash tools/run_tests.sh -k backbones`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
# 2 cores: one torch thread per test process keeps subprocess-heavy tests from oversubscribing
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec "$ROOT/.venv/bin/python" -m pytest "$@"
