"""Evaluate the trained torch model on held-out attribute combinations and print a table.

Images are judged by domain.check (a rule-based reader), never by the model itself. Every row has
--n samples (400 by default) of combinations never trained on. Caption and score run on each kind
of image users bring (degrade.py): clean renders (0-3 px jitter), JPEG q50-95, resampled to
16-256 px and back with nearest/bilinear/bicubic/box/lanczos kernels, whole image shifted by up to
3 px, Gaussian noise of sigma up to 12.

usage: eval.py --ckpt work/model.pt --out work/metrics.json [--n 400]
"""
import argparse
import json
import time
from dataclasses import replace

import numpy as np
import torch

import degrade
import domain
import infer
import tokenizer
import train

ATTRS = ["size", "color", "shape", "position", "background"]
WEAK_SPOT = "a large red circle in the center on a blue background"
WEAK_SPOT_SEEDS = 16


def attrs(scene):
    return dict(zip(ATTRS, scene.combo()))


def changed_caption(scene, rng):
    """The scene's caption with one attribute changed to another valid value."""
    a = ATTRS[rng.integers(len(ATTRS))]
    pool = {"size": domain.SIZE_NAMES, "shape": domain.SHAPES, "position": domain.POSITIONS,
            "color": [c for c in domain.COLORS if c != scene.background],
            "background": [c for c in domain.COLORS if c != scene.color]}[a]
    other = [v for v in pool if v != getattr(scene, a)]
    return domain.caption(replace(scene, **{a: other[rng.integers(len(other))]}))


