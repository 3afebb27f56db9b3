"""Training batches for the three sequence kinds, drawn from the training combinations only.

Outputs the model draws anew (generated images; moved, resized and reshaped objects) are drawn at
the grid centre: a prompt or an edit names a cell, not a pixel offset, and one right answer per
prompt keeps sampling at temperature 1 from mixing two placements (an object started one patch row
early) or from drawing a jittered object across the line between two cells. Colour and background
edits keep the input's geometry (the same patches, recoloured).

Prompts leave out size, position and background at times (the grammar allows it; people often name no
background): the model then picks a background, and learns that it is never the object's colour
(without such prompts it was free to paint "a small red circle in the center" red on red; at 10% of
prompts, v3's 1,200 steps still did so for 12% of them, so v4 leaves the background out of 30%).

Inputs the model reads (caption images, edit sources) are what users bring: clean renders with
0-3 px jitter, JPEG, resampled, shifted or noisy versions (degrade.py), coded by the real encoder.
"""
import numpy as np
import torch

import degrade
import domain
import layout

# How often each kind of input image appears (caption inputs; edit sources skip "shifted", whose
# whole-image shift would move the target's geometry too).
# JPEG is the hardest input to caption (its codes differ from the clean render's most often).
CAPTION_INPUTS = {"clean": 0.2, "jpeg": 0.35, "resampled": 0.2, "shifted": 0.1, "noisy": 0.15}
EDIT_INPUTS = {"clean": 0.55, "jpeg": 0.2, "resampled": 0.15, "noisy": 0.1}
# Edit kinds whose output is drawn anew get more weight than the recolouring ones, which copy patches.
EDIT_WEIGHTS = {"color": 0.14, "background": 0.14, "move": 0.26, "size": 0.23, "shape": 0.23}
REDRAWN = {"move", "size", "shape"}


def centred(scene):
    return domain.Scene(*scene.combo())


class ImageCodes:
    """Image codes from the real encoder: clean renders cached by geometry, degraded ones encoded each time."""

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
    def __init__(self, encoder, seed, p_drop_prompt=0.12, p_omit=0.3, p_omit_background=0.3):
        self.rng = np.random.default_rng(seed)
        held = set(domain.heldout_combos())
        self.train_combos = [c for c in domain.ALL_COMBOS if c not in held]
        self.held = held
        self.codes = ImageCodes(encoder)
        self.p_drop, self.p_omit, self.p_omit_bg = p_drop_prompt, p_omit, p_omit_background

    def scene(self):
        return domain.scene_from_combo(self.train_combos[self.rng.integers(len(self.train_combos))], self.rng)

    def choice(self, weights):
        return self.rng.choice(list(weights), p=list(weights.values()))

    def input_image(self, scene, kind):
        """A clean scene's cached codes, or a degraded image to encode with the rest of the batch."""
        return self.codes(scene) if kind == "clean" else degrade.image(scene, kind, self.rng)

    def generate(self):
        s = self.scene()
        prompt = None
        if self.rng.random() >= self.p_drop:
            prompt = domain.caption(s, with_size=self.rng.random() >= self.p_omit,
                                    with_position=self.rng.random() >= self.p_omit,
                                    with_background=self.rng.random() >= self.p_omit_bg)
        return ("generate", {"prompt": prompt}, {"output": self.codes(centred(s))})

    def edit(self):
        while True:
            s = self.scene()
            kind = self.choice(EDIT_WEIGHTS)
            values = domain.edit_values(s, kind)
            instr, t = domain.edit_instruction(s, kind, values[self.rng.integers(len(values))])
            if kind in REDRAWN:
                t = centred(t)
            if t.combo() not in self.held:
                if self.rng.random() < self.p_drop:  # unconditional rows make guidance possible for edits too
                    instr = None
                source = self.input_image(s, self.choice(EDIT_INPUTS))
                return ("edit", {"instruction": instr}, {"input": source, "output": self.codes(t)})

    def caption(self):
        s = self.scene()
        source = self.input_image(s, self.choice(CAPTION_INPUTS))
        return ("caption", {"output": domain.caption(s)}, {"input": source})

    def batch(self, task, n):
        """[n, T] token ids; degraded input images of the whole batch go through the encoder at once."""
        examples = [getattr(self, task)() for _ in range(n)]
        pending = [i for i, (_, _, im) in enumerate(examples) if im.get("input") is not None and im["input"].ndim == 3]
        if pending:
            with torch.no_grad():
                codes = self.codes.encoder(torch.tensor(np.stack([examples[i][2]["input"] for i in pending]))).numpy()
            for i, c in zip(pending, codes):
                examples[i][2]["input"] = c
        return torch.tensor([layout.sequence(*e) for e in examples], dtype=torch.int64)


def target_mask(task, ids):
    """Which positions are predicted (loss on them): the output image, or the caption text + <eos>."""
    offs, total = layout.offsets(task)
    start, n = offs["output"]
    m = torch.zeros(ids.shape, dtype=torch.bool)
    m[:, start:start + n] = True
    if task == "caption":  # ignore padding after <eos>, but keep <eos> itself
        m &= ids != layout.ID["<pad>"]
    return m
