"""Train the tiny unified model on generate, edit and caption sequences at once (fixed seed, fixed steps).

usage: train.py --steps N --decay-steps D --out work/model.pt [--seed S] [--lr LR] [--warmup W]
                [--init transformer.onnx] [--state work/state.pt [--every K] [--resume]]

Learning rate: warm-up, constant, then a cosine decay over the last D steps. Every --every steps the
whole training state (weights, optimizer, data and torch random states) goes to --state; --resume
continues from it. The constant phase does not depend on N, so a run resumed with another N is
the same as one started with that N: N can be fixed once it is known what the machine allows.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import data
import domain
import layout
import tokenizer
import warmstart
from model import TinyUnified

BATCH = {"generate": 20, "edit": 28, "caption": 20}  # edits weigh most: three of their five kinds draw anew
CONFIG = {"d": 128, "layers": 6, "heads": 4}
LOG_EVERY = 25


def build(codebook):
    layout.init(codebook)
    max_len = max(layout.offsets(t)[1] for t in layout.LAYOUTS)
    return TinyUnified(len(layout.VOCAB), max_len, tokenizer.TOKENS + 1, **CONFIG), max_len


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--decay-steps", type=int, required=True)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--init", help="start from the weights of an exported transformer.onnx (warmstart.py)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--state", help="training state written every --every steps")
    ap.add_argument("--every", type=int, default=100)
    ap.add_argument("--resume", action="store_true", help="continue from --state")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    codebook = tokenizer.build_codebook()
    encoder = tokenizer.Encoder(tokenizer.lookup_table(codebook))
    model, max_len = build(codebook)
    if args.init:
        warmstart.load(model, args.init)
    sampler = data.Sampler(encoder, args.seed)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"params {n_params}, vocab {len(layout.VOCAB)}, max_len {max_len}", flush=True)

    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    warmup, decay_from = args.warmup, args.steps - args.decay_steps
    lr_at = lambda s: args.lr * (s / warmup if s < warmup else 1.0 if s <= decay_from else
                                 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (s - decay_from) / max(1, args.decay_steps))))
    first, spent = 1, 0.0
    if args.resume:
        st = torch.load(args.state)
        model.load_state_dict(st["model"]); opt.load_state_dict(st["opt"])
        sampler.rng.bit_generator.state = st["data_rng"]; torch.set_rng_state(st["torch_rng"])
        first, tokens, spent = st["step"] + 1, st["tokens"], st["wall"]
        assert first - 1 <= decay_from, "resume only from the constant phase"
        print(f"resumed at step {st['step']}", flush=True)
    pos = {t: torch.arange(layout.offsets(t)[1]) for t in layout.LAYOUTS}
    cells = {t: torch.tensor(layout.cell_ids(t)) for t in layout.LAYOUTS}
    if not args.resume:
        tokens = 0
    t0, running = time.time() - spent, {t: 0.0 for t in BATCH}
    for step in range(first, args.steps + 1):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        loss = 0.0
        for task, n in BATCH.items():
            ids = sampler.batch(task, n)
            tokens += ids.numel()
            logits = model(ids[:, :-1], pos[task][:-1].expand(n, -1), cells[task][:-1].expand(n, -1))[0]
            m = data.target_mask(task, ids)[:, 1:]
            l = F.cross_entropy(logits[m], ids[:, 1:][m])
            running[task] += l.item()
            loss = loss + l
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % LOG_EVERY == 0 or step == args.steps:
            k = step - max(first - 1, (step - 1) // LOG_EVERY * LOG_EVERY)  # steps since the last line (or the resume)
            el = time.time() - t0
            print(f"step {step} " + " ".join(f"{t} {v / k:.4f}" for t, v in running.items())
                  + f" lr {lr_at(step):.2e} {step / el:.2f} step/s {el:.0f}s", flush=True)
            running = {t: 0.0 for t in BATCH}
        if args.state and step % args.every == 0 and step <= decay_from:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "tokens": tokens,
                        "wall": time.time() - t0, "data_rng": sampler.rng.bit_generator.state,
                        "torch_rng": torch.get_rng_state()}, args.state + ".tmp")
            os.replace(args.state + ".tmp", args.state)
    wall = time.time() - t0
    examples = args.steps * sum(BATCH.values())
    info = {"steps": args.steps, "decaySteps": args.decay_steps, "warmupSteps": args.warmup,
            "init": os.path.basename(args.init) if args.init else None, "seed": args.seed, "wallSeconds": round(wall, 1), "batch": BATCH,
            "examplesSeen": examples, "tokensSeen": tokens, "optimizer": "AdamW", "lr": args.lr,
            "parameters": n_params, "trainCombinations": len(sampler.train_combos),
            "heldoutCombinations": len(sampler.held), "threads": 1}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save({"state": model.state_dict(), "config": CONFIG, "max_len": max_len, "codebook": codebook,
                "info": info}, args.out)
    print(json.dumps(info), flush=True)


if __name__ == "__main__":
    main()
