import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { makeImage } from '../engine/image';
import { ModelRuntime, SHIPPED_MODELS_DIR } from '../engine/runtime';

// The fixture is written by the export script from the torch model; reproducing it proves the
// shipped ONNX graphs and the TypeScript adapter compute what the torch model computes.
const dir = join(SHIPPED_MODELS_DIR, 'tiny-shapes');
const fixture = JSON.parse(readFileSync(join(dir, 'parity.json'), 'utf8'));
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const options = { intraOpNumThreads: 1, interOpNumThreads: 1 };
const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

function maxDiff(actual: ArrayLike<number>, expected: number[]): number {
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(actual[i] - expected[i]));
  return max;
}

describe('tiny-shapes parity with the torch model', () => {
  const runtime = new ModelRuntime({ device: 'cpu' });
  afterAll(() => runtime.close());
  const image = (i: number) => makeImage(32, 32, 3, Uint8Array.from(fixture.encoder.pixels[i]));

  it('the encoder maps the fixed pixels (clean, noisy, JPEG) to the expected codes', async () => {
    const session = await ort.InferenceSession.create(join(dir, manifest.graphs.encoder.file), options);
    const pixels = new ort.Tensor('uint8', Uint8Array.from(fixture.encoder.pixels.flat()), [fixture.encoder.pixels.length, 32, 32, 3]);
    const out = await session.run({ pixels });
    expect(Array.from(out.codes.data as BigInt64Array, Number)).toEqual(fixture.encoder.codes.flat());
    await session.release();
  });

  it('the decoder maps the fixed codes to the expected pixels', async () => {
    const session = await ort.InferenceSession.create(join(dir, manifest.graphs.decoder.file), options);
    const out = await session.run({ codes: int64(fixture.decoder.codes.flat(), [fixture.decoder.codes.length, fixture.decoder.codes[0].length]) });
    expect(Array.from(out.pixels.data as Uint8Array)).toEqual(fixture.decoder.pixels.flat());
    await session.release();
  });

  it('the transformer reproduces the logits in one pass and token by token with the KV cache', async () => {
    const t = fixture.transformer;
    const kv = manifest.graphs.transformer.kvCache;
    const V = manifest.vocab.size;
    const session = await ort.InferenceSession.create(join(dir, manifest.graphs.transformer.file), options);
    const ids: number[] = t.inputIds;
    // cell ids: 1-based slot inside the image segment that follows the prefix
    const cell = (i: number) => (i >= t.prefix ? i - t.prefix + 1 : 0);
    const feeds = (from: number, to: number, past: Record<string, ort.Tensor>) => {
      const range = Array.from({ length: to - from }, (_, i) => from + i);
      return {
        input_ids: int64(ids.slice(from, to), [1, to - from]),
        position_ids: int64(range, [1, to - from]),
        cell_ids: int64(range.map(cell), [1, to - from]),
        ...past,
      };
    };
    const pastFrom = (out?: ort.InferenceSession.ReturnType) => {
      const past: Record<string, ort.Tensor> = {};
      for (let l = 0; l < kv.layers; l++) {
        for (const k of ['key', 'value']) {
          past[`past_${k}_${l}`] = out
            ? (out[`present_${k}_${l}`] as ort.Tensor)
            : new ort.Tensor('float32', new Float32Array(0), [1, kv.heads, 0, kv.headDim]);
        }
      }
      return past;
    };
    const full = (await session.run(feeds(0, ids.length, pastFrom()))).logits.data as Float32Array;
    t.positions.forEach((p: number, j: number) => {
      expect(maxDiff(full.subarray(p * V, (p + 1) * V), t.logitsFull[j])).toBeLessThan(t.tolerance);
    });
    const rows: Float32Array[] = [];
    let out = await session.run(feeds(0, t.prefix, pastFrom()));
    for (let i = 0; i < t.prefix; i++) rows.push((out.logits.data as Float32Array).slice(i * V, (i + 1) * V));
    for (let i = t.prefix; i < ids.length; i++) {
      out = await session.run(feeds(i, i + 1, pastFrom(out)));
      rows.push((out.logits.data as Float32Array).slice(0, V));
    }
    t.positions.forEach((p: number, j: number) => expect(maxDiff(rows[p], t.logitsCached[j])).toBeLessThan(t.tolerance));
    await session.release();
  });

  it('greedy generate (plain and guided), edit and caption give exactly the expected tokens, and the score matches', async () => {
    const g = fixture.greedy;
    const model = await runtime.unifiedAr('tiny-shapes');
    const [plain] = await model.generateCodes(g.generate.prompt, { cfg: 1, temperature: 0 });
    expect(Array.from(plain)).toEqual(g.generate.codes);
    const guidance = { cfg: g.generateGuided.cfg, cfgMinRatio: g.generateGuided.cfgMinRatio, temperature: 0 };
    const [guided] = await model.generateCodes(g.generateGuided.prompt, guidance);
    expect(Array.from(guided)).toEqual(g.generateGuided.codes);
    const [edited] = await model.editCodes(image(g.edit.image), g.edit.instruction, { cfg: 1, temperature: 0 });
    expect(Array.from(edited)).toEqual(g.edit.codes);
    for (let i = 0; i < g.caption.texts.length; i++) expect(await model.caption(image(i), { temperature: 0 })).toBe(g.caption.texts[i]);
    expect(await model.score(image(g.score.image), g.score.text)).toBeCloseTo(g.score.value, 4);
  });
});
