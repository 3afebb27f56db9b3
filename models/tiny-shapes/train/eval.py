"""Evaluate the trained torch model on the held-out combinations and on all, and print a table.

Images are judged by domain.check (a rule-based reader), never by the model itself.
"shifted": rendered with at most 2 px jitter, then the whole image shifted by 1 px (so the object is
still within the trained 3 px of its grid centre; beyond that its position is ambiguous).
"noisy": Gaussian pixel noise, sigma 8 (0..255 scale).

usage: eval.py --ckpt work/model.pt --out work/metrics.json [--n 400]
"""
import argparse
import json
import time

import numpy as np
import torch

import domain
import infer
import layout
import tokenizer
import train

ATTRS = ["size", "color", "shape", "position", "background"]
NOISE = 8.0
CFG_SWEEP = [1.0, 2.0, 3.0, 5.0]
MIN_RATIO_SWEEP = [0.01, 0.1, 0.3]  # at the default cfg: which tokens guidance may pick


def attrs(scene):
    return dict(zip(ATTRS, scene.combo()))


def variant_image(scene, kind, rng):
    if kind == "clean":
        return domain.render(scene)
    if kind == "noisy":
        return domain.render(scene, noise=NOISE, rng=rng)
    s = domain.Scene(*scene.combo(), dx=int(np.clip(scene.dx, -2, 2)), dy=int(np.clip(scene.dy, -2, 2)))
    dx, dy = [(1, 0), (-1, 0), (0, 1), (0, -1)][rng.integers(4)]
    return domain.shift(domain.render(s), dx, dy, domain.PALETTE[s.background])


def changed_caption(scene, rng):
    """The scene's caption with one attribute changed to another valid value."""
    a = ATTRS[rng.integers(len(ATTRS))]
    pool = {"size": domain.SIZE_NAMES, "shape": domain.SHAPES, "position": domain.POSITIONS,
            "color": [c for c in domain.COLORS if c != scene.background],
            "background": [c for c in domain.COLORS if c != scene.color]}[a]
    cur = getattr(scene, a)
    other = [v for v in pool if v != cur]
    from dataclasses import replace
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
        rng = np.random.default_rng(seed)
        all_idx = rng.choice(len(domain.ALL_COMBOS), size=n, replace=False)
        self.sets = {"heldout": [held[i] for i in rng.permutation(len(held))[:n]],
                     "all": [domain.ALL_COMBOS[i] for i in all_idx]}
        self.held = set(held)

    def scenes(self, name, rng):
        return [domain.scene_from_combo(c, rng) for c in self.sets[name]]

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

    def tokenizer_metrics(self, name):
        rng = np.random.default_rng(self.seed)
        sc = self.scenes(name, rng)
        clean = [domain.render(s) for s in sc]
        noisy = [domain.render(s, noise=NOISE, rng=rng) for s in sc]
        rec = self.decode(self.encode(clean))
        rec_noisy = self.decode(self.encode(noisy))
        psnr = lambda a, b: float(10 * np.log10(255 ** 2 / max(np.mean((a.astype(float) - b.astype(float)) ** 2), 1e-10)))
        ref = np.stack(clean)
        return {"psnr": min(psnr(rec, ref), 100.0), "psnrNoisyInput": min(psnr(rec_noisy, ref), 100.0),
                "exact": float(np.mean([(r == c).all() for r, c in zip(rec, clean)])),
                "noiseInvariant": float(np.mean((self.encode(noisy) == self.encode(clean)).all(1)))}

    def caption_metrics(self, name):
        out = {}
        for kind in ("clean", "shifted", "noisy"):
            rng = np.random.default_rng(self.seed + 1)
            sc = self.scenes(name, rng)
            codes = self.encode([variant_image(s, kind, rng) for s in sc])
            texts = self.batched(lambda c: self.runner.caption(list(c))[0], codes)
            out[kind] = float(np.mean([domain.parse_caption(t) == attrs(s) for t, s in zip(texts, sc)]))
        return out

    def score_metrics(self, name):
        out = {}
        for kind in ("clean", "shifted", "noisy"):
            rng = np.random.default_rng(self.seed + 2)
            sc = self.scenes(name, rng)
            codes = list(self.encode([variant_image(s, kind, rng) for s in sc]))
            right = self.batched(lambda p: self.runner.score([c for c, _ in p], [t for _, t in p]),
                                 [(c, domain.caption(s)) for c, s in zip(codes, sc)])
            wrong = self.batched(lambda p: self.runner.score([c for c, _ in p], [t for _, t in p]),
                                 [(c, changed_caption(s, rng)) for c, s in zip(codes, sc)])
            out[kind] = float(np.mean(np.array(right) > np.array(wrong)))
        return out

    def generate_metrics(self, name, cfg, min_ratio, temperature, partial=False):
        rng = np.random.default_rng(self.seed + 3)
        sc = self.scenes(name, rng)
        named, prompts = [], []
        for s in sc:
            ws, wp = (rng.random() >= 0.5, rng.random() >= 0.5) if partial else (True, True)
            prompts.append(domain.caption(s, with_size=ws, with_position=wp))
            named.append(domain.parse_caption(prompts[-1]))
        codes = self.batched(lambda p: self.runner.generate(p, cfg=cfg, min_ratio=min_ratio,
                                                            temperature=temperature, rng=rng), prompts)
        imgs = self.decode(codes)
        return float(np.mean([domain.agrees(n, domain.check(im)) for n, im in zip(named, imgs)]))

    def edit_cases(self, name, rng):
        """(source scene, instruction, target scene) whose target lies in the named set."""
        cases, pool = [], self.sets[name]
        while len(cases) < len(pool):
            target = domain.scene_from_combo(pool[len(cases)], rng)
            kind = domain.EDIT_KINDS[rng.integers(len(domain.EDIT_KINDS))]
            # pick a source from which this edit leads to the target
            src_vals = domain.edit_values(target, kind)
            field = {"color": "color", "background": "background", "move": "position", "size": "size", "shape": "shape"}[kind]
            from dataclasses import replace
            src = replace(target, **{field: src_vals[rng.integers(len(src_vals))]})
            if kind == "move":
                d = rng.integers(-domain.JITTER, domain.JITTER + 1, size=2)
                src = replace(src, dx=int(d[0]), dy=int(d[1]))
            value = {"color": target.color, "background": target.background, "move": target.position,
                     "size": target.size, "shape": target.shape}[kind]
            instr, _ = domain.edit_instruction(src, kind, value)
            cases.append((src, instr, target))
        return cases

    def edit_metrics(self, name, cfg, min_ratio, temperature):
        rng = np.random.default_rng(self.seed + 4)
        cases = self.edit_cases(name, rng)
        codes = self.encode([domain.render(s) for s, _, _ in cases])
        items = list(zip(codes, [i for _, i, _ in cases]))
        out = self.batched(lambda b: self.runner.edit([c for c, _ in b], [i for _, i in b], cfg=cfg,
                                                      min_ratio=min_ratio, temperature=temperature, rng=rng), items)
        imgs = self.decode(out)
        return float(np.mean([domain.check(im) == attrs(t) for im, (_, _, t) in zip(imgs, cases)]))


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
    m = {"samplesPerSet": args.n, "noiseSigma": NOISE, "defaults": {"generate": g, "edit": e}}
    for name in ("heldout", "all"):
        m[name] = {
            "tokenizer": ev.tokenizer_metrics(name),
            "caption": ev.caption_metrics(name),
            "score": ev.score_metrics(name),
            "generate": ev.generate_metrics(name, g["cfg"], g["cfgMinRatio"], g["temperature"]),
            "generatePartialPrompt": ev.generate_metrics(name, g["cfg"], g["cfgMinRatio"], g["temperature"], partial=True),
            "edit": ev.edit_metrics(name, e["cfg"], e["cfgMinRatio"], e["temperature"]),
        }
        print(f"{name} done {time.time() - t0:.0f}s", flush=True)
    # guidance sweep on held-out prompts: restricted guidance vs plain guidance
    m["heldout"]["generateByCfg"] = {str(c): ev.generate_metrics("heldout", c, g["cfgMinRatio"], g["temperature"]) for c in CFG_SWEEP}
    m["heldout"]["generatePlainCfg3"] = ev.generate_metrics("heldout", 3.0, 1e-30, g["temperature"])
    m["heldout"]["editByCfg"] = {str(c): ev.edit_metrics("heldout", c, e["cfgMinRatio"], e["temperature"]) for c in CFG_SWEEP[:3]}
    m["heldout"]["generateByMinRatio"] = {str(r): ev.generate_metrics("heldout", g["cfg"], r, g["temperature"]) for r in MIN_RATIO_SWEEP}
    m["heldout"]["editByMinRatio"] = {str(r): ev.edit_metrics("heldout", e["cfg"], r, e["temperature"]) for r in MIN_RATIO_SWEEP}
    m["evalSeconds"] = round(time.time() - t0, 1)
    json.dump(m, open(args.out, "w"), indent=1)
    print_table(m)


