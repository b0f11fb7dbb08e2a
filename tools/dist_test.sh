#!/usr/bin/env bash
# Multi-process testing with torchrun, one process per GPU (or per CPU process on a machine
# without GPUs, over gloo).
#   bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args...]
# Several machines: set NNODES, NODE_RANK, MASTER_ADDR and PORT on each (torchrun rendezvous).
set -e
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
if [ -z "$CONFIG" ] || [ -z "$NPROC" ] || [ -z "$CHECKPOINT" ]; then
    echo "usage: bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [tools/test.py arguments]" >&2
    exit 2
fi
PY=${PYTHON:-$(if [ -x "$(dirname "$0")/../.venv/bin/python" ]; then echo "$(dirname "$0")/../.venv/bin/python"; else echo python; fi)}
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
exec "$PY" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    "$(dirname "$0")/test.py" \
    "$CONFIG" "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
