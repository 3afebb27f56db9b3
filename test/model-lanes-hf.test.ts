// CPU lanes with transformers.js models: a worker lane finds the same model folders, loads the same dtype with the
// same transformers.js settings, and so answers every call (and fails every broken folder) as the main thread does.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { makeImage, type ImageValue } from '../engine/image';
import { ModelRuntime } from '../engine/runtime';
import { fixtureCopy } from './hf-fixtures';

const hex = (images: ImageValue[]) => images.map((im) => Buffer.from(im.data).toString('hex'));
const pattern = (k: number) => makeImage(32, 32, 3, Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * k) % 256));
const [first, second] = [pattern(7), pattern(13)];
const failure = (call: Promise<unknown>) => call.catch((err: Error) => `${err.name}: ${err.message}`);

const root = fixtureCopy('janus-tiny', 'clip-tiny', 'siglip-tiny');
const runtime = new ModelRuntime({ device: 'cpu', lanes: 2, modelDirs: [root] });
afterAll(() => runtime.close());

const workerCalls = async () => (await runtime.describe()).lanes[1]?.calls ?? 0;

/** Each call alone on the main thread, then beside a Janus generate that keeps the main thread busy (so on the worker), then all at once. */
async function sameOnEveryLane(calls: (() => Promise<unknown>)[]): Promise<void> {
  const janus = await runtime.model('janus-tiny');
  const alone: unknown[] = [];
  for (const call of calls) alone.push(await call());
  for (const [i, call] of calls.entries()) {
    const before = await workerCalls();
    const [, onWorker] = await Promise.all([janus.generate('busy', { seed: 1, count: 3 }), call()]);
    expect(onWorker, `call ${i}`).toEqual(alone[i]);
    expect(await workerCalls(), `call ${i} ran on the worker lane`).toBe(before + 1);
  }
  expect(await Promise.all(calls.map((call) => call()))).toEqual(alone);
}

it('Janus generate, caption and score, CLIP and SigLIP scores, and their refusals: the same on a worker lane', async () => {
  const [janus, clip, siglip] = await Promise.all(['janus-tiny', 'clip-tiny', 'siglip-tiny'].map((name) => runtime.model(name)));
  await sameOnEveryLane([
    () => janus.generate('a red circle', { seed: 3, temperature: 1, count: 2 }).then(hex),
    () => janus.generate('a blue square', { seed: 4, temperature: 0.7, topP: 0.5 }).then(hex),
    () => janus.caption(first),
    () => janus.caption(second, { temperature: 1, seed: 9 }),
    () => janus.scoreBatch([first, second], 'a red circle'),
    () => clip.scoreBatch([first, second], 'a red circle'),
    () => siglip.scoreBatch([first, second], 'a red circle'),
    () => failure(janus.generate('a red circle', { negative: 'blue' })),
    () => failure(clip.generate('a red circle')),
  ]);
});

it('a broken graph in a model folder fails with the same error on a worker lane', async () => {
  writeFileSync(join(root, 'siglip-tiny', 'onnx', 'model.onnx'), 'not an onnx graph');
  await runtime.refresh();
  const siglip = await runtime.model('siglip-tiny');
  expect(await failure(siglip.score(first, 'a red circle'))).toMatch(/^BundleError: model bundle .*siglip-tiny: cannot load onnx\/model.onnx/);
  await sameOnEveryLane([() => failure(siglip.score(first, 'a red circle'))]);
});
