#!/usr/bin/env bash
# Creates (or brings up to date) the project's environment in .venv/ at the repository root.
#
#   bash tools/setup_env.sh
#
# Idempotent: when nothing changed since the last successful run it only checks and exits in
# seconds. The pinned versions live in requirements/*.txt and nowhere else. mmcv 2.1.0 has no
# wheel for our torch, so it is built once from its sdist WITH its compiled CPU ops and kept in a
# wheelhouse outside the repository, keyed by the torch version:
#   ${MNV3_WHEELHOUSE:-~/.cache/mnv3_plugin/wheelhouse}/torch-<version>/mmcv-2.1.0-*.whl
# A later run (or a fresh clone on the same machine, e.g. CI) reuses that wheel and compiles
# nothing. Environment knobs: PYTHON (interpreter, default python3.11), MNV3_WHEELHOUSE,
# MAX_JOBS (parallel compile jobs for mmcv, default: number of cores).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
REQ="$ROOT/requirements"
STAMP="$VENV/.mnv3-setup-stamp"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# What the environment is made from: any change here triggers a (cheap) re-sync.
want_stamp() {
    cat "$REQ"/*.txt setup.cfg pyproject.toml "$0" | sha256sum | cut -d' ' -f1
}

# The quick check a finished environment must pass.
env_ok() {
    [ -x "$PY" ] && "$PY" - <<'EOF' >/dev/null 2>&1
import mmcv, mmengine, mmdet, mmseg, mmpretrain, torch, torchvision, mnv3_plugin
from mmcv.ops import nms  # the compiled ops, not mmcv-lite
EOF
}

# NNCF compiles a C++ extension on first use (about a minute): do it here, once, visibly, instead
# of silently inside the first quantization. Quick when built (python -m
# mnv3_plugin.deploy.nncf_ext --check: exit 0 built, 1 not built, 2 no nncf).
nncf_extension() {
    local rc=0 log
    "$PY" -m mnv3_plugin.deploy.nncf_ext --check >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 1 ] || return 0
    say "compiling NNCF's extension once (about a minute; kept in torch's extensions folder) ..."
    log="$(mktemp)"
    if "$PY" -m mnv3_plugin.deploy.nncf_ext --build --prefix '[setup]' >"$log" 2>&1; then
        grep -E '^\[setup\] .* built$' "$log" || true
        rm -f "$log"
    else
        tail -n 20 "$log" >&2
        rm -f "$log"
        die "compiling NNCF's extension failed (see above): it needs g++ and ninja; install them and run this script again"
    fi
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(want_stamp)" ] && env_ok; then
    nncf_extension
    say "environment in .venv is up to date"
    exit 0
fi

PYTHON_BIN="${PYTHON:-python3.11}"
command -v "$PYTHON_BIN" >/dev/null || PYTHON_BIN=python3
"$PYTHON_BIN" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null \
    || die "Python 3.11 is required (torch 2.14.1 and the mmcv wheel are built for cp311); set PYTHON=/path/to/python3.11"

if [ ! -x "$PY" ]; then
    say "creating virtual environment in .venv"
    "$PYTHON_BIN" -m venv "$VENV"
fi
PIP=("$PY" -m pip install --disable-pip-version-check)

say "installing torch and torchvision (requirements/torch.txt)"
"${PIP[@]}" -r "$REQ/torch.txt"
# torch's install may move setuptools past 82, which mmcv and mmengine cannot use: pin it after.
say "installing build tools (requirements/build.txt)"
"${PIP[@]}" -r "$REQ/build.txt"

TORCH_VERSION="$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')"
MMCV_VERSION="$(grep -E '^mmcv==' "$REQ/mmcv.txt" | cut -d= -f3)"
WHEELHOUSE="${MNV3_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/mnv3_plugin/wheelhouse}/torch-$TORCH_VERSION"
mkdir -p "$WHEELHOUSE"
PYTAG="cp$("$PY" -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')"
find_wheel() { ls "$WHEELHOUSE"/mmcv-"$MMCV_VERSION"-"$PYTAG"-"$PYTAG"-linux_*.whl 2>/dev/null | head -n 1; }

WHEEL="$(find_wheel || true)"
if [ -z "$WHEEL" ]; then
    say "no mmcv $MMCV_VERSION wheel for torch $TORCH_VERSION in $WHEELHOUSE: building it from source"
    say "(compiles mmcv's CPU ops: about 13 minutes on 2 cores; only needed once per machine and torch version)"
    BUILD="$(mktemp -d)"
    LOG="$BUILD/build.log"
    trap 'rm -rf "$BUILD"' EXIT
    "$PY" -m pip download --disable-pip-version-check --no-deps --no-binary :all: --no-build-isolation \
        -d "$BUILD/sdist" "mmcv==$MMCV_VERSION" >"$LOG" 2>&1 \
        || { tail -n 30 "$LOG" >&2; die "could not download the mmcv $MMCV_VERSION source distribution from PyPI (see above)"; }
    tar -xzf "$BUILD"/sdist/mmcv-"$MMCV_VERSION".tar.gz -C "$BUILD"
    SRC="$BUILD/mmcv-$MMCV_VERSION"
    # torch >= 2.6 headers need C++20; mmcv 2.1.0's setup.py hard-codes -std=c++17.
    sed -i 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
    JOBS="${MAX_JOBS:-$(nproc)}"
    say "building mmcv with MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=$JOBS (log: $LOG)"
    # -v streams the compiler's (ninja's [n/total]) lines into the log, which
    # tools/misc/build_progress.py counts: a line every 30 s instead of a silent quarter hour
    MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="$JOBS" \
        "$PY" -m pip wheel -v --disable-pip-version-check --no-deps --no-build-isolation \
        -w "$BUILD/dist" "$SRC" >"$LOG" 2>&1 &
    BUILD_PID=$!
    BUILD_START="$(date +%s)"
    "$PY" "$ROOT/tools/misc/build_progress.py" "$LOG" --pid "$BUILD_PID" --start "$BUILD_START" \
        --interval "${MNV3_PROGRESS_INTERVAL:-30}" &
    PROGRESS_PID=$!
    BUILD_RC=0
    wait "$BUILD_PID" || BUILD_RC=$?
    kill "$PROGRESS_PID" 2>/dev/null || true
    wait "$PROGRESS_PID" 2>/dev/null || true
    say "$("$PY" "$ROOT/tools/misc/build_progress.py" "$LOG" --start "$BUILD_START" --once | sed 's/^\[setup\] //')"
    if [ "$BUILD_RC" -ne 0 ]; then
        grep -E 'error|Error' "$LOG" | head -n 20 >&2 || true
        tail -n 20 "$LOG" >&2
        die "building mmcv $MMCV_VERSION failed (see above). It needs gcc/g++ with C++20 support, the Python 3.11 headers and ninja; see the README's Set-up section. Install what is missing and run this script again."
    fi
    BUILT="$(ls "$BUILD"/dist/mmcv-"$MMCV_VERSION"-"$PYTAG"-"$PYTAG"-linux_*.whl 2>/dev/null | head -n 1 || true)"
    [ -n "$BUILT" ] || die "the mmcv build produced no platform wheel (found: $(ls "$BUILD/dist")): it was built without its compiled ops; MMCV_WITH_OPS=1 must be honoured"
    cp "$BUILT" "$WHEELHOUSE/.partial.whl" && mv "$WHEELHOUSE/.partial.whl" "$WHEELHOUSE/$(basename "$BUILT")"
    WHEEL="$(find_wheel)"
    say "mmcv wheel kept in $WHEEL"
else
    say "reusing $WHEEL"
fi
"${PIP[@]}" --no-deps --force-reinstall "$WHEEL" >/dev/null

say "installing the OpenMMLab stack (requirements/runtime.txt), test tools (tests.txt) and deployment runtimes (deploy.txt)"
"${PIP[@]}" -r "$REQ/runtime.txt" -r "$REQ/tests.txt" -r "$REQ/deploy.txt" -r "$REQ/torch.txt" -r "$REQ/build.txt"
say "installing mnv3_plugin in editable mode"
"${PIP[@]}" --no-deps --no-build-isolation -e "$ROOT" >/dev/null

env_ok || { "$PY" -c 'from mmcv.ops import nms; import mnv3_plugin' || true; die "the environment does not import (see above)"; }
nncf_extension
want_stamp >"$STAMP"
say "done: activate with 'source .venv/bin/activate'"
