"""Train the tiny unified model on generate, edit and caption sequences at once (fixed seed, fixed steps).

usage: train.py --steps N --out work/model.pt [--seed S]
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
from model import TinyUnified

BATCH = {"generate": 40, "edit": 24, "caption": 40}
CONFIG = {"d": 128, "layers": 6, "heads": 4}


def build(codebook):
    layout.init(codebook)
    max_len = max(layout.offsets(t)[1] for t in layout.LAYOUTS)
    return TinyUnified(len(layout.VOCAB), max_len, tokenizer.TOKENS + 1, **CONFIG), max_len


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    codebook = tokenizer.build_codebook()
    encoder = tokenizer.Encoder(tokenizer.lookup_table(codebook))
    model, max_len = build(codebook)
    sampler = data.Sampler(encoder, args.seed)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"params {n_params}, vocab {len(layout.VOCAB)}, max_len {max_len}", flush=True)

    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    warmup = min(300, args.steps // 10)
    lr_at = lambda s: args.lr * (s / warmup if s < warmup else
                                 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (s - warmup) / max(1, args.steps - warmup))))
    pos = {t: torch.arange(layout.offsets(t)[1]) for t in layout.LAYOUTS}
    cells = {t: torch.tensor(layout.cell_ids(t)) for t in layout.LAYOUTS}
    t0, tokens, running = time.time(), 0, {t: 0.0 for t in BATCH}
    for step in range(1, args.steps + 1):
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
        if step % 100 == 0 or step == args.steps:
            k = 100 if step % 100 == 0 else step % 100
            el = time.time() - t0
            print(f"step {step} " + " ".join(f"{t} {v / k:.4f}" for t, v in running.items())
                  + f" lr {lr_at(step):.2e} {step / el:.2f} step/s {el:.0f}s", flush=True)
            running = {t: 0.0 for t in BATCH}
    wall = time.time() - t0
    examples = args.steps * sum(BATCH.values())
    info = {"steps": args.steps, "seed": args.seed, "wallSeconds": round(wall, 1), "batch": BATCH,
            "examplesSeen": examples, "tokensSeen": tokens, "optimizer": "AdamW", "lr": args.lr,
            "parameters": n_params, "trainCombinations": len(sampler.train_combos),
            "heldoutCombinations": len(sampler.held), "threads": 1}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save({"state": model.state_dict(), "config": CONFIG, "max_len": max_len, "codebook": codebook,
                "info": info}, args.out)
    print(json.dumps(info), flush=True)


if __name__ == "__main__":
    main()
