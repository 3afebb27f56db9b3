"""Weights of an exported tiny-shapes transformer.onnx, loaded back into the torch model.

The exporter keeps embeddings, norms and biases under their torch names and stores each Linear
weight transposed as an anonymous MatMul initializer, in module order (qkv, proj, fc1, fc2 per
block), plus the tied output projection (the token embedding transposed, skipped here); they are
matched by that order and checked by shape.
"""
import re

import onnx
import torch
from onnx import numpy_helper

LINEARS = ("qkv", "proj", "fc1", "fc2")


def load(model, path):
    inits = {i.name: torch.tensor(numpy_helper.to_array(i).copy()) for i in onnx.load(path).graph.initializer}
    named = {k[len("model."):]: v for k, v in inits.items() if k.startswith("model.")}
    tied = tuple(named["tok.weight"].t().shape)
    matmuls = [inits[k] for k in sorted((k for k in inits if k.startswith("onnx::MatMul_")),
                                        key=lambda k: int(re.sub(r"\D", "", k))) if tuple(inits[k].shape) != tied]
    names = [f"blocks.{b}.{l}.weight" for b in range(len(model.blocks)) for l in LINEARS]
    if len(matmuls) != len(names):
        raise ValueError(f"{path}: {len(matmuls)} MatMul weights, expected {len(names)}")
    named.update({n: w.t() for n, w in zip(names, matmuls)})
    state = model.state_dict()
    if set(named) != set(state) or any(named[k].shape != state[k].shape for k in state):
        raise ValueError(f"{path}: weights do not fit this model")
    model.load_state_dict(named)
