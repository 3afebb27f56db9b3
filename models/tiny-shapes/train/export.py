"""Export the bundle: ONNX graphs, tokenizer.json, manifest.json and the parity fixture.

usage: export.py --ckpt work/model.pt --out <bundle dir> [--metrics work/metrics.json]
"""
import argparse
import json
import os

import numpy as np
import torch
from torch import nn

import degrade
import domain
import infer
import kv_outputs
import layout
import tokenizer
import train

FORMAT = "picflow.unified-ar"
FORMAT_VERSION = 1
OPSET = 14
# Chosen from eval.py's sweeps on held-out combinations (see the manifest's metrics): guidance at 3,
# restricted to tokens whose conditional probability is at least 10% (generate: 99.5%; 1%: 92%, 30%:
# 98%) or 30% (edit: 96.5%; 10%: 94%, 1%: 83%) of the best one's. A 1% floor let guidance start an
# object a patch row early now and then (a "center" object drawn at the top).
DEFAULTS = {
    "generate": {"cfg": 3.0, "cfgMinRatio": 0.1, "temperature": 1.0, "topK": 0, "topP": 1.0},
    "edit": {"cfg": 3.0, "cfgMinRatio": 0.3, "temperature": 1.0, "topK": 0, "topP": 1.0},
    "caption": {"temperature": 0.0, "maxTokens": layout.CAPTION_LEN},
}


