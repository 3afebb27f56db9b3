import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine';
import { encodePng, makeImage, type ImageValue } from '../engine/image';
import { ModelRuntime } from '../engine/runtime';
import { createServices } from '../engine/services';
import { catalog } from '../nodes';
import { directDualEncoder, HF_FIXTURES } from './hf-fixtures';

/** Deterministic 32×32 test images: one channel swept by `v`, the others a fixed pattern. */
const images: ImageValue[] = [120, 200, 255].map((v) =>
  makeImage(32, 32, 3, Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i % 3 === 0 ? v : (i * 13) % 256))),
);
const TEXT = 'a photo of a red circle';

/** Each image loaded from a PNG file and scored against one prompt by reward-score on `model`. */
function scoreWorkflow(model: string, paths: string[]) {
  const nodes: Record<string, unknown> = { p: { type: 'prompt', params: { text: TEXT } } };
  paths.forEach((path, i) => {
    nodes[`img${i}`] = { type: 'load-image', params: { path } };
    nodes[`s${i}`] = { type: 'reward-score', params: { model }, inputs: { image: [`img${i}`, 'image'], text: ['p', 'text'] } };
    nodes[`o${i}`] = { type: 'output', params: { name: `score${i}` }, inputs: { value: [`s${i}`, 'score'] } };
  });
  return { version: 1, nodes };
}

describe.each(['clip-tiny', 'siglip-tiny'] as const)('%s as the reward model of reward-score', (name) => {
  const runtime = new ModelRuntime({ device: 'cpu', modelDirs: [HF_FIXTURES] });
  const engine = new Engine({ catalog, services: createServices({ allowFilePaths: true, models: runtime }) });
  let expected: number[];
  beforeAll(async () => {
    expected = await directDualEncoder(name, images, TEXT);
  });
  afterAll(() => runtime.close());

  it('a workflow scores images as transformers.js does directly, in 0..1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'picflow-scorer-'));
    const paths = await Promise.all(
      images.map(async (image, i) => {
        const path = join(dir, `${i}.png`);
        writeFileSync(path, await encodePng(image));
        return path;
      }),
    );
    const result = await engine.run(scoreWorkflow(name, paths));
    expect(result.status, result.error?.message).toBe('succeeded');
    const scores = images.map((_, i) => result.outputs[`score${i}`].value as number);
    scores.forEach((s, i) => expect(s).toBeCloseTo(expected[i], 6));
    expect(new Set(scores.map((s) => s.toFixed(6))).size).toBe(images.length);
    for (const s of scores) expect(s >= 0 && s <= 1).toBe(true);
    expect(scores.some((s) => s > 0 && s < 1)).toBe(true);
  });

  it('images of other sizes and channels (resized, centre-cropped, made RGB) score as transformers.js does directly', async () => {
    const shapes = [
      [384, 384, 3],
      [50, 37, 3],
      [61, 90, 4],
    ] as const;
    const others = shapes.map(([w, h, c], k) => makeImage(w, h, c, Uint8Array.from({ length: w * h * c }, (_, i) => (i * (5 + k) + (i >> 4)) % 256)));
    const model = await runtime.model(name);
    const direct = await Promise.all(others.map(async (image) => (await directDualEncoder(name, [image], TEXT))[0]));
    const scores = await Promise.all(others.map((image) => model.score(image, TEXT)));
    scores.forEach((s, i) => expect(s).toBeCloseTo(direct[i], 6));
    expect(new Set(scores.map((s) => s.toFixed(6))).size).toBe(others.length);
  });

  it('scores a list of images against one text in one batch: one session.run, the same numbers', async () => {
    const model = await runtime.model(name);
    const scores = await model.scoreBatch(images, TEXT);
    scores.forEach((s, i) => expect(s).toBeCloseTo(expected[i], 6));
    expect(model.lastStats.runs).toBe(1);
  });

  it('reward-score fed a list of images (generate count 3) scores them in one batch: one session.run, the numbers of scoring one by one', async () => {
    const model = await runtime.model(name);
    let runs = 0;
    const scoreBatch = model.scoreBatch.bind(model);
    model.scoreBatch = async (...args) => {
      const scores = await scoreBatch(...args);
      runs += model.lastStats.runs;
      return scores;
    };
    const result = await engine.run({
      version: 1,
      nodes: {
        p: { type: 'prompt', params: { text: TEXT } },
        g: { type: 'generate', params: { model: 'janus-tiny', count: 3, temperature: 1 }, inputs: { prompt: ['p', 'text'] } },
        s: { type: 'reward-score', params: { model: name }, inputs: { image: ['g', 'image'], text: ['p', 'text'] } },
        images: { type: 'output', params: { name: 'images' }, inputs: { value: ['g', 'image'] } },
        scores: { type: 'output', params: { name: 'scores' }, inputs: { value: ['s', 'score'] } },
      },
    });
    expect(result.status, result.error?.message).toBe('succeeded');
    expect(runs).toBe(1);
    const generated = result.outputs.images.value as ImageValue[];
    const batched = result.outputs.scores.value as number[];
    expect(batched).toHaveLength(3);
    const oneByOne: number[] = [];
    for (const image of generated) {
      oneByOne.push(await model.score(image, TEXT));
      runs += model.lastStats.runs;
    }
    expect(runs).toBe(4);
    batched.forEach((s, i) => expect(s).toBeCloseTo(oneByOne[i], 6));
    expect(new Set(batched.map((s) => s.toFixed(6))).size).toBe(3);
  });

  it('is a score-only model: validation refuses generate and caption', () => {
    const { errors } = engine.validate({
      version: 1,
      nodes: {
        p: { type: 'prompt', params: { text: TEXT } },
        g: { type: 'generate', params: { model: name }, inputs: { prompt: ['p', 'text'] } },
        out: { type: 'output', inputs: { value: ['g', 'image'] } },
      },
    });
    expect(errors).toEqual([{ node: 'g', field: 'params.model', message: `model '${name}' cannot generate: it supports score` }]);
  });
});