def print_table(m):
    rows = [("tokenizer PSNR dB (clean)", "tokenizer", "psnr"), ("tokenizer PSNR dB (noisy input vs clean)", "tokenizer", "psnrNoisyInput"),
            ("tokenizer exact reconstruction", "tokenizer", "exact"), ("encoder noise-invariant", "tokenizer", "noiseInvariant"),
            ("caption all attributes (clean)", "caption", "clean"), ("caption all attributes (shifted 1px)", "caption", "shifted"),
            ("caption all attributes (noisy)", "caption", "noisy"), ("score right > one-changed (clean)", "score", "clean"),
            ("score right > one-changed (shifted 1px)", "score", "shifted"), ("score right > one-changed (noisy)", "score", "noisy"),
            ("generate, full prompt (default cfg)", "generate", None), ("generate, size/position omitted at random", "generatePartialPrompt", None),
            ("edit (changed as asked, rest kept)", "edit", None)]
    print(f"{'metric':<44}{'held-out':>10}{'all':>10}")
    for label, k, sub in rows:
        v = [m[s][k][sub] if sub else m[s][k] for s in ("heldout", "all")]
        print(f"{label:<44}{v[0]:>10.4f}{v[1]:>10.4f}")
    print("held-out generate by cfg (restricted):", m["heldout"]["generateByCfg"], "plain cfg 3:", m["heldout"]["generatePlainCfg3"])
    print("held-out edit by cfg:", m["heldout"]["editByCfg"])
    print("held-out generate by cfgMinRatio (default cfg):", m["heldout"]["generateByMinRatio"])
    print("held-out edit by cfgMinRatio (default cfg):", m["heldout"]["editByMinRatio"])


if __name__ == "__main__":
    main()
