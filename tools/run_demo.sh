#!/usr/bin/env bash
# The main job: set up .venv if anything is missing, then train and evaluate LR-ASPP
# MobileNetV3 on the embedded demo data (tools/run_demo.py; arguments are passed on).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" tools/run_demo.py "$@"