class Transformer(nn.Module):
    """Flat-argument wrapper so the exporter names every past/present tensor."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, position_ids, cell_ids, *past):
        return self.model(input_ids, position_ids, cell_ids, *past)


def kv_names(kind, layers):
    return [f"{kind}_{t}_{i}" for i in range(layers) for t in ("key", "value")]


def io(name, dtype, shape):
    return {"name": name, "dtype": dtype, "shape": shape}


def export_graphs(model, codebook, table, out):
    enc, dec = tokenizer.Encoder(table), tokenizer.Decoder(codebook)
    px = torch.tensor(domain.render(domain.Scene("large", "red", "circle", "center", "blue"))[None])
    torch.onnx.export(enc, (px,), f"{out}/encoder.onnx", input_names=["pixels"], output_names=["codes"],
                      dynamic_axes={"pixels": {0: "batch"}, "codes": {0: "batch"}}, opset_version=OPSET)
    torch.onnx.export(dec, (enc(px),), f"{out}/decoder.onnx", input_names=["codes"], output_names=["pixels"],
                      dynamic_axes={"codes": {0: "batch"}, "pixels": {0: "batch"}}, opset_version=OPSET)
    L, H, hd = model.layers, model.heads, model.hd
    past_in, past_out = kv_names("past", L), kv_names("present", L)
    ids = torch.zeros(2, 3, dtype=torch.int64)
    past = [torch.zeros(2, H, 4, hd) for _ in past_in]
    dyn = {"input_ids": {0: "batch", 1: "sequence"}, "position_ids": {0: "batch", 1: "sequence"},
           "cell_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}}
    dyn.update({n: {0: "batch", 2: "past_sequence"} for n in past_in})
    dyn.update({n: {0: "batch", 2: "total_sequence"} for n in past_out})
    torch.onnx.export(Transformer(model), (ids, ids, ids, *past), f"{out}/transformer.onnx",
                      input_names=["input_ids", "position_ids", "cell_ids", *past_in],
                      output_names=["logits", *past_out], dynamic_axes=dyn, opset_version=OPSET)
    kv_outputs.add_new_kv_outputs(f"{out}/transformer.onnx")  # new_key_{layer}/new_value_{layer}: see kv_outputs.py
    kv = lambda n, s: io(n, "float32", ["batch", H, s, hd])
    return {
        "encoder": {"file": "encoder.onnx", "inputs": [io("pixels", "uint8", ["batch", 32, 32, 3])],
                    "outputs": [io("codes", "int64", ["batch", tokenizer.TOKENS])]},
        "decoder": {"file": "decoder.onnx", "inputs": [io("codes", "int64", ["batch", tokenizer.TOKENS])],
                    "outputs": [io("pixels", "uint8", ["batch", 32, 32, 3])]},
        "transformer": {
            "file": "transformer.onnx",
            "inputs": [io("input_ids", "int64", ["batch", "sequence"]), io("position_ids", "int64", ["batch", "sequence"]),
                       io("cell_ids", "int64", ["batch", "sequence"])] + [kv(n, "past_sequence") for n in past_in],
            "outputs": [io("logits", "float32", ["batch", "sequence", len(layout.VOCAB)])]
                       + [kv(n, "total_sequence") for n in past_out] + [kv(n, "sequence") for n in kv_names("new", L)],
            "roles": {"tokens": "input_ids", "positions": "position_ids", "cells": "cell_ids", "logits": "logits"},
            "kvCache": {"layers": L, "heads": H, "headDim": hd, "dtype": "float32",
                        "pastKey": "past_key_{layer}", "pastValue": "past_value_{layer}",
                        "presentKey": "present_key_{layer}", "presentValue": "present_value_{layer}",
                        "newKey": "new_key_{layer}", "newValue": "new_value_{layer}"},
            "positionIds": "index of the token in its task's layout",
            "cellIds": "1-based slot of the token inside an image segment, 0 outside images",
        },
    }


# Prompt normalisation (the runtime's normalizeWords): lower case, anything but letters and spaces
# becomes a space, then these words are read as the vocabulary's own.
ALIASES = {"an": "a", "centre": "center", "grey": "gray"}


def tokenizer_file():
    return {"type": "word", "lowercase": True, "stripPattern": "[^a-z ]", "aliases": ALIASES, "vocab": layout.VOCAB,
            "specials": layout.SPECIALS, "words": layout.WORDS,
            "wordRange": [len(layout.SPECIALS), layout.IMAGE_OFFSET]}


def manifest(graphs, info, metrics, size_bytes):
    n_colors, n_codes = tokenizer.N_COLORS, layout.N_IMAGE_CODES
    lay = layout.manifest_layouts()
    return {
        "format": FORMAT, "formatVersion": FORMAT_VERSION, "name": "tiny-shapes",
        "description": "Tiny unified autoregressive model of one shape on a plain background: generates, "
                       "edits, captions and scores 32x32 images with one decoder-only transformer.",
        "tasks": {
            "generate": {"layout": lay["generate"], "text": "prompt", "output": "output", "guidance": True},
            "edit": {"layout": lay["edit"], "image": "input", "text": "instruction", "output": "output", "guidance": True},
            "caption": {"layout": lay["caption"], "image": "input", "output": "output"},
            "score": {"layout": lay["caption"], "image": "input", "text": "output", "reduce": "exp-mean-logprob"},
        },
        "unconditional": "the task's text segment filled with <pad> (or the negative prompt)",
        "image": {"width": domain.SIZE, "height": domain.SIZE, "channels": 3, "tokens": tokenizer.TOKENS,
                  "grid": [tokenizer.GRID, tokenizer.GRID], "patch": tokenizer.PATCH, "codes": n_codes,
                  "vocabOffset": layout.IMAGE_OFFSET,
                  "slots": [{"count": 2, "codes": [0, n_colors], "what": "background colour, object colour"},
                            {"count": tokenizer.GRID ** 2, "codes": [n_colors, n_codes], "what": "4x4 patch masks, row-major"}]},
        "vocab": {"size": len(layout.VOCAB), "file": "tokenizer.json",
                  "specials": {t: layout.ID[t] for t in layout.SPECIALS},
                  "wordRange": [len(layout.SPECIALS), layout.IMAGE_OFFSET],
                  "imageRange": [layout.IMAGE_OFFSET, layout.IMAGE_OFFSET + n_codes]},
        "graphs": graphs,
        "defaults": DEFAULTS,
        "domain": {"palette": {c: list(domain.PALETTE[c]) for c in domain.COLORS}, "shapes": domain.SHAPES,
                   "sizes": domain.SIZES, "positions": domain.POSITIONS},
        "training": {**info, "heldout": {"fraction": domain.HELDOUT_FRACTION, "seed": domain.HELDOUT_SEED,
                                         "combinations": [list(c) for c in domain.heldout_combos()]}},
        "metrics": metrics,
        "bundleBytes": size_bytes,
    }


def parity(model, codebook, table):
    """Fixed pixels -> codes, codes -> pixels, ids -> logits (with and without cache), greedy outputs."""
    enc, dec = tokenizer.Encoder(table), tokenizer.Decoder(codebook)
    runner = infer.Runner(model)
    rng = np.random.default_rng(7)
    scenes = [domain.Scene("large", "red", "circle", "top left", "blue", 1, -2),
              domain.Scene("small", "yellow", "triangle", "bottom right", "purple", -3, 0)]
    pixels = np.stack([domain.render(scenes[0]), domain.render(scenes[1], noise=6, rng=rng),
                       degrade.jpeg(domain.render(scenes[1]), 60)])
    codes = enc(torch.tensor(pixels)).numpy()
    prompt = "a large red circle at the top left on a blue background"
    gen_plain = runner.generate([prompt])[0]
    d = DEFAULTS["generate"]
    gen_cfg = runner.generate([prompt], cfg=d["cfg"], min_ratio=d["cfgMinRatio"])[0]
    cap_texts, cap_ids = runner.caption(list(codes))
    edit = runner.edit([codes[0]], ["make the background yellow"])[0]
    # one generate sequence: logits at a few positions, full pass vs prefix + one token per step
    seq = torch.tensor([layout.sequence("generate", {"prompt": prompt}, {"output": gen_plain})])
    positions = [15, 16, 17, 50, seq.shape[1] - 1]
    full, _ = runner.step("generate", seq, 0, None)
    start = layout.offsets("generate")[0]["output"][0]
    steps, past = [], None
    logits, past = runner.step("generate", seq[:, :start], 0, None)
    steps.append(logits[0])
    for i in range(start, seq.shape[1]):
        logits, past = runner.step("generate", seq[:, i:i + 1], i, past)
        steps.append(logits[0])
    cached = torch.cat(steps, 0)
    pick = lambda t: [[round(float(v), 6) for v in t[p]] for p in positions]
    return {
        "encoder": {"pixels": pixels.reshape(len(pixels), -1).tolist(), "codes": codes.tolist()},
        "decoder": {"codes": codes.tolist(), "pixels": dec(torch.tensor(codes)).numpy().reshape(len(codes), -1).tolist()},
        "transformer": {"task": "generate", "inputIds": seq[0].tolist(), "prefix": start, "positions": positions,
                        "logitsFull": pick(full[0]), "logitsCached": pick(cached),
                        "tolerance": 1e-3},
        "greedy": {
            "generate": {"prompt": prompt, "cfg": 1.0, "codes": gen_plain.tolist()},
            "generateGuided": {"prompt": prompt, "cfg": d["cfg"], "cfgMinRatio": d["cfgMinRatio"], "codes": gen_cfg.tolist()},
            "edit": {"instruction": "make the background yellow", "image": 0, "cfg": 1.0, "codes": edit.tolist()},
            "caption": {"texts": cap_texts, "ids": cap_ids},
            "score": {"image": 0, "text": cap_texts[0],
                      "value": float(runner.score([codes[0]], [cap_texts[0]])[0])},
        },
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--metrics")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ck = torch.load(args.ckpt)
    codebook = ck["codebook"]
    table = tokenizer.lookup_table(codebook)
    model, _ = train.build(codebook)
    model.load_state_dict(ck["state"])
    model.eval()
    os.makedirs(args.out, exist_ok=True)
    with torch.no_grad():
        graphs = export_graphs(model, codebook, table, args.out)
        fixture = parity(model, codebook, table)
    with open(f"{args.out}/tokenizer.json", "w") as f:
        json.dump(tokenizer_file(), f, indent=1)
    with open(f"{args.out}/parity.json", "w") as f:
        json.dump(fixture, f)
    metrics = json.load(open(args.metrics)) if args.metrics and os.path.exists(args.metrics) else None
    files = [g["file"] for g in graphs.values()] + ["tokenizer.json"]
    size = sum(os.path.getsize(f"{args.out}/{f}") for f in files)
    with open(f"{args.out}/manifest.json", "w") as f:
        json.dump(manifest(graphs, ck["info"], metrics, size), f, indent=1)
    print(f"exported to {args.out}: {size} bytes of graphs + tokenizer")


if __name__ == "__main__":
    main()
