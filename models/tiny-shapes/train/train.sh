#!/usr/bin/env bash
# Reproduce the shipped bundle models/tiny-shapes: train (fixed seed, fixed step count), evaluate the
# torch model, export the ONNX graphs + manifest (with the metrics) + parity fixture.
# Needs: apt-get install -y python3-torch python3-onnx python3-numpy libopenblas0-pthread
# One thread on purpose: two threads on a shared 2-core machine were several times slower.
set -euo pipefail
cd "$(dirname "$0")"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=${PYTHON:-/usr/bin/python3}
STEPS=${STEPS:-1400}
SEED=${SEED:-1234}
mkdir -p work
start=$(date +%s)
"$PY" train.py --steps "$STEPS" --seed "$SEED" --out work/model.pt
"$PY" eval.py --ckpt work/model.pt --out work/metrics.json
"$PY" export.py --ckpt work/model.pt --out .. --metrics work/metrics.json
echo "train:tiny finished in $(( $(date +%s) - start )) s"
