"""Training batches for the three sequence kinds, drawn from the training combinations only.

Pixel noise and jitter: jitter is in every scene. Noise is snapped away by the palette tokenizer
(eval.py verifies encoder(noisy) == encoder(clean)), so sequences are built from clean image codes.
"""
import numpy as np
import torch

import domain
import layout
import tokenizer


class ImageCodes:
    """Image codes of any scene, from the real encoder: patch codes depend only on shape/size/centre."""

    def __init__(self, encoder):
        self.encoder, self.cache = encoder, {}

    def __call__(self, scene):
        key = (scene.shape, scene.size, scene.centre())
        if key not in self.cache:
            probe = domain.Scene(scene.size, "white", scene.shape, scene.position, "black", scene.dx, scene.dy)
            with torch.no_grad():
                self.cache[key] = self.encoder(torch.tensor(domain.render(probe)[None]))[0, 2:].numpy()
        c = domain.COLORS
        return np.concatenate([[c.index(scene.background), c.index(scene.color)], self.cache[key]])


class Sampler:
    def __init__(self, encoder, seed, p_drop_prompt=0.12, p_omit=0.3):
        self.rng = np.random.default_rng(seed)
        held = set(domain.heldout_combos())
        self.train_combos = [c for c in domain.ALL_COMBOS if c not in held]
        self.held = held
        self.codes = ImageCodes(encoder)
        self.p_drop, self.p_omit = p_drop_prompt, p_omit

    def scene(self):
        return domain.scene_from_combo(self.train_combos[self.rng.integers(len(self.train_combos))], self.rng)

    def generate(self):
        s = self.scene()
        prompt = None
        if self.rng.random() >= self.p_drop:
            prompt = domain.caption(s, with_size=self.rng.random() >= self.p_omit,
                                    with_position=self.rng.random() >= self.p_omit)
        return layout.sequence("generate", {"prompt": prompt}, {"output": self.codes(s)})

    def edit(self):
        while True:
            s = self.scene()
            kind = domain.EDIT_KINDS[self.rng.integers(len(domain.EDIT_KINDS))]
            values = domain.edit_values(s, kind)
            instr, t = domain.edit_instruction(s, kind, values[self.rng.integers(len(values))])
            if kind == "move":  # a moved object gets a fresh jitter
                dx, dy = self.rng.integers(-domain.JITTER, domain.JITTER + 1, size=2)
                t = domain.Scene(*t.combo(), dx=int(dx), dy=int(dy))
            if t.combo() not in self.held:
                if self.rng.random() < self.p_drop:  # unconditional rows make guidance possible for edits too
                    instr = None
                return layout.sequence("edit", {"instruction": instr}, {"input": self.codes(s), "output": self.codes(t)})

    def caption(self):
        s = self.scene()
        return layout.sequence("caption", {"output": domain.caption(s)}, {"input": self.codes(s)})

    def batch(self, task, n):
        ids = torch.tensor([getattr(self, task)() for _ in range(n)], dtype=torch.int64)
        return ids


def target_mask(task, ids):
    """Which positions are predicted (loss on them): the output image, or the caption text + <eos>."""
    offs, total = layout.offsets(task)
    start, n = offs["output"]
    m = torch.zeros(ids.shape, dtype=torch.bool)
    m[:, start:start + n] = True
    if task == "caption":  # ignore padding after <eos>, but keep <eos> itself
        m &= ids != layout.ID["<pad>"]
    return m
