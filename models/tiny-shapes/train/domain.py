"""The tiny-shapes domain: palette, scenes, renderer, grammar, held-out set and a rule-based checker.

Everything here is fixed by issue 3; tests and users rely on it.
"""
from dataclasses import dataclass, replace
import numpy as np

SIZE = 32
PALETTE = {
    "red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 220),
    "yellow": (240, 210, 40), "purple": (140, 60, 190), "orange": (245, 140, 30),
    "white": (245, 245, 245), "black": (25, 25, 25), "gray": (128, 128, 128),
}
COLORS = list(PALETTE)
PALETTE_RGB = np.array([PALETTE[c] for c in COLORS], dtype=np.uint8)
SHAPES = ["circle", "square", "triangle"]
SIZES = {"small": 8, "large": 14}
SIZE_NAMES = list(SIZES)
# Position names in row-major grid order; grid centres at 8, 16, 24.
POSITIONS = ["top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right"]
GRID = [8, 16, 24]
JITTER = 3  # px; keeps the object centre inside its third of the image


@dataclass(frozen=True)
class Scene:
    size: str
    color: str
    shape: str
    position: str
    background: str
    dx: int = 0  # jitter of the object centre, px
    dy: int = 0

    def combo(self):
        return (self.size, self.color, self.shape, self.position, self.background)

    def centre(self):
        """Object centre after jitter, clamped so the object stays inside the image."""
        e = SIZES[self.size]
        p = POSITIONS.index(self.position)
        cx, cy = GRID[p % 3] + self.dx, GRID[p // 3] + self.dy
        lo, hi = e // 2, SIZE - (e - e // 2)
        return int(np.clip(cx, lo, hi)), int(np.clip(cy, lo, hi))


def shape_mask(shape, extent, cx, cy):
    """Boolean [32,32] mask of a shape with the given extent whose box is centred at (cx, cy)."""
    ys, xs = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    x0, y0 = cx - extent // 2, cy - extent // 2
    inbox = (xs >= x0) & (xs < x0 + extent) & (ys >= y0) & (ys < y0 + extent)
    if shape == "square":
        return inbox
    if shape == "circle":
        r = extent / 2
        return (xs - (x0 + r)) ** 2 + (ys - (y0 + r)) ** 2 <= r * r
    # isosceles triangle pointing up: apex at the top centre, base on the bottom edge
    t = (ys - y0) / extent
    return inbox & (np.abs(xs - (x0 + extent / 2)) <= t * extent / 2 + 1e-9)


def render(scene, noise=0.0, rng=None):
    """uint8 [32,32,3] image of a scene, with optional Gaussian pixel noise (sigma in 0..255 units)."""
    cx, cy = scene.centre()
    m = shape_mask(scene.shape, SIZES[scene.size], cx, cy)
    img = np.empty((SIZE, SIZE, 3), dtype=np.float32)
    img[:] = PALETTE[scene.background]
    img[m] = PALETTE[scene.color]
    if noise > 0:
        img += rng.normal(0, noise, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def shift(img, dx, dy, fill):
    """Shift an image by (dx, dy) px, filling the uncovered border with `fill` (RGB)."""
    out = np.empty_like(img)
    out[:] = fill
    h, w = img.shape[:2]
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = img[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


# ---- grammar -----------------------------------------------------------------------------------

def position_phrase(position):
    return "in the center" if position == "center" else f"at the {position}"


def caption(scene, with_size=True, with_position=True, with_background=True):
    words = ["a"] + ([scene.size] if with_size else []) + [scene.color, scene.shape]
    if with_position:
        words.append(position_phrase(scene.position))
    return " ".join(words + (["on", "a", scene.background, "background"] if with_background else []))


def parse_caption(text):
    """Attributes named in a caption/prompt: dict with some of size, color, shape, position, background."""
    w = text.split()
    out = {}
    try:
        i = 1 if w and w[0] == "a" else 0
        if i < len(w) and w[i] in SIZES:
            out["size"] = w[i]; i += 1
        if i < len(w) and w[i] in PALETTE:
            out["color"] = w[i]; i += 1
        if i < len(w) and w[i] in SHAPES:
            out["shape"] = w[i]; i += 1
        if i < len(w) and w[i] in ("at", "in"):
            j = w.index("on", i) if "on" in w[i:] else len(w)  # a prompt may leave the background out
            phrase = " ".join(w[i + 2:j])
            if phrase in POSITIONS:
                out["position"] = phrase
            i = j
        if w[i:i + 2] == ["on", "a"] and i + 3 < len(w) + 1 and w[i + 2] in PALETTE:
            out["background"] = w[i + 2]
    except (ValueError, IndexError):
        pass
    return out


EDIT_KINDS = ["color", "background", "move", "size", "shape"]


def edit_instruction(scene, kind, value):
    """(instruction text, edited scene) for one of the five edit kinds."""
    if kind == "color":
        return f"make the {scene.shape} {value}", replace(scene, color=value)
    if kind == "background":
        return f"make the background {value}", replace(scene, background=value)
    if kind == "move":
        return f"move the {scene.shape} to the {value}", replace(scene, position=value)
    if kind == "size":
        return f"make the {scene.shape} {value}", replace(scene, size=value)
    return f"turn the {scene.shape} into a {value}", replace(scene, shape=value)


def edit_values(scene, kind):
    """Values an edit of this kind may take on this scene (always a real change, never colour == background)."""
    if kind == "color":
        return [c for c in COLORS if c not in (scene.color, scene.background)]
    if kind == "background":
        return [c for c in COLORS if c not in (scene.color, scene.background)]
    if kind == "move":
        return [p for p in POSITIONS if p != scene.position]
    if kind == "size":
        return [s for s in SIZE_NAMES if s != scene.size]
    return [s for s in SHAPES if s != scene.shape]


# ---- combinations and the held-out set ---------------------------------------------------------

ALL_COMBOS = [(s, c, sh, p, b) for s in SIZE_NAMES for c in COLORS for sh in SHAPES for p in POSITIONS
              for b in COLORS if b != c]
HELDOUT_FRACTION = 0.12
HELDOUT_SEED = 20240601


def heldout_combos():
    """A fixed 12% of all (size, colour, shape, position, background) combinations, never trained on."""
    rng = np.random.default_rng(HELDOUT_SEED)
    idx = rng.permutation(len(ALL_COMBOS))[: int(round(HELDOUT_FRACTION * len(ALL_COMBOS)))]
    return sorted(ALL_COMBOS[i] for i in idx)


def scene_from_combo(combo, rng):
    dx, dy = rng.integers(-JITTER, JITTER + 1, size=2)
    return Scene(*combo, dx=int(dx), dy=int(dy))


# ---- rule-based checker ------------------------------------------------------------------------

def snap(img):
    """Palette index per pixel: [32,32] int."""
    d = ((img[:, :, None, :].astype(np.int32) - PALETTE_RGB[None, None].astype(np.int32)) ** 2).sum(-1)
    return d.argmin(-1)


def check(img):
    """Attributes of the object in an image as a rule-based reader sees them (None if no object)."""
    lab = snap(img)
    border = np.concatenate([lab[0], lab[-1], lab[1:-1, 0], lab[1:-1, -1]])
    bg = np.bincount(border, minlength=9).argmax()
    obj = lab != bg
    out = {"background": COLORS[bg]}
    if obj.sum() < 4:
        return out
    out["color"] = COLORS[np.bincount(lab[obj], minlength=9).argmax()]
    ys, xs = np.nonzero(obj)
    # The triangle's centroid sits low in its box, so judge by the box centre, and split the image
    # halfway between grid centres (12, 20) so a jittered object stays in its cell.
    bx, by = (xs.min() + xs.max() + 1) / 2, (ys.min() + ys.max() + 1) / 2
    col, row = int(np.argmin([abs(bx - g) for g in GRID])), int(np.argmin([abs(by - g) for g in GRID]))
    out["position"] = POSITIONS[row * 3 + col]
    w, h = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    out["size"] = "large" if max(w, h) >= 11 else "small"
    fill = obj.sum() / (w * h)
    out["shape"] = "square" if fill > 0.9 else ("circle" if fill > 0.65 else "triangle")
    return out


def agrees(named, seen):
    """True when every attribute named in `named` is what the checker saw."""
    return all(seen.get(k) == v for k, v in named.items())
