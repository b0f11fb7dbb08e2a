#!/usr/bin/env bash
# Multi-process training with torchrun, one process per GPU (or per CPU process on a machine
# without GPUs, over gloo).
#   bash tools/dist_train.sh CONFIG NPROC [train.py args...]
# Several machines: set NNODES, NODE_RANK, MASTER_ADDR and PORT on each (torchrun rendezvous).
set -e
CONFIG=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
if [ -z "$CONFIG" ] || [ -z "$NPROC" ]; then
    echo "usage: bash tools/dist_train.sh CONFIG NPROC [tools/train.py arguments]" >&2
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
    "$(dirname "$0")/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
