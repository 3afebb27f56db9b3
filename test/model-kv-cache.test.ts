// The KV cache kept by the runtime (the graph's new_key/new_value outputs appended step by step) against the
// graph's presents (the whole cache returned by every step): the same numbers, so the same tokens and bytes.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageValue } from '../engine/image';
import { ModelRuntime } from '../engine/runtime';
import { bundleDir, heldoutSample, render } from './model-fixtures';

const prompt = 'a large red circle in the center on a blue background';
const hex = (images: ImageValue[]) => images.map((image) => Buffer.from(image.data).toString('hex'));

/** A copy of the shipped bundle under another name, its manifest changed by `edit`. */
function bundleCopy(root: string, name: string, edit: (kv: Record<string, unknown>) => void): void {
  const dir = join(root, name);
  cpSync(bundleDir, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  manifest.name = name;
  edit(manifest.graphs.transformer.kvCache);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

describe('the KV cache the runtime keeps', () => {
  const root = mkdtempSync(join(tmpdir(), 'picflow-kv-'));
  // The same graph file; without newKey/newValue the runtime reads the presents, as for a bundle exported before them.
  bundleCopy(root, 'tiny-presents', (kv) => {
    delete kv.newKey;
    delete kv.newValue;
  });
  bundleCopy(root, 'tiny-half-new', (kv) => delete kv.newValue);
  const runtime = new ModelRuntime({ device: 'cpu', lanes: 1, modelDirs: [root] });
  afterAll(() => runtime.close());

  it('gives the bytes and words the presents give: generate (guided or not, several images), edit, caption', async () => {
    const kept = await runtime.model('tiny-shapes');
    const presents = await runtime.model('tiny-presents');
    const image = render(heldoutSample(1)[0]);
    for (const model of [kept, presents]) expect(model.tasks).toContain('generate');
    const calls = (model: typeof kept) => [
      () => model.generate(prompt, { seed: 3 }).then(hex),
      () => model.generate(prompt, { seed: 4, count: 3 }).then(hex),
      () => model.generate(prompt, { seed: 5, cfg: 1 }).then(hex),
      () => model.edit(image, 'make the background yellow', { seed: 6 }).then(hex),
      () => model.caption(image),
      () => model.caption(image, { temperature: 0.8, seed: 7 }),
    ];
    for (const [i, call] of calls(kept).entries()) expect(await call(), `call ${i}`).toEqual(await calls(presents)[i]());
  });

  it('rows that leave a batch first (a cancelled call, a short caption) leave the others as they were', async () => {
    const kept = await runtime.model('tiny-shapes');
    const presents = await runtime.model('tiny-presents');
    const images = heldoutSample(4).map(render);
    // Each batch's first call leaves it first, so the rows that go on are not the first ones.
    const batch = async (model: typeof kept) => {
      const cancel = new AbortController();
      const calls = [
        model.generate(prompt, { seed: 10 }, { signal: cancel.signal, onProgress: (step) => step === 5 && cancel.abort(new Error('stop')) }).then(hex),
        model.generate(prompt, { seed: 9, count: 2 }).then(hex),
        model.caption(images[0], { maxTokens: 2 }),
        ...images.slice(1).map((image, i) => model.caption(image, { temperature: 1, seed: i })),
      ];
      return Promise.allSettled(calls);
    };
    const [a, b] = [await batch(kept), await batch(presents)];
    expect(a.map((r) => r.status)).toEqual(['rejected', ...Array(5).fill('fulfilled')]);
    expect(a.slice(1)).toEqual(b.slice(1));
  });

  it('the same bytes with the cache off (each step runs the whole prefix and fetches only the logits)', async () => {
    const kept = await runtime.model('tiny-shapes');
    const on = hex(await kept.generate(prompt, { seed: 11 }));
    const off = hex(await kept.generate(prompt, { seed: 11 }, { kvCache: false }));
    expect(off).toEqual(on);
  });

  it('a manifest naming new keys without new values is refused, naming the field', async () => {
    await expect(runtime.model('tiny-half-new')).rejects.toThrow(/newKey/);
  });
});
