"""Image tokenizer: pixels <-> 66 image codes, lossless in this domain and needing no training.

An image becomes [background colour, object colour, 64 patch codes]: pixels are snapped to the
palette to find the background (most common border colour) and the object colour, and each 4x4
patch is coded by which of its pixels are closer to the object colour than to the background (one code per mask seen in renders, nearest seen mask otherwise).
Colours are separate from geometry, so a colour/shape pairing never seen in training still has codes.
The torch modules below are exported as the ONNX encoder/decoder graphs.
"""
import numpy as np
import torch
from torch import nn

import domain

PATCH = 4
GRID = domain.SIZE // PATCH  # 8x8 patches
N_COLORS = len(domain.COLORS)
TOKENS = 2 + GRID * GRID  # 66 codes per image


def _patch_masks(mask):
    """[32,32] bool -> [64] int: the 16-bit mask of each 4x4 patch, row-major bits."""
    p = mask.reshape(GRID, PATCH, GRID, PATCH).transpose(0, 2, 1, 3).reshape(GRID * GRID, PATCH * PATCH)
    return (p.astype(np.int64) << np.arange(PATCH * PATCH)).sum(1)


def build_codebook():
    """Sorted list of every 16-bit patch mask that any shape, size and (clamped) centre produces."""
    seen = {0, 0xFFFF}
    for shape in domain.SHAPES:
        for e in domain.SIZES.values():
            for cx in range(e // 2, domain.SIZE - (e - e // 2) + 1):
                for cy in range(e // 2, domain.SIZE - (e - e // 2) + 1):
                    seen.update(_patch_masks(domain.shape_mask(shape, e, cx, cy)).tolist())
    return [0, 0xFFFF] + sorted(seen - {0, 0xFFFF})


def lookup_table(codebook):
    """For all 65536 masks, the index of the nearest codebook mask (Hamming), exact where present."""
    cb = np.array(codebook, dtype=np.int64)
    bits = lambda v: ((v[:, None] >> np.arange(16)) & 1).astype(np.int8)
    all_bits, cb_bits = bits(np.arange(1 << 16)), bits(cb)
    table = np.empty(1 << 16, dtype=np.int64)
    for s in range(0, 1 << 16, 4096):  # chunks keep memory small
        d = (all_bits[s:s + 4096, None, :] != cb_bits[None]).sum(-1)
        table[s:s + 4096] = d.argmin(1)
    table[cb] = np.arange(len(cb))
    return table


# Distances are taken in YCbCr with luma weighted up: JPEG keeps luma sharp but blurs and subsamples
# chroma, so a small blue object on orange turns greyish in RGB while its luma stays blue's. Colour
# choice weighs luma 4x (JPEG q50: object colour right 99.9% of the time, plain RGB 94%); the
# object/background split per pixel weighs it 2x (noise sigma 12 would flip more pixels at 4x).
YCBCR = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], dtype=np.float32)
LUMA_WEIGHT_COLOR, LUMA_WEIGHT_MASK = 4.0, 2.0
CONFIDENT = 4.0  # a pixel votes for the object colour only if it is 4x (squared) closer to it than to the background
# Each patch takes the mask of the domain shape that best explains the whole image's object/background evidence
# when its own pixels differ from that shape's in at most AGREE_BITS of 16: JPEG ringing, blurred chroma and
# resampled edges flip a few edge pixels (a small circle read as a square patch by patch), while a patch that
# really differs (an image the domain never drew) keeps its own mask. Evidence per pixel is quantised to
# EVIDENCE_LEVELS steps either way, so the fit's sums are whole numbers: torch and onnxruntime pick alike.
AGREE_BITS = 4
FIT_OVERHANG = 4  # px a fitted shape may reach past the image's edge (images shifted by up to 3 px cut objects)
EVIDENCE_LEVELS = 8.0


