#!/usr/bin/env bash
# Reproduce the shipped bundle models/tiny-shapes: train (fixed seed, fixed step count), evaluate the
# torch model, export the ONNX graphs + manifest (with the metrics) + parity fixture.
# Needs: apt-get install -y python3-torch python3-onnx python3-numpy python3-pil libopenblas0-pthread
# One thread on purpose: two threads on a shared 2-core machine were several times slower.
#
# Starts from the v1 weights (the bundle of commit V1_COMMIT, itself rebuilt by that commit's
# train:tiny from nothing). The shipped bundle is STEPS=0: v1's transformer unchanged, exported with
# v2's image tokenizer. STEPS=225 DECAY=50 runs the v2 fine-tune on v2's data (centred outputs,
# JPEG/resampled/shifted/noisy inputs; see README). INIT= (empty) trains from nothing.
set -euo pipefail
cd "$(dirname "$0")"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=${PYTHON:-/usr/bin/python3}
V1_COMMIT=a69663b
STEPS=${STEPS:-0}
DECAY=${DECAY:-0}
SEED=${SEED:-1234}
mkdir -p work
INIT=${INIT-work/v1-transformer.onnx}
if [ -n "$INIT" ] && [ ! -f "$INIT" ]; then
  git show "$V1_COMMIT:models/tiny-shapes/transformer.onnx" > "$INIT"
fi
start=$(date +%s)
"$PY" train.py --steps "$STEPS" --decay-steps "$DECAY" --warmup 30 --lr 1e-3 --seed "$SEED" \
  ${INIT:+--init "$INIT"} --out work/model.pt
"$PY" eval.py --ckpt work/model.pt --out work/metrics.json
"$PY" export.py --ckpt work/model.pt --out .. --metrics work/metrics.json
echo "train:tiny finished in $(( $(date +%s) - start )) s"
