"""Decoder-only transformer over the shared vocabulary, with an explicit KV cache.

forward(input_ids, position_ids, cell_ids, *past) -> (logits, *present) where past/present are
[B, heads, length, head_dim] key and value tensors per layer; a zero-length past is the first call.
The same forward is used for training (no past) and exported to ONNX.
"""
import math
import torch
from torch import nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.hd = heads, d // heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x, past_k, past_v):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.heads, self.hd).permute(2, 0, 3, 1, 4)
        k = torch.cat([past_k, k], 2)
        v = torch.cat([past_v, v], 2)
        p = past_k.shape[2]
        # query i (absolute p+i) sees keys 0..p+i
        causal = torch.arange(p + t).unsqueeze(0) <= (torch.arange(t) + p).unsqueeze(1)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.hd))
        att = att.masked_fill(~causal, -1e9).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        return x, k, v


class TinyUnified(nn.Module):
    def __init__(self, vocab, max_len, n_cells, d=128, layers=6, heads=4):
        super().__init__()
        self.layers, self.heads, self.hd = layers, heads, d // heads
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_len, d)
        self.cell = nn.Embedding(n_cells, d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
                if isinstance(m, nn.Linear):
                    nn.init.zeros_(m.bias)

    def empty_past(self, b):
        z = torch.zeros(b, self.heads, 0, self.hd)
        return [z] * (2 * self.layers)

    def forward(self, input_ids, position_ids, cell_ids, *past):
        if not past:
            past = self.empty_past(input_ids.shape[0])
        x = self.tok(input_ids) + self.pos(position_ids) + self.cell(cell_ids)
        present = []
        for i, blk in enumerate(self.blocks):
            x, k, v = blk(x, past[2 * i], past[2 * i + 1])
            present += [k, v]
        logits = self.ln_f(x) @ self.tok.weight.t()  # tied embeddings
        return (logits, *present)
