#!/usr/bin/env bash
# The test command: sets up .venv if anything is missing (seconds when nothing is), runs the lint
# checks (flake8 and isort with the settings in setup.cfg), then the test suite. Extra arguments
# go to pytest, e.g. `bash tools/run_tests.sh -k backbones`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
echo "[lint] flake8 and isort"
"$ROOT/.venv/bin/flake8" . || { echo "[lint] flake8 failed (see above)" >&2; exit 1; }
"$ROOT/.venv/bin/isort" --check-only --diff . \
    || { echo "[lint] isort failed: run .venv/bin/isort . to fix the import order" >&2; exit 1; }
# 2 cores: one torch thread per test process keeps subprocess-heavy tests from oversubscribing
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec "$ROOT/.venv/bin/python" -m pytest "$@"