def shape_kernels(extent):
    """[3,1,e,e] 0/1 masks of each shape in an e x e box, the box at the image's top-left corner."""
    m = [domain.shape_mask(shape, extent, extent // 2, extent // 2)[:extent, :extent] for shape in domain.SHAPES]
    return torch.tensor(np.stack(m)[:, None], dtype=torch.float32)


def _space(luma_weight):
    return torch.tensor(YCBCR * np.array([[luma_weight], [1], [1]], dtype=np.float32)).t()


class Encoder(nn.Module):
    """pixels uint8 [B,32,32,3] -> codes int64 [B,66].

    Background: the most common palette colour on the border. Object colour: the most common
    other palette colour among pixels that clearly are not background. Mask: pixels closer to the
    object colour than to the background (a two-way choice, so JPEG ringing or a resampled edge
    that happens to be nearest some third colour still lands on the right side)."""

    def __init__(self, table):
        super().__init__()
        self.register_buffer("to_color", _space(LUMA_WEIGHT_COLOR))
        self.register_buffer("to_mask", _space(LUMA_WEIGHT_MASK))
        rgb = torch.tensor(domain.PALETTE_RGB, dtype=torch.float32)
        self.register_buffer("palette_color", rgb @ _space(LUMA_WEIGHT_COLOR))
        self.register_buffer("palette_mask", rgb @ _space(LUMA_WEIGHT_MASK))
        self.register_buffer("table", torch.tensor(table, dtype=torch.int64))
        self.register_buffer("bit_weights", 2 ** torch.arange(PATCH * PATCH, dtype=torch.int64))
        border = torch.zeros(domain.SIZE, domain.SIZE)
        border[0], border[-1], border[:, 0], border[:, -1] = 1, 1, 1, 1
        self.register_buffer("border", border)
        self.kernels = [f"kernel{e}" for e in domain.SIZES.values()]
        for name, e in zip(self.kernels, domain.SIZES.values()):
            self.register_buffer(name, shape_kernels(e))

    def shape_fit(self, evidence):
        """[B,1,32,32] evidence (+ object, - background) -> [B,32,32] mask of the best-fitting shape, size
        and position (up to FIT_OVERHANG px past an edge): the one maximising the sum of evidence inside it
        (every placement is one cell of a correlation; the chosen one is drawn back with the transposed one)."""
        scores = [nn.functional.conv2d(evidence, getattr(self, k), padding=FIT_OVERHANG) for k in self.kernels]
        sizes = [x.shape[1:] for x in scores]
        flat = torch.cat([x.flatten(1) for x in scores], 1)
        best = (torch.arange(flat.shape[1]) == flat.argmax(1, keepdim=True)).to(torch.float32)
        mask, start = 0, 0
        for k, shape in zip(self.kernels, sizes):
            n = shape[0] * shape[1] * shape[2]
            mask = mask + nn.functional.conv_transpose2d(best[:, start:start + n].view(-1, *shape), getattr(self, k),
                                                      padding=FIT_OVERHANG)
            start += n
        return mask.squeeze(1)

    def patch_bits(self, mask):
        b = mask.shape[0]
        return mask.view(b, GRID, PATCH, GRID, PATCH).permute(0, 1, 3, 2, 4).reshape(b, GRID * GRID, PATCH * PATCH)

    def forward(self, pixels):
        x = pixels.to(torch.float32)
        d = ((torch.matmul(x, self.to_color).unsqueeze(3) - self.palette_color) ** 2).sum(-1)  # [B,32,32,9]
        lab = d.argmin(-1)
        onehot = (lab.unsqueeze(-1) == torch.arange(N_COLORS)).to(torch.float32)
        bg = (onehot * self.border.unsqueeze(-1)).sum((1, 2)).argmax(-1)  # [B]
        bg_hot = (bg.unsqueeze(-1) == torch.arange(N_COLORS)).to(torch.float32).view(-1, 1, 1, N_COLORS)
        confident = (d.min(-1).values * CONFIDENT < (d * bg_hot).sum(-1)).to(torch.float32)
        counts = (onehot * confident.unsqueeze(-1)).sum((1, 2)) - 1e6 * bg_hot.view(-1, N_COLORS)
        obj = counts.argmax(-1)
        obj_hot = (obj.unsqueeze(-1) == torch.arange(N_COLORS)).to(torch.float32).view(-1, 1, 1, N_COLORS)
        dm = ((torch.matmul(x, self.to_mask).unsqueeze(3) - self.palette_mask) ** 2).sum(-1)
        d_obj, d_bg = (dm * obj_hot).sum(-1), (dm * bg_hot).sum(-1)
        own = self.patch_bits((d_obj < d_bg).to(torch.float32))  # [B,64,16]
        evidence = torch.round(EVIDENCE_LEVELS * (d_bg - d_obj) / (d_bg + d_obj + 1e-6))
        fit = self.patch_bits(self.shape_fit(evidence.unsqueeze(1)))
        agree = ((own - fit).abs().sum(-1, keepdim=True) <= AGREE_BITS).to(torch.float32)
        p = (agree * fit + (1 - agree) * own).round().to(torch.int64)
        b = p.shape[0]
        codes = self.table[(p * self.bit_weights).sum(-1)] + N_COLORS
        return torch.cat([bg.view(b, 1), obj.view(b, 1), codes], 1)


class Decoder(nn.Module):
    """codes int64 [B,66] -> pixels uint8 [B,32,32,3]. Out-of-range codes are clamped."""

    def __init__(self, codebook):
        super().__init__()
        n = len(codebook)
        bits = (np.array(codebook)[:, None] >> np.arange(PATCH * PATCH)) & 1
        self.register_buffer("palette", torch.tensor(domain.PALETTE_RGB, dtype=torch.float32))
        self.register_buffer("bits", torch.tensor(bits, dtype=torch.float32))
        self.n = n

    def forward(self, codes):
        b = codes.shape[0]
        bg = self.palette[codes[:, 0].clamp(0, N_COLORS - 1)].view(b, 1, 1, 3)
        obj = self.palette[codes[:, 1].clamp(0, N_COLORS - 1)].view(b, 1, 1, 3)
        m = self.bits[(codes[:, 2:] - N_COLORS).clamp(0, self.n - 1)]  # [B,64,16]
        m = m.view(b, GRID, GRID, PATCH, PATCH).permute(0, 1, 3, 2, 4).reshape(b, domain.SIZE, domain.SIZE, 1)
        return (obj * m + bg * (1 - m)).round().to(torch.uint8)
