import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AutoImageProcessor,
  AutoModel,
  AutoProcessor,
  AutoTokenizer,
  MultiModalityCausalLM,
  RawImage,
  random,
  Tensor,
  type Processor,
} from '@huggingface/transformers';
import { makeImage, type ImageValue } from '../engine/image';

/** The committed tiny models in Hugging Face layouts (scripts/make-hf-fixtures.py). */
export const HF_FIXTURES = fileURLToPath(new URL('./fixtures/hf', import.meta.url));

/** A fresh folder holding a copy of the named fixtures, for tests that break one. */
export function fixtureCopy(...names: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'picflow-hf-'));
  for (const name of names) cpSync(join(HF_FIXTURES, name), join(root, name), { recursive: true });
  return root;
}

/** prompt → generate → caption and reward-score of the image against the prompt, all on `model`. */
export function janusWorkflow(options: { model?: string; prompt?: string; seed?: number; cfg?: number; temperature?: number; topP?: number } = {}) {
  const { model = 'janus-tiny', prompt = 'a red circle', seed = 0, cfg = 4, temperature = 0, topP } = options;
  return {
    version: 1,
    nodes: {
      p: { type: 'prompt', params: { text: prompt } },
      g: { type: 'generate', params: { model, seed, cfg, temperature, ...(topP === undefined ? {} : { topP }) }, inputs: { prompt: ['p', 'text'] } },
      c: { type: 'caption', params: { model }, inputs: { image: ['g', 'image'] } },
      s: { type: 'reward-score', params: { model }, inputs: { image: ['g', 'image'], text: ['p', 'text'] } },
      image: { type: 'output', params: { name: 'image' }, inputs: { value: ['g', 'image'] } },
      caption: { type: 'output', params: { name: 'caption' }, inputs: { value: ['c', 'text'] } },
      score: { type: 'output', params: { name: 'score' }, inputs: { value: ['s', 'score'] } },
    },
  };
}

const local = { local_files_only: true } as const;
const toValue = (raw: RawImage): ImageValue => makeImage(raw.width, raw.height, 3, new Uint8Array(raw.rgb().data));
const toRaw = (image: ImageValue) => new RawImage(new Uint8ClampedArray(image.data), image.width, image.height, image.channels);

/**
 * transformers.js called directly on the fixture, the way its own Janus example calls it: the
 * reference that picflow's outputs must equal.
 */
export async function directJanus(dir = join(HF_FIXTURES, 'janus-tiny')) {
  const processor = (await AutoProcessor.from_pretrained(dir, local)) as Processor & { num_image_tokens: number };
  const model = (await MultiModalityCausalLM.from_pretrained(dir, { ...local, dtype: 'fp32', device: 'cpu' })) as MultiModalityCausalLM;
  const understand = (image: ImageValue) =>
    processor([{ role: '<|User|>', content: '<image_placeholder>\nDescribe this image.' }], { images: [toRaw(image)] }) as Promise<Record<string, Tensor>>;
  return {
    async generate(prompt: string, opts: { seed: number; cfg: number; temperature: number; topK?: number }): Promise<ImageValue> {
      const inputs = await processor([{ role: '<|User|>', content: prompt }], { chat_template: 'text_to_image' });
      const tokens = processor.num_image_tokens;
      random.seed(opts.seed);
      const [image] = await model.generate_images({
        ...inputs,
        min_new_tokens: tokens,
        max_new_tokens: tokens,
        do_sample: opts.temperature > 0,
        temperature: opts.temperature > 0 ? opts.temperature : 1,
        top_k: opts.topK ?? 0,
        guidance_scale: opts.cfg,
      } as never);
      return toValue(image);
    },
    async caption(image: ImageValue): Promise<string> {
      const inputs = await understand(image);
      const out = (await model.generate({ ...inputs, max_new_tokens: 64, do_sample: false } as never)) as Tensor;
      const [text] = processor.batch_decode(out.slice(null, [inputs.input_ids.dims[1], out.dims[1]]), { skip_special_tokens: true });
      return text.trim();
    },
    /** exp(mean log p) of the text's tokens as the answer to the describe prompt, from one forward pass. */
    async score(image: ImageValue, text: string): Promise<number> {
      const inputs = await understand(image);
      const target = processor.tokenizer!.encode(text, { add_special_tokens: false });
      const prompt = Array.from(inputs.input_ids.data as BigInt64Array);
      const ids = [...prompt, ...target.map(BigInt)];
      const n = ids.length;
      const mask = (inputs.images_seq_mask.data as Uint8Array);
      const fed = {
        ...inputs,
        input_ids: new Tensor('int64', BigInt64Array.from(ids), [1, n]),
        attention_mask: new Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
        images_seq_mask: new Tensor('bool', Uint8Array.from([...mask, ...target.map(() => 0)]), [1, n]),
      };
      (model as unknown as { _generation_mode: string })._generation_mode = 'text';
      const { logits } = (await model.forward(fed)) as { logits: Tensor };
      const [, , vocab] = logits.dims;
      const data = logits.data as Float32Array;
      let sum = 0;
      target.forEach((token, i) => {
        const row = Array.from(data.subarray((prompt.length - 1 + i) * vocab, (prompt.length + i) * vocab));
        const max = Math.max(...row);
        sum += row[token] - max - Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
      });
      return Math.exp(sum / target.length);
    },
    dispose: () => model.dispose(),
  };
}

/** CLIP or SigLIP called directly: CLIP's clamped cosine, SigLIP's sigmoid of its logit, per image. */
export async function directDualEncoder(name: 'clip-tiny' | 'siglip-tiny', images: ImageValue[], text: string): Promise<number[]> {
  const dir = join(HF_FIXTURES, name);
  const model = await AutoModel.from_pretrained(dir, { ...local, dtype: 'fp32', device: 'cpu' });
  const tokenizer = await AutoTokenizer.from_pretrained(dir, local);
  const processor = await AutoImageProcessor.from_pretrained(dir, local);
  const siglip = name === 'siglip-tiny';
  const textInputs = tokenizer([text], siglip ? { padding: 'max_length', truncation: true } : { padding: true, truncation: true });
  const { pixel_values } = await processor(images.map(toRaw));
  const out = (await model({ ...textInputs, pixel_values })) as Record<string, Tensor>;
  await model.dispose();
  if (siglip) return Array.from(out.logits_per_image.data as Float32Array, (x) => 1 / (1 + Math.exp(-x)));
  const t = Array.from(out.text_embeds.data as Float32Array);
  const d = t.length;
  const norm = (v: number[]) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return images.map((_, i) => {
    const v = Array.from((out.image_embeds.data as Float32Array).subarray(i * d, (i + 1) * d));
    const cos = v.reduce((a, x, k) => a + x * t[k], 0) / (norm(v) * norm(t));
    return Math.min(1, Math.max(0, cos));
  });
}
