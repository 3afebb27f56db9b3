"""Shared text + image vocabulary and the fixed per-task sequence layouts.

Every task has a fixed layout (texts padded to a fixed length, images at fixed offsets), so batches
are rectangular and the transformer needs no attention mask. The same description is written to the
manifest, which is all the TypeScript runtime knows about this model.
"""
import numpy as np

import domain
import tokenizer

SPECIALS = ["<pad>", "<gen>", "<edit>", "<cap>", "<boi>", "<bot>", "<eos>"]
WORDS = ["a", "the", "on", "background", "at", "in", "to", "make", "move", "turn", "into",
         "top", "bottom", "left", "right", "center"] + domain.SIZE_NAMES + domain.COLORS + domain.SHAPES
N_IMAGE_CODES = None  # set by init(codebook)
VOCAB = None
ID = None
IMAGE_OFFSET = len(SPECIALS) + len(WORDS)

PROMPT_LEN = 14   # longest caption is 12 words
INSTR_LEN = 8     # longest instruction is 7 words
CAPTION_LEN = 15  # 12 words + <eos>, padded

# Each layout is a list of segments; "image" segments get 2-D cell ids 1..66 (0 elsewhere).
LAYOUTS = {
    "generate": [
        {"kind": "token", "token": "<gen>"},
        {"kind": "text", "name": "prompt", "length": PROMPT_LEN},
        {"kind": "token", "token": "<boi>"},
        {"kind": "image", "name": "output"},
    ],
    "edit": [
        {"kind": "token", "token": "<edit>"},
        {"kind": "image", "name": "input"},
        {"kind": "text", "name": "instruction", "length": INSTR_LEN},
        {"kind": "token", "token": "<boi>"},
        {"kind": "image", "name": "output"},
    ],
    "caption": [
        {"kind": "token", "token": "<cap>"},
        {"kind": "image", "name": "input"},
        {"kind": "token", "token": "<bot>"},
        {"kind": "text", "name": "output", "length": CAPTION_LEN, "eos": "<eos>"},
    ],
}


def init(codebook):
    global N_IMAGE_CODES, VOCAB, ID
    N_IMAGE_CODES = tokenizer.N_COLORS + len(codebook)
    VOCAB = SPECIALS + WORDS + [f"<img_{i}>" for i in range(N_IMAGE_CODES)]
    ID = {t: i for i, t in enumerate(VOCAB)}


def seg_length(seg):
    return {"token": 1, "image": tokenizer.TOKENS}.get(seg["kind"], seg.get("length"))


def offsets(task):
    """{segment name or token: (start, length)} and total length of a task's layout."""
    out, pos = {}, 0
    for seg in LAYOUTS[task]:
        n = seg_length(seg)
        out[seg.get("name", seg.get("token"))] = (pos, n)
        pos += n
    return out, pos


def cell_ids(task):
    ids = []
    for seg in LAYOUTS[task]:
        n = seg_length(seg)
        ids += list(range(1, n + 1)) if seg["kind"] == "image" else [0] * n
    return np.array(ids, dtype=np.int64)


def encode_text(text, length, eos=None):
    ids = [ID[w] for w in text.split()] + ([ID[eos]] if eos else [])
    assert len(ids) <= length, text
    return ids + [ID["<pad>"]] * (length - len(ids))


def sequence(task, texts, images):
    """Token ids of one example: texts/images map segment names to strings / 66 image codes."""
    ids = []
    for seg in LAYOUTS[task]:
        if seg["kind"] == "token":
            ids.append(ID[seg["token"]])
        elif seg["kind"] == "text":
            t = texts.get(seg["name"])
            ids += encode_text(t, seg["length"], seg.get("eos")) if t is not None else [ID["<pad>"]] * seg["length"]
        else:
            ids += [int(c) + IMAGE_OFFSET for c in images[seg["name"]]]
    return ids


def manifest_layouts():
    return {task: [dict(seg) for seg in segs] for task, segs in LAYOUTS.items()}
