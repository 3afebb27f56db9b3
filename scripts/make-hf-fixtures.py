#!/usr/bin/python3
"""Writes small, randomly initialised models in the exact published Hugging Face ONNX layouts.

  <out>/janus-<size>/   onnx-community/Janus-Pro-1B-ONNX layout (six graphs, MultiModalityCausalLM)
  <out>/clip-<size>/    Xenova/clip-vit-base-patch32 layout (onnx/model.onnx, CLIPModel)
  <out>/siglip-<size>/  Xenova/siglip-base-patch16-224 layout (onnx/model.onnx, SiglipModel)

Same file names, graph input/output names, dtypes and dynamic axes as the real exports, and config,
processor and tokenizer files that transformers.js reads; weights are random (seeded), so the outputs
are meaningless but deterministic. `--size tiny` (default) writes the committed test fixtures into
test/fixtures/hf; `--size bench --out bench/.tmp/hf` the larger ones bench/model-hf.ts measures (see SIZES).
Run: /usr/bin/python3 scripts/make-hf-fixtures.py [janus clip siglip] [--size tiny|bench] [--out DIR]
(Debian python3-torch 1.13, python3-onnx).
"""
import argparse
import json
import os
import types

os.environ.setdefault('OMP_NUM_THREADS', '1')
import torch  # noqa: E402
from torch import nn  # noqa: E402

torch.set_num_threads(1)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'hf')
OPSET = 14

# Model sizes. `tiny`: the committed test fixtures, a few hundred KB. `bench`: for bench/model-hf.ts (never
# committed, ~3 GB): the real exports' text vocabularies (Janus 102400, CLIP 49408, SigLIP 32000), Janus'
# codebook (16384) and image size (384), CLIP ViT-B/32's and SigLIP base/16's image and patch sizes and text
# lengths, so that transformers.js' per-token and per-image work (sampling over the vocabulary, guidance,
# resizing and normalising the image) is what it is with the real models; narrower, shallower transformers
# for Janus (hidden 1024 × 12 layers where Janus-Pro-1B has 2048 × 24: with its real vocabularies about 340 M
# parameters, a step about a tenth of the real one's compute; and 144 instead of 576 image tokens) keep a call within
# seconds on one CPU thread, so an outside share measured on it bounds the real one. CLIP/SigLIP run at their
# published towers' width and depth (768 × 12, ViT-B; the MLP 2× wide where the real one is 4×, so about two thirds
# of a real tower's compute): small enough for one CPU thread as they are.
SIZES = {
    'tiny': dict(j_d=32, j_heads=2, j_layers=2, j_img=32, j_grid=4, j_codes=32, j_maxpos=512, j_vocab=0,
                 e_d=32, e_heads=2, e_layers=1, e_img=32, e_patch=8, e_maxlen=16, clip_vocab=0, siglip_vocab=0,
                 siglip_patch=8, siglip_maxlen=16),
    'bench': dict(j_d=1024, j_heads=16, j_layers=12, j_img=384, j_grid=12, j_codes=16384, j_maxpos=1024, j_vocab=102400,
                  e_d=768, e_heads=12, e_layers=12, e_img=224, e_patch=32, e_maxlen=77, clip_vocab=49408,
                  siglip_vocab=32000, siglip_patch=16, siglip_maxlen=64),
}
S = types.SimpleNamespace(**SIZES['tiny'])


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write('\n')


def export(module, args, path, inputs, outputs, axes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    module.eval()
    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)


def byte_chars():
    """GPT-2's byte-to-unicode table: the 256 symbols a ByteLevel BPE vocabulary starts with."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


def fill(vocab, size):
    """Pads a BPE vocabulary to `size` entries with tokens no merge makes (a real vocabulary's size, unused)."""
    while len(vocab) < size:
        vocab[f'<unused_{len(vocab)}>'] = len(vocab)


def added(id_, content, special=True):
    return {'id': id_, 'content': content, 'single_word': False, 'lstrip': False, 'rstrip': False,
            'normalized': not special, 'special': special}


# ---------------------------------------------------------------------------------------------- Janus

J_SPECIALS = ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<｜▁pad▁｜>', '<image_placeholder>',
              '<begin_of_image>', '<end_of_image>', '<|User|>', '<|Assistant|>', '<|System|>']


