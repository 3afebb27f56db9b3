import { join } from 'node:path';
import {
  AutoImageProcessor,
  ClassifierFreeGuidanceLogitsProcessor,
  random,
  RawImage,
  softmax,
  Tensor,
  topk,
  type ImageProcessor,
} from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { pixelValues } from '../engine/runtime/pixel-values';
import { TypedGuidance, TypedMultinomial } from '../engine/runtime/typed-generation';
import { HF_FIXTURES } from './hf-fixtures';

/** Deterministic pseudo-random floats (a fixed LCG), so a failing case repeats. */
function floats(n: number, seed: number, scale = 8): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * scale;
  });
}

type Step = (inputIds: bigint[][], logits: Tensor) => Tensor;
const bits = (t: Tensor) => Buffer.from((t.data as Float32Array).slice().buffer).toString('hex');

/** transformers.js' MultinomialSampler for one row, from its exported parts: TopK, its softmax, its weighted pick. */
async function referenceDraw(row: Float32Array, topK: number): Promise<number> {
  const [values, ids] = await topk(new Tensor('float32', row.slice(), [row.length]), topK > 0 ? topK : row.length);
  return Number(random.choices(Array.from(ids.data as BigInt64Array), softmax(values.data as Float32Array)));
}

function typedDraw(rows: Float32Array[], topK: number): number[] {
  const vocab = rows[0].length;
  const logits = new Tensor('float32', Float32Array.from(rows.flatMap((r) => Array.from(r))), [rows.length, vocab]);
  const out = (new TypedMultinomial(topK) as unknown as Step)([], logits).data as Float32Array;
  return rows.map((_, r) => {
    const row = out.subarray(r * vocab, (r + 1) * vocab);
    expect(row.filter((x) => x > -Infinity)).toHaveLength(1); // the greedy sampler can only take the drawn token
    return row.indexOf(0);
  });
}

describe('the typed multinomial draw is transformers.js’ sampler step for step', () => {
  // rows with what changes an order: ties, +0 and -0, -Infinity (filtered tokens), a wide range
  const tied = Float32Array.from(floats(300, 1, 4), (x) => Math.round(x * 2) / 2);
  tied.set([0, -0, 0, -0, -Infinity, -Infinity], 40);
  const cases: [string, Float32Array][] = [
    ['spread logits', floats(4096, 7, 20)],
    ['many ties, ±0 and -Infinity', tied],
    ['flat logits', new Float32Array(500)],
    ['one clear winner', Float32Array.from(floats(1000, 3), (x, i) => (i === 617 ? 60 : x))],
  ];

  it.each(cases)('%s: the same token over 40 seeds, with and without top-k', async (_, row) => {
    for (const topK of [0, 1, 7]) {
      for (let seed = 0; seed < 40; seed++) {
        random.seed(seed);
        const expected = await referenceDraw(row, topK);
        const after = random.random();
        random.seed(seed);
        expect(typedDraw([row], topK), `seed ${seed}, top-k ${topK}`).toEqual([expected]);
        expect(random.random(), 'one draw from the shared stream, as the sampler takes').toBe(after);
      }
    }
  });

  it('draws each row of a batch in turn from the same stream', async () => {
    const rows = [floats(2000, 11), floats(2000, 12), floats(2000, 13)];
    random.seed(99);
    const expected = [];
    for (const row of rows) expected.push(await referenceDraw(row, 0));
    random.seed(99);
    expect(typedDraw(rows, 0)).toEqual(expected);
  });
});

describe('typed guidance is transformers.js’ ClassifierFreeGuidanceLogitsProcessor', () => {
  it.each([1, 2])('the same float32 logits, bit for bit, for %i sequence(s)', (sequences) => {
    for (const scale of [1.5, 4, 5]) {
      const data = floats(2 * sequences * 16384, scale * 10, 30);
      const ids = Array.from({ length: sequences }, () => [1n]);
      const theirs = (new ClassifierFreeGuidanceLogitsProcessor(scale) as unknown as Step)(ids, new Tensor('float32', data.slice(), [2 * sequences, 16384]));
      const ours = (new TypedGuidance(scale) as unknown as Step)(ids, new Tensor('float32', data.slice(), [2 * sequences, 16384]));
      expect(ours.dims).toEqual(theirs.dims);
      expect(bits(ours)).toBe(bits(theirs));
    }
  });

  it('refuses logits that are not conditional and unconditional halves', () => {
    const step = new TypedGuidance(4) as unknown as Step;
    expect(() => step([[1n]], new Tensor('float32', new Float32Array(30), [3, 10]))).toThrow(/twice as many logits rows as sequences.*got 3 for 1/);
  });
});

describe('pixel_values in one pass are the image processor’s own, bit for bit', () => {
  /** Deterministic images of several sizes and channel counts: resized, centre-cropped, converted to RGB. */
  const images = (
    [
      [32, 32, 3],
      [384, 384, 3],
      [50, 37, 3],
      [61, 90, 4],
      [45, 45, 1],
      [20, 100, 3],
    ] as const
  ).map(([w, h, c], k) => new RawImage(Uint8ClampedArray.from({ length: w * h * c }, (_, i) => (i * (7 + k) + (i >> 5)) % 256), w, h, c));

  it.each(['clip-tiny', 'siglip-tiny'])('%s: each image alone, and a batch of them', async (name) => {
    const processor = (await AutoImageProcessor.from_pretrained(join(HF_FIXTURES, name), { local_files_only: true })) as ImageProcessor;
    for (const batch of [...images.map((image) => [image]), images]) {
      const theirs = (await processor(batch)).pixel_values as Tensor;
      const ours = await pixelValues(processor, batch);
      expect(ours.dims).toEqual(theirs.dims);
      expect(bits(ours)).toBe(bits(theirs));
    }
  });

  it('a processor with a step the one pass lacks (channel flip) gets its own preprocessing', async () => {
    const processor = (await AutoImageProcessor.from_pretrained(join(HF_FIXTURES, 'clip-tiny'), { local_files_only: true })) as ImageProcessor;
    processor.do_flip_channel_order = true;
    const theirs = (await processor(images.slice(0, 2))).pixel_values as Tensor;
    expect(bits(await pixelValues(processor, images.slice(0, 2)))).toBe(bits(theirs));
  });
});
