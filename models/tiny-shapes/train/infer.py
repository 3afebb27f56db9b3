"""Torch inference with the KV cache, the reference for eval.py and the parity fixture.

It follows exactly what the TypeScript adapter does from the manifest: fill the task's layout, run
the prefix once, then one token per step; guidance runs conditional and unconditional rows in one
batch and only lets through tokens the conditional model itself finds plausible.
"""
import numpy as np
import torch

import layout
import tokenizer

NEG = -1e9


def allowed_mask(kind):
    """Bool [V] masks of the tokens an output slot may take: per image slot, or for text."""
    v = len(layout.VOCAB)
    if kind == "text":
        m = torch.zeros(v, dtype=torch.bool)
        m[len(layout.SPECIALS):layout.IMAGE_OFFSET] = True
        m[layout.ID["<eos>"]] = True
        return m
    colors = torch.zeros(v, dtype=torch.bool)
    colors[layout.IMAGE_OFFSET:layout.IMAGE_OFFSET + tokenizer.N_COLORS] = True
    patches = torch.zeros(v, dtype=torch.bool)
    patches[layout.IMAGE_OFFSET + tokenizer.N_COLORS:layout.IMAGE_OFFSET + layout.N_IMAGE_CODES] = True
    return torch.stack([colors] * 2 + [patches] * (tokenizer.TOKENS - 2))


def guided_logprobs(cond, uncond, cfg, min_ratio):
    """Guidance restricted to tokens with p_cond >= min_ratio * max p_cond."""
    lc = cond.log_softmax(-1)
    if uncond is None or cfg == 1.0:
        return lc
    lu = uncond.log_softmax(-1)
    g = lu + cfg * (lc - lu)
    keep = lc >= lc.max(-1, keepdim=True).values + np.log(min_ratio)
    return g.masked_fill(~keep, NEG)


def pick(logp, temperature, top_k, top_p, rng):
    """Greedy when temperature == 0, else sample with temperature, top-k and top-p. logp [N,V]."""
    if temperature == 0:
        return logp.argmax(-1)
    z = (logp / temperature).double()
    out = []
    for row in z:
        order = torch.argsort(row, descending=True)
        if top_k > 0:
            order = order[:top_k]
        p = (row[order] - row[order[0]]).exp()
        p = p / p.sum()
        if top_p < 1.0:
            keep = int((p.cumsum(0) - p < top_p).sum())
            p = p[:keep] / p[:keep].sum()
        out.append(order[min(int(np.searchsorted(p.cumsum(0).numpy(), rng.random())), len(p) - 1)])
    return torch.stack(out)


class Runner:
    def __init__(self, model):
        self.model = model.eval()
        self.image_allowed, self.text_allowed = allowed_mask("image"), allowed_mask("text")

    @torch.no_grad()
    def step(self, task, ids, start, past):
        n, t = ids.shape
        pos = torch.arange(start, start + t).expand(n, -1)
        cells = torch.tensor(layout.cell_ids(task)[start:start + t]).expand(n, -1)
        out = self.model(ids, pos, cells, *past) if past else self.model(ids, pos, cells)
        return out[0], list(out[1:])

    def _image(self, task, prefixes, cfg, min_ratio, temperature, top_k, top_p, rng, uncond_prefixes=None):
        """Decode the 66 codes of an image output segment after the given layout prefixes."""
        n = len(prefixes)
        guided = uncond_prefixes is not None and cfg != 1.0
        rows = torch.tensor(prefixes + (uncond_prefixes if guided else []), dtype=torch.int64)
        logits, past = self.step(task, rows, 0, None)
        start, out = rows.shape[1], []
        for i in range(tokenizer.TOKENS):
            last = logits[:, -1].masked_fill(~self.image_allowed[i], NEG)
            logp = guided_logprobs(last[:n], last[n:] if guided else None, cfg, min_ratio)
            tok = pick(logp, temperature, top_k, top_p, rng)
            out.append(tok)
            if i + 1 < tokenizer.TOKENS:
                feed = torch.cat([tok, tok]) if guided else tok
                logits, past = self.step(task, feed.view(-1, 1), start + i, past)
        return (torch.stack(out, 1) - layout.IMAGE_OFFSET).numpy()

    def generate(self, prompts, cfg=1.0, min_ratio=0.01, temperature=0.0, top_k=0, top_p=1.0, rng=None, negative=None):
        seq = lambda p: layout.sequence("generate", {"prompt": p}, {"output": [0] * tokenizer.TOKENS})
        start = layout.offsets("generate")[0]["output"][0]
        pre = [seq(p)[:start] for p in prompts]
        un = [seq(negative)[:start] for _ in prompts]
        return self._image("generate", pre, cfg, min_ratio, temperature, top_k, top_p, rng, un)

    def edit(self, codes, instructions, cfg=1.0, min_ratio=0.01, temperature=0.0, top_k=0, top_p=1.0, rng=None):
        seq = lambda c, t: layout.sequence("edit", {"instruction": t}, {"input": c, "output": [0] * tokenizer.TOKENS})
        start = layout.offsets("edit")[0]["output"][0]
        pre = [seq(c, t)[:start] for c, t in zip(codes, instructions)]
        un = [seq(c, None)[:start] for c in codes]
        return self._image("edit", pre, cfg, min_ratio, temperature, top_k, top_p, rng, un)

    def caption(self, codes, max_tokens=layout.CAPTION_LEN):
        """Greedy captions; returns (texts, generated id lists including <eos>)."""
        start = layout.offsets("caption")[0]["output"][0]
        rows = torch.tensor([layout.sequence("caption", {}, {"input": c})[:start] for c in codes])
        logits, past = self.step("caption", rows, 0, None)
        eos = layout.ID["<eos>"]
        ids, done = [], torch.zeros(len(codes), dtype=torch.bool)
        for i in range(max_tokens):
            tok = logits[:, -1].masked_fill(~self.text_allowed, NEG).argmax(-1)
            tok = torch.where(done, torch.full_like(tok, layout.ID["<pad>"]), tok)
            ids.append(tok)
            done |= tok == eos
            if done.all() or i + 1 == max_tokens:
                break
            logits, past = self.step("caption", tok.view(-1, 1), start + i, past)
        ids = torch.stack(ids, 1).tolist()
        texts = [" ".join(layout.VOCAB[t] for t in row if t not in (eos, layout.ID["<pad>"])) for row in ids]
        return texts, ids

    @torch.no_grad()
    def score(self, codes, texts):
        """exp(mean log-probability of the text tokens and <eos>) given the image, per pair."""
        rows = torch.tensor([layout.sequence("caption", {"output": t}, {"input": c}) for c, t in zip(codes, texts)])
        logits, _ = self.step("caption", rows, 0, None)
        start, n = layout.offsets("caption")[0]["output"]
        tgt = rows[:, start:start + n]
        lp = logits[:, start - 1:start + n - 1].log_softmax(-1).gather(-1, tgt.unsqueeze(-1))[..., 0]
        m = (tgt != layout.ID["<pad>"]).float()
        return ((lp * m).sum(1) / m.sum(1)).exp().numpy()