class PrepareInputsEmbeds(nn.Module):
    """Text embeddings with the understanding encoder's image features put where images_seq_mask is set."""

    def __init__(self, vocab):
        super().__init__()
        self.embed = nn.Embedding(vocab, S.j_d)
        self.vision = nn.Linear(3 * 2, S.j_d)  # per grid cell: mean colour and its spread

    def forward(self, input_ids, pixel_values, images_seq_mask, images_emb_mask):
        text = self.embed(input_ids)
        b, n, c, h, w = pixel_values.shape
        cells = pixel_values.reshape(b * n, c, S.j_grid, h // S.j_grid, S.j_grid, w // S.j_grid)
        mean = cells.mean(dim=(3, 5))
        spread = cells.abs().mean(dim=(3, 5))
        feats = torch.cat([mean, spread], dim=1).permute(0, 2, 3, 1).reshape(b * n * S.j_grid * S.j_grid, 2 * c)
        img = self.vision(feats)
        keep = images_emb_mask.reshape(-1, 1).to(img.dtype)
        img = img[: keep.shape[0]] * keep[: img.shape[0]]
        rows = torch.cat([img, torch.zeros(1, S.j_d)], dim=0)
        seq = images_seq_mask.to(torch.int64)
        idx = (torch.cumsum(seq.reshape(-1), 0) - 1).clamp(min=0).reshape(seq.shape)
        return torch.where(images_seq_mask.unsqueeze(-1), rows[idx], text)


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.d, self.heads = d, heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, x, bias, past_k, past_v):
        b, s, _ = x.shape
        hd = self.d // self.heads
        q, k, v = self.qkv(self.ln1(x)).split(self.d, dim=-1)
        q, k, v = (t.reshape(b, s, self.heads, hd).transpose(1, 2) for t in (q, k, v))
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        att = torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5 + bias, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, s, self.d)
        x = x + self.out(y)
        return x + self.mlp(self.ln2(x)), k, v


class LanguageModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.pos = nn.Embedding(S.j_maxpos, S.j_d)
        self.blocks = nn.ModuleList(Block(S.j_d, S.j_heads) for _ in range(S.j_layers))
        self.ln = nn.LayerNorm(S.j_d)

    def forward(self, inputs_embeds, attention_mask, position_ids, *past):
        s = inputs_embeds.shape[1]
        total = attention_mask.shape[1]
        x = inputs_embeds + self.pos(position_ids.clamp(0, S.j_maxpos - 1))
        # key j is visible to query i when j <= past + i and the mask keeps it; a large finite
        # negative (not -inf) keeps a fully masked row (guidance's unconditional row) free of NaN
        q_at = torch.arange(s).unsqueeze(1) + (total - s)
        causal = torch.arange(total).unsqueeze(0) <= q_at
        visible = causal.unsqueeze(0).unsqueeze(0) & (attention_mask > 0).unsqueeze(1).unsqueeze(2)
        bias = (~visible).to(x.dtype) * -1e9
        presents = []
        for i, block in enumerate(self.blocks):
            x, k, v = block(x, bias, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        return (self.ln(x), *presents)


class Head(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.proj = nn.Linear(S.j_d, n)

    def forward(self, hidden_states):
        return self.proj(hidden_states)


class GenImgEmbeds(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(S.j_codes, S.j_d)
        self.align = nn.Linear(S.j_d, S.j_d)

    def forward(self, image_ids):
        return self.align(self.embed(image_ids))


class ImageDecode(nn.Module):
    """Each code is one 8×8 patch of colour; tanh keeps pixels in [-1, 1] like the real VQ decoder."""

    def __init__(self):
        super().__init__()
        self.patch = S.j_img // S.j_grid
        self.codebook = nn.Embedding(S.j_codes, 3 * self.patch * self.patch)

    def forward(self, generated_tokens):
        b = generated_tokens.shape[0]
        p = self.patch
        x = torch.tanh(2 * self.codebook(generated_tokens))  # [b, T, 3·p·p]
        x = x.reshape(b, S.j_grid, S.j_grid, 3, p, p).permute(0, 3, 1, 4, 2, 5)
        return x.reshape(b, 3, S.j_img, S.j_img)


def janus_tokenizer():
    chars = byte_chars()
    vocab = {c: i for i, c in enumerate(chars)}
    merges = []
    for word in ['a', 'the', 'red', 'blue', 'circle', 'square', 'image', 'describe', 'this', 'small']:
        # merge left to right so each listed word becomes one token (with and without a leading space)
        for w in (word, 'Ġ' + word):
            cur = w[0]
            for ch in w[1:]:
                merges.append(f'{cur} {ch}')
                cur += ch
                vocab.setdefault(cur, len(vocab))
    merges = list(dict.fromkeys(merges))
    fill(vocab, S.j_vocab - len(J_SPECIALS))
    specials = [added(len(vocab) + i, t) for i, t in enumerate(J_SPECIALS)]
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': specials,
        'normalizer': None,
        'pre_tokenizer': {'type': 'Sequence', 'pretokenizers': [
            {'type': 'Split', 'pattern': {'Regex': "\\p{N}{1,3}"}, 'behavior': 'Isolated', 'invert': False},
            {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True},
        ]},
        'post_processor': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': False, 'use_regex': True},
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None,
                  'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                  'vocab': vocab, 'merges': merges},
    }, len(vocab) + len(J_SPECIALS)


def make_janus(out):
    tokenizer, vocab_size = janus_tokenizer()
    ids = {t['content']: t['id'] for t in tokenizer['added_tokens']}
    torch.manual_seed(11)
    onnx_dir = os.path.join(out, 'onnx')
    export(PrepareInputsEmbeds(vocab_size),
           (torch.zeros(1, 20, dtype=torch.int64), torch.zeros(1, 1, 3, S.j_img, S.j_img),
            torch.zeros(1, 20, dtype=torch.bool), torch.ones(1, 1, S.j_grid ** 2, dtype=torch.bool)),
           os.path.join(onnx_dir, 'prepare_inputs_embeds.onnx'),
           ['input_ids', 'pixel_values', 'images_seq_mask', 'images_emb_mask'], ['inputs_embeds'],
           {'input_ids': {0: 'batch_size', 1: 'sequence_length'},
            'pixel_values': {0: 'pixel_batch_size', 1: 'num_images', 3: 'height', 4: 'width'},
            'images_seq_mask': {0: 'seq_mask_batch_size', 1: 'sequence_length'},
            'images_emb_mask': {0: 'emb_mask_batch_size', 1: 'emb_mask_num_images', 2: 'num_image_tokens'},
            'inputs_embeds': {0: 'batch_size', 1: 'sequence_length'}})
    hd = S.j_d // S.j_heads
    past_names = [f'past_key_values.{i}.{kv}' for i in range(S.j_layers) for kv in ('key', 'value')]
    present_names = [f'present.{i}.{kv}' for i in range(S.j_layers) for kv in ('key', 'value')]
    kv_axes = {n: {0: 'batch_size', 2: 'past_sequence_length'} for n in past_names}
    kv_axes.update({n: {0: 'batch_size', 2: 'total_sequence_length'} for n in present_names})
    export(LanguageModel(),
           (torch.zeros(2, 5, S.j_d), torch.ones(2, 8, dtype=torch.int64), torch.zeros(2, 5, dtype=torch.int64),
            *[torch.zeros(2, S.j_heads, 3, hd) for _ in past_names]),
           os.path.join(onnx_dir, 'language_model.onnx'),
           ['inputs_embeds', 'attention_mask', 'position_ids', *past_names], ['hidden_states', *present_names],
           {'inputs_embeds': {0: 'batch_size', 1: 'sequence_length'},
            'attention_mask': {0: 'batch_size', 1: 'total_sequence_length'},
            'position_ids': {0: 'batch_size', 1: 'sequence_length'},
            'hidden_states': {0: 'batch_size', 1: 'sequence_length'}, **kv_axes})
    seq_axes = {0: 'batch_size', 1: 'sequence_length'}
    for name, n in (('lm_head', vocab_size), ('gen_head', S.j_codes)):
        export(Head(n), (torch.zeros(1, 3, S.j_d),), os.path.join(onnx_dir, f'{name}.onnx'),
               ['hidden_states'], ['logits'], {'hidden_states': seq_axes, 'logits': seq_axes})
    export(GenImgEmbeds(), (torch.zeros(1, 3, dtype=torch.int64),), os.path.join(onnx_dir, 'gen_img_embeds.onnx'),
           ['image_ids'], ['inputs_embeds'], {'image_ids': seq_axes, 'inputs_embeds': seq_axes})
    export(ImageDecode(), (torch.zeros(1, S.j_grid ** 2, dtype=torch.int64),), os.path.join(onnx_dir, 'image_decode.onnx'),
           ['generated_tokens'], ['decoded_image'],
           {'generated_tokens': {0: 'batch_size'}, 'decoded_image': {0: 'batch_size'}})

    bos, eos, pad = ids['<｜begin▁of▁sentence｜>'], ids['<｜end▁of▁sentence｜>'], ids['<｜▁pad▁｜>']
    language = {'model_type': 'llama', 'hidden_size': S.j_d, 'num_hidden_layers': S.j_layers,
                'num_attention_heads': S.j_heads, 'num_key_value_heads': S.j_heads, 'intermediate_size': 2 * S.j_d,
                'max_position_embeddings': S.j_maxpos, 'vocab_size': vocab_size, 'torch_dtype': 'float32'}
    write_json(os.path.join(out, 'config.json'), {
        'architectures': ['MultiModalityCausalLM'],
        'model_type': 'multi_modality',
        'language_config': language,
        'vision_config': {'cls': 'CLIPVisionTower', 'model_type': 'vision', 'params': {'image_size': S.j_img}},
        'aligner_config': {'cls': 'MlpProjector', 'model_type': 'aligner', 'params': {'n_embed': S.j_d}},
        'gen_vision_config': {'cls': 'VQ-16', 'model_type': 'gen_vision', 'params': {'image_token_size': S.j_codes, 'n_embed': 8}},
        'gen_aligner_config': {'cls': 'MlpProjector', 'model_type': 'gen_aligner', 'params': {'n_embed': S.j_d}},
        'gen_head_config': {'cls': 'vision_head', 'model_type': 'gen_head', 'params': {'image_token_size': S.j_codes, 'n_embed': S.j_d}},
        'torch_dtype': 'float32',
        'transformers_version': '4.48.0',
    })
    write_json(os.path.join(out, 'generation_config.json'),
               {'bos_token_id': bos, 'eos_token_id': eos, 'pad_token_id': pad, 'transformers_version': '4.48.0'})
    write_json(os.path.join(out, 'preprocessor_config.json'), {
        'image_processor_type': 'VLMImageProcessor', 'processor_class': 'VLChatProcessor',
        'image_size': S.j_img, 'size': {'longest_edge': S.j_img}, 'min_size': 14, 'do_resize': True, 'resample': 3,
        'do_rescale': True, 'rescale_factor': 1 / 255, 'do_normalize': True,
        'image_mean': [0.5, 0.5, 0.5], 'image_std': [0.5, 0.5, 0.5], 'background_color': [127, 127, 127],
    })
    write_json(os.path.join(out, 'processor_config.json'), {
        'processor_class': 'VLChatProcessor', 'image_tag': '<image_placeholder>',
        'image_start_tag': '<begin_of_image>', 'image_end_tag': '<end_of_image>', 'pad_tag': '<｜▁pad▁｜>',
        'num_image_tokens': S.j_grid ** 2, 'add_special_token': False, 'sft_format': 'deepseek', 'mask_prompt': True,
        'ignore_id': -100,
    })
    understand = ("{{ bos_token }}{% for message in messages %}"
                  "{% if message['role'] == '<|System|>' %}{{ message['content'] }}\n\n"
                  "{% else %}{{ message['role'] }}: {{ message['content'] }}\n\n{% endif %}{% endfor %}"
                  "{% if add_generation_prompt %}<|Assistant|>:{% endif %}")
    to_image = ("{{ bos_token }}{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n\n"
                "{% endfor %}<|Assistant|>:<begin_of_image>")
    write_json(os.path.join(out, 'tokenizer.json'), tokenizer)
    write_json(os.path.join(out, 'tokenizer_config.json'), {
        'tokenizer_class': 'LlamaTokenizerFast', 'model_max_length': 16384, 'legacy': True,
        'bos_token': '<｜begin▁of▁sentence｜>', 'eos_token': '<｜end▁of▁sentence｜>', 'pad_token': '<｜▁pad▁｜>',
        'unk_token': None, 'add_bos_token': False, 'add_eos_token': False, 'clean_up_tokenization_spaces': False,
        'chat_template': [{'name': 'default', 'template': understand}, {'name': 'text_to_image', 'template': to_image}],
    })
    write_json(os.path.join(out, 'special_tokens_map.json'), {
        'bos_token': '<｜begin▁of▁sentence｜>', 'eos_token': '<｜end▁of▁sentence｜>', 'pad_token': '<｜▁pad▁｜>',
        'additional_special_tokens': J_SPECIALS[3:],
    })


# ------------------------------------------------------------------------------------- CLIP / SigLIP



class Encoder(nn.Module):
    """Transformer blocks (the Janus one, without a cache) and a final norm."""

    def __init__(self):
        super().__init__()
        self.block = Block(S.e_d, S.e_heads)
        self.deeper = nn.ModuleList(Block(S.e_d, S.e_heads) for _ in range(S.e_layers - 1))
        self.ln = nn.LayerNorm(S.e_d)

    def forward(self, x, pad_mask=None):
        b = x.shape[0]
        bias = torch.zeros(1) if pad_mask is None else pad_mask.to(x.dtype)[:, None, None, :] * -1e9
        empty = torch.zeros(b, S.e_heads, 0, S.e_d // S.e_heads)
        for block in [self.block, *self.deeper]:
            x = block(x, bias, empty, empty)[0]
        return self.ln(x)


def patch_size(kind):
    return S.siglip_patch if kind == 'siglip' else S.e_patch


def max_length(kind):
    return S.siglip_maxlen if kind == 'siglip' else S.e_maxlen


class DualEncoder(nn.Module):
    def __init__(self, vocab, sigmoid):
        super().__init__()
        kind = 'siglip' if sigmoid else 'clip'
        self.sigmoid = sigmoid
        self.tok = nn.Embedding(vocab, S.e_d)
        self.tpos = nn.Embedding(max_length(kind), S.e_d)
        self.text = Encoder()
        self.patch = nn.Conv2d(3, S.e_d, patch_size(kind), patch_size(kind))
        self.vpos = nn.Parameter(torch.randn((S.e_img // patch_size(kind)) ** 2, S.e_d) * 0.02)
        self.vision = Encoder()
        self.tproj = nn.Linear(S.e_d, S.e_d, bias=False)
        self.vproj = nn.Linear(S.e_d, S.e_d, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(2.3 if sigmoid else 4.6052))
        self.logit_bias = nn.Parameter(torch.tensor(-1.0))

    def encode(self, input_ids, attention_mask, pixel_values):
        s = input_ids.shape[1]
        t = self.text(self.tok(input_ids) + self.tpos(torch.arange(s)),
                      None if attention_mask is None else attention_mask == 0)
        if self.sigmoid:
            pooled_t = t[:, -1]  # SigLIP pools the last position (texts are padded to max_length)
        else:
            eos_at = input_ids.argmax(dim=-1)  # CLIP pools its EOS token, the highest id
            pooled_t = t[torch.arange(t.shape[0]), eos_at]
        v = self.patch(pixel_values).flatten(2).transpose(1, 2) + self.vpos
        pooled_v = self.vision(v).mean(dim=1)
        te = self.tproj(pooled_t)
        ie = self.vproj(pooled_v)
        te = te / te.norm(dim=-1, keepdim=True)
        ie = ie / ie.norm(dim=-1, keepdim=True)
        logits_per_text = te @ ie.t() * self.logit_scale.exp()
        if self.sigmoid:
            logits_per_text = logits_per_text + self.logit_bias
        return logits_per_text.t(), logits_per_text, te, ie


class ClipModel(DualEncoder):
    def forward(self, input_ids, pixel_values, attention_mask):
        return self.encode(input_ids, attention_mask, pixel_values)


class SiglipModel(DualEncoder):
    def forward(self, input_ids, pixel_values):
        return self.encode(input_ids, None, pixel_values)


def clip_tokenizer():
    chars = byte_chars()
    vocab = {}
    for c in chars:
        vocab[c] = len(vocab)
    for c in chars:
        vocab[c + '</w>'] = len(vocab)
    merges = []
    for word in ['a', 'red', 'blue', 'green', 'circle', 'square', 'photo', 'of']:
        cur = word[0]
        for i, ch in enumerate(word[1:]):
            nxt = ch + ('</w>' if i == len(word) - 2 else '')
            merges.append(f'{cur} {nxt}')
            cur += nxt
            vocab.setdefault(cur, len(vocab))
    fill(vocab, S.clip_vocab - 2)
    start, end = len(vocab), len(vocab) + 1
    vocab['<|startoftext|>'] = start
    vocab['<|endoftext|>'] = end
    return {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': [added(start, '<|startoftext|>'), added(end, '<|endoftext|>')],
        'normalizer': {'type': 'Sequence', 'normalizers': [
            {'type': 'NFC'}, {'type': 'Replace', 'pattern': {'Regex': '\\s+'}, 'content': ' '}, {'type': 'Lowercase'}]},
        'pre_tokenizer': {'type': 'Sequence', 'pretokenizers': [
            {'type': 'Split', 'pattern': {'Regex': "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"},
             'behavior': 'Removed', 'invert': True},
            {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': False}]},
        'post_processor': {'type': 'RobertaProcessing', 'sep': ['<|endoftext|>', end], 'cls': ['<|startoftext|>', start],
                           'trim_offsets': False, 'add_prefix_space': False},
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': '<|endoftext|>', 'continuing_subword_prefix': '',
                  'end_of_word_suffix': '</w>', 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                  'vocab': vocab, 'merges': merges},
    }, len(vocab), start, end


def siglip_tokenizer():
    pieces = [['<pad>', 0.0], ['</s>', 0.0], ['<unk>', 0.0], ['▁', -2.0]]
    words = ['a', 'red', 'blue', 'green', 'circle', 'square', 'photo', 'of', 'the']
    pieces += [['▁' + w, -1.0 - i * 0.01] for i, w in enumerate(words)]
    pieces += [[c, -5.0] for c in 'abcdefghijklmnopqrstuvwxyz0123456789.,!?\'-']
    pieces += [[f'<extra_id_{i}>', -30.0] for i in range(S.siglip_vocab - len(pieces))]
    return {
        'version': '1.0', 'truncation': None,
        'padding': {'strategy': {'Fixed': S.siglip_maxlen}, 'direction': 'Right', 'pad_to_multiple_of': None,
                    'pad_id': 1, 'pad_type_id': 0, 'pad_token': '</s>'},
        'added_tokens': [added(0, '<pad>'), added(1, '</s>'), added(2, '<unk>')],
        'normalizer': {'type': 'Sequence', 'normalizers': [
            {'type': 'Replace', 'pattern': {'Regex': '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~]'}, 'content': ''},
            {'type': 'Lowercase'}]},
        'pre_tokenizer': {'type': 'Metaspace', 'replacement': '▁', 'prepend_scheme': 'always', 'split': True},
        'post_processor': {'type': 'TemplateProcessing', 'single': [{'Sequence': {'id': 'A', 'type_id': 0}},
                                                                    {'SpecialToken': {'id': '</s>', 'type_id': 0}}],
                           'pair': [{'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '</s>', 'type_id': 0}},
                                    {'Sequence': {'id': 'B', 'type_id': 0}}, {'SpecialToken': {'id': '</s>', 'type_id': 0}}],
                           'special_tokens': {'</s>': {'id': '</s>', 'ids': [1], 'tokens': ['</s>']}}},
        'decoder': {'type': 'Metaspace', 'replacement': '▁', 'prepend_scheme': 'always', 'split': True},
        'model': {'type': 'Unigram', 'unk_id': 2, 'vocab': pieces, 'byte_fallback': False},
    }, len(pieces)


DUAL_OUTPUTS = ['logits_per_image', 'logits_per_text', 'text_embeds', 'image_embeds']
DUAL_AXES = {'input_ids': {0: 'text_batch_size', 1: 'sequence_length'},
             'pixel_values': {0: 'image_batch_size', 2: 'height', 3: 'width'},
             'attention_mask': {0: 'text_batch_size', 1: 'sequence_length'},
             'logits_per_image': {0: 'image_batch_size', 1: 'text_batch_size'},
             'logits_per_text': {0: 'text_batch_size', 1: 'image_batch_size'},
             'text_embeds': {0: 'text_batch_size'}, 'image_embeds': {0: 'image_batch_size'}}


def export_dual(model, args, out, inputs):
    """Xenova's combined CLIP / SigLIP graph: onnx/model.onnx with the logits and both embeddings."""
    export(model, args, os.path.join(out, 'onnx', 'model.onnx'), inputs, DUAL_OUTPUTS,
           {k: v for k, v in DUAL_AXES.items() if k in inputs or k in DUAL_OUTPUTS})


def dual_config(kind, vocab_size, **text):
    """config.json of a CLIP / SigLIP export: the two towers' sizes, as transformers writes them."""
    tower = {'hidden_size': S.e_d, 'num_hidden_layers': S.e_layers, 'num_attention_heads': S.e_heads, 'intermediate_size': 2 * S.e_d}
    return {
        'text_config': {'model_type': f'{kind}_text_model', **tower, 'max_position_embeddings': max_length(kind),
                        'vocab_size': vocab_size, **text},
        'vision_config': {'model_type': f'{kind}_vision_model', **tower, 'image_size': S.e_img,
                          'patch_size': patch_size(kind), 'num_channels': 3},
        'torch_dtype': 'float32', 'transformers_version': '4.48.0',
    }


def make_clip(out):
    tokenizer, vocab_size, start, end = clip_tokenizer()
    torch.manual_seed(12)
    export_dual(ClipModel(vocab_size, sigmoid=False),
                (torch.tensor([[start, 5, 6, end], [start, 7, end, end]]), torch.zeros(3, 3, S.e_img, S.e_img),
                 torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])),
                out, ['input_ids', 'pixel_values', 'attention_mask'])
    write_json(os.path.join(out, 'config.json'), {
        'architectures': ['CLIPModel'], 'model_type': 'clip', 'projection_dim': S.e_d, 'logit_scale_init_value': 2.6592,
        **dual_config('clip', vocab_size, bos_token_id=start, eos_token_id=end, pad_token_id=1),
    })
    write_json(os.path.join(out, 'preprocessor_config.json'), {
        'image_processor_type': 'CLIPImageProcessor', 'feature_extractor_type': 'CLIPFeatureExtractor',
        'do_resize': True, 'size': {'shortest_edge': S.e_img}, 'resample': 3, 'do_center_crop': True,
        'crop_size': {'height': S.e_img, 'width': S.e_img}, 'do_rescale': True, 'rescale_factor': 1 / 255,
        'do_normalize': True, 'do_convert_rgb': True,
        'image_mean': [0.48145466, 0.4578275, 0.40821073], 'image_std': [0.26862954, 0.26130258, 0.27577711],
    })
    write_json(os.path.join(out, 'tokenizer.json'), tokenizer)
    write_json(os.path.join(out, 'tokenizer_config.json'), {
        'tokenizer_class': 'CLIPTokenizer', 'model_max_length': S.e_maxlen, 'do_lower_case': True,
        'bos_token': '<|startoftext|>', 'eos_token': '<|endoftext|>', 'pad_token': '<|endoftext|>',
        'unk_token': '<|endoftext|>', 'clean_up_tokenization_spaces': True,
    })
    write_json(os.path.join(out, 'special_tokens_map.json'), {
        'bos_token': '<|startoftext|>', 'eos_token': '<|endoftext|>', 'pad_token': '<|endoftext|>',
        'unk_token': '<|endoftext|>'})


def make_siglip(out):
    tokenizer, vocab_size = siglip_tokenizer()
    torch.manual_seed(13)
    export_dual(SiglipModel(vocab_size, sigmoid=True),
                (torch.ones(2, S.siglip_maxlen, dtype=torch.int64), torch.zeros(3, 3, S.e_img, S.e_img)),
                out, ['input_ids', 'pixel_values'])
    write_json(os.path.join(out, 'config.json'), {
        'architectures': ['SiglipModel'], 'model_type': 'siglip',
        **dual_config('siglip', vocab_size, pad_token_id=1, eos_token_id=1),
    })
    write_json(os.path.join(out, 'preprocessor_config.json'), {
        'image_processor_type': 'SiglipImageProcessor', 'processor_class': 'SiglipProcessor',
        'do_resize': True, 'size': {'height': S.e_img, 'width': S.e_img}, 'resample': 3, 'do_rescale': True,
        'rescale_factor': 1 / 255, 'do_normalize': True, 'image_mean': [0.5, 0.5, 0.5], 'image_std': [0.5, 0.5, 0.5],
    })
    write_json(os.path.join(out, 'tokenizer.json'), tokenizer)
    write_json(os.path.join(out, 'tokenizer_config.json'), {
        'tokenizer_class': 'SiglipTokenizer', 'model_max_length': S.siglip_maxlen, 'do_lower_case': True,
        'eos_token': '</s>', 'pad_token': '</s>', 'unk_token': '<unk>', 'clean_up_tokenization_spaces': True,
    })
    write_json(os.path.join(out, 'special_tokens_map.json'), {'eos_token': '</s>', 'pad_token': '</s>', 'unk_token': '<unk>'})


if __name__ == '__main__':
    makers = {'janus': make_janus, 'clip': make_clip, 'siglip': make_siglip}
    parser = argparse.ArgumentParser(description='Writes <model>-<size>/ folders in Hugging Face ONNX layouts.')
    parser.add_argument('models', nargs='*', help='janus, clip, siglip (default: all)')
    parser.add_argument('--size', choices=list(SIZES), default='tiny')
    parser.add_argument('--out', default=ROOT, help='parent folder (default test/fixtures/hf)')
    args = parser.parse_args()
    S.__dict__.update(SIZES[args.size])
    unknown = [m for m in args.models if m not in makers]
    if unknown:
        parser.error(f"unknown model {', '.join(unknown)} (choose from {', '.join(makers)})")
    for name in args.models or list(makers):
        folder = os.path.join(args.out, f'{name}-{args.size}')
        makers[name](folder)
        print(f'wrote {os.path.relpath(folder)}')