class Evaluator:
    def __init__(self, ckpt, n, seed=99):
        ck = torch.load(ckpt)
        self.codebook = ck["codebook"]
        model, _ = train.build(self.codebook)
        model.load_state_dict(ck["state"])
        self.runner = infer.Runner(model)
        self.enc = tokenizer.Encoder(tokenizer.lookup_table(self.codebook))
        self.dec = tokenizer.Decoder(self.codebook)
        self.seed, self.n = seed, n
        held = domain.heldout_combos()
        # n combinations, cycling through the held-out list (467) in a fixed random order
        order = np.random.default_rng(seed).permutation(len(held))
        self.combos = [held[order[i % len(held)]] for i in range(n)]

    def scenes(self, rng):
        return [domain.scene_from_combo(c, rng) for c in self.combos]

    @torch.no_grad()
    def encode(self, imgs):
        return self.enc(torch.tensor(np.stack(imgs))).numpy()

    @torch.no_grad()
    def decode(self, codes):
        return self.dec(torch.tensor(np.asarray(codes))).numpy()

    def batched(self, fn, items, size=128):
        out = []
        for i in range(0, len(items), size):
            out.extend(fn(items[i:i + size]))
        return out

    def tokenizer_metrics(self):
        """Exact round trip of clean renders, and how often a degraded image codes exactly as its clean one."""
        rng = np.random.default_rng(self.seed)
        sc = self.scenes(rng)
        clean = [domain.render(s) for s in sc]
        codes = self.encode(clean)
        out = {"exact": float(np.mean([(r == c).all() for r, c in zip(self.decode(codes), clean)]))}
        for kind in degrade.KINDS[1:]:
            if kind != "shifted":  # a shifted image rightly codes differently
                out[f"sameCodes.{kind}"] = float(np.mean((self.encode([degrade.image(s, kind, rng) for s in sc]) == codes).all(1)))
        return out

    def understanding_metrics(self):
        """Caption exact and score ranking, per kind of input image."""
        cap, score = {}, {}
        for kind in degrade.KINDS:
            rng = np.random.default_rng(self.seed + 1)
            sc = self.scenes(rng)
            codes = list(self.encode([degrade.image(s, kind, rng) for s in sc]))
            texts = self.batched(lambda c: self.runner.caption(list(c))[0], codes)
            cap[kind] = float(np.mean([domain.parse_caption(t) == attrs(s) for t, s in zip(texts, sc)]))
            run = lambda p: self.runner.score([c for c, _ in p], [t for _, t in p])
            right = self.batched(run, [(c, domain.caption(s)) for c, s in zip(codes, sc)])
            wrong = self.batched(run, [(c, changed_caption(s, rng)) for c, s in zip(codes, sc)])
            score[kind] = float(np.mean(np.array(right) > np.array(wrong)))
        return cap, score

    def generate_metrics(self, cfg, min_ratio, temperature, prompts="full"):
        """Share of generated images in which every attribute the prompt names is right. prompts:
        "full", "partial" (size and position each left out half the time) or "no background" (the
        model picks the background: right only if the object is there, in a colour of its own)."""
        rng = np.random.default_rng(self.seed + 3)
        named, texts = [], []
        for s in self.scenes(rng):
            ws, wp = (rng.random() >= 0.5, rng.random() >= 0.5) if prompts == "partial" else (True, True)
            texts.append(domain.caption(s, with_size=ws, with_position=wp, with_background=prompts != "no background"))
            named.append(domain.parse_caption(texts[-1]))
        codes = self.batched(lambda p: self.runner.generate(p, cfg=cfg, min_ratio=min_ratio,
                                                            temperature=temperature, rng=rng), texts)
        return float(np.mean([domain.agrees(n, domain.check(im)) for n, im in zip(named, self.decode(codes))]))

    def weak_spot(self, cfg, min_ratio, temperature):
        """The README's old weak spot: right for how many of 16 seeds."""
        right = 0
        for seed in range(WEAK_SPOT_SEEDS):
            codes = self.runner.generate([WEAK_SPOT], cfg=cfg, min_ratio=min_ratio, temperature=temperature,
                                         rng=np.random.default_rng(seed))
            right += domain.agrees(domain.parse_caption(WEAK_SPOT), domain.check(self.decode(codes)[0]))
        return right

    def edit_cases(self, kind, rng):
        """(source scene, instruction, target scene) of one edit kind, whose targets are held out."""
        cases = []
        field = {"color": "color", "background": "background", "move": "position", "size": "size", "shape": "shape"}[kind]
        for target in self.scenes(rng):
            # a source from which this edit leads to the target
            src_vals = domain.edit_values(target, kind)
            src = replace(target, **{field: src_vals[rng.integers(len(src_vals))]})
            if kind == "move":
                d = rng.integers(-domain.JITTER, domain.JITTER + 1, size=2)
                src = replace(src, dx=int(d[0]), dy=int(d[1]))
            instr, _ = domain.edit_instruction(src, kind, getattr(target, field))
            cases.append((src, instr, target))
        return cases

    def edit_metrics(self, cfg, min_ratio, temperature):
        out = {}
        for kind in domain.EDIT_KINDS:
            rng = np.random.default_rng(self.seed + 4)
            cases = self.edit_cases(kind, rng)
            items = list(zip(self.encode([domain.render(s) for s, _, _ in cases]), [i for _, i, _ in cases]))
            codes = self.batched(lambda b: self.runner.edit([c for c, _ in b], [i for _, i in b], cfg=cfg,
                                                            min_ratio=min_ratio, temperature=temperature, rng=rng), items)
            out[kind] = float(np.mean([domain.check(im) == attrs(t) for im, (_, _, t) in zip(self.decode(codes), cases)]))
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=400)
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()
    ev = Evaluator(args.ckpt, args.n)
    from export import DEFAULTS
    g, e = DEFAULTS["generate"], DEFAULTS["edit"]
    m = {"samplesPerRow": args.n, "set": "heldout", "defaults": {"generate": g, "edit": e},
         "images": {"jpegQuality": list(degrade.JPEG_QUALITY), "resampleSizes": list(degrade.RESAMPLE_SIZES),
                    "kernels": list(degrade.KERNELS), "shiftPx": degrade.SHIFT, "noiseSigmaMax": degrade.NOISE_SIGMA}}
    m["tokenizer"] = ev.tokenizer_metrics()
    m["caption"], m["score"] = ev.understanding_metrics()
    print(f"understanding done {time.time() - t0:.0f}s", flush=True)
    m["generate"] = ev.generate_metrics(g["cfg"], g["cfgMinRatio"], g["temperature"])
    m["generatePartialPrompt"] = ev.generate_metrics(g["cfg"], g["cfgMinRatio"], g["temperature"], prompts="partial")
    m["generateNoBackground"] = ev.generate_metrics(g["cfg"], g["cfgMinRatio"], g["temperature"], prompts="no background")
    m["weakSpot"] = {"prompt": WEAK_SPOT, "right": ev.weak_spot(g["cfg"], g["cfgMinRatio"], g["temperature"]), "of": WEAK_SPOT_SEEDS}
    print(f"generate done {time.time() - t0:.0f}s", flush=True)
    m["edit"] = ev.edit_metrics(e["cfg"], e["cfgMinRatio"], e["temperature"])
    m["evalSeconds"] = round(time.time() - t0, 1)
    json.dump(m, open(args.out, "w"), indent=1)
    print_table(m)


def print_table(m):
    print(f"held-out combinations, {m['samplesPerRow']} samples per row")
    print(f"{'images':<12}{'caption exact':>15}{'score ranks right first':>26}{'codes as clean':>16}")
    for kind in degrade.KINDS:
        same = m["tokenizer"].get(f"sameCodes.{kind}")
        print(f"{kind:<12}{m['caption'][kind]:>15.4f}{m['score'][kind]:>26.4f}{'' if same is None else f'{same:.4f}':>16}")
    print(f"tokenizer exact reconstruction {m['tokenizer']['exact']:.4f}")
    print(f"generate, full prompt {m['generate']:.4f}; size/position left out at random {m['generatePartialPrompt']:.4f}; "
          f"background left out {m['generateNoBackground']:.4f}")
    w = m["weakSpot"]
    print(f"weak spot '{w['prompt']}': {w['right']}/{w['of']} seeds")
    print("edit by kind: " + ", ".join(f"{k} {v:.4f}" for k, v in m["edit"].items()))


if __name__ == "__main__":
    main()
