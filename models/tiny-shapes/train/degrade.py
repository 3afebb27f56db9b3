"""What users bring instead of picflow's own renders: JPEG, resampled, shifted and noisy images.

Each degradation takes and returns uint8 [32,32,3]; "resampled" ends with the runtime's own step
(nearest-neighbour back to 32x32), so the tokenizer sees what it sees in picflow. Used by data.py
(training inputs) and eval.py (one category each, on held-out combinations).
"""
import io

import numpy as np
from PIL import Image

import domain

KINDS = ["clean", "jpeg", "resampled", "shifted", "noisy"]
JPEG_QUALITY = (50, 95)
RESAMPLE_SIZES = (16, 256)
KERNELS = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
           "box": Image.BOX, "lanczos": Image.LANCZOS}
SHIFT = 3
NOISE_SIGMA = 12.0


def jpeg(img, quality):
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=int(quality))
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def resample(img, size, kernel):
    """To size x size with `kernel`, then back to 32x32 with nearest neighbour as picflow's runtime does."""
    big = Image.fromarray(img).resize((size, size), KERNELS[kernel])
    return np.asarray(big.resize((domain.SIZE, domain.SIZE), Image.NEAREST))


def shifted(scene, dx, dy):
    """The whole image shifted by (dx, dy) px, the border filled with the background.

    The scene's own jitter is first reduced so the object ends at most JITTER px from its grid
    centre (beyond that its position would be ambiguous, not merely shifted)."""
    lim = lambda j, d: int(np.clip(j + d, -domain.JITTER, domain.JITTER)) - d
    s = domain.Scene(*scene.combo(), dx=lim(scene.dx, dx), dy=lim(scene.dy, dy))
    return domain.shift(domain.render(s), dx, dy, domain.PALETTE[s.background])


def noisy(img, sigma, rng):
    return np.clip(np.rint(img.astype(np.float32) + rng.normal(0, sigma, img.shape)), 0, 255).astype(np.uint8)


def image(scene, kind, rng):
    """A random image of `kind` for the scene, drawn from the ranges users bring."""
    if kind == "clean":
        return domain.render(scene)
    if kind == "jpeg":
        return jpeg(domain.render(scene), rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1))
    if kind == "resampled":
        size = int(rng.integers(RESAMPLE_SIZES[0], RESAMPLE_SIZES[1] + 1))
        return resample(domain.render(scene), size, list(KERNELS)[rng.integers(len(KERNELS))])
    if kind == "shifted":
        while True:
            dx, dy = (int(v) for v in rng.integers(-SHIFT, SHIFT + 1, size=2))
            if dx or dy:
                return shifted(scene, dx, dy)
    if kind == "noisy":
        return noisy(domain.render(scene), rng.uniform(1.0, NOISE_SIGMA), rng)
    raise ValueError(f"unknown image kind '{kind}'")
