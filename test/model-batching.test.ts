// Calls of different runs decode together in one batch (issue 16); each result stays what the call alone gives.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine';
import { encodePng, type ImageValue } from '../engine/image';
import { runtimeOptionsFromEnv } from '../engine/runtime';
import { catalog } from '../nodes';
import { generateWorkflow, heldoutSample, modelEngine, render } from './model-fixtures';

const TOKENS = 66; // image tokens of a tiny-shapes image: one sampling step each
const prompt = 'a large red circle in the center on a blue background';

const hex = (images: ImageValue[]) => images.map((im) => Buffer.from(im.data).toString('hex'));

describe('batching calls of different runs', () => {
  // one lane: every call here batches on the main thread (test/model-lanes.test.ts spreads them over threads)
  const { engine, runtime } = modelEngine({ lanes: 1 });
  afterAll(() => runtime.close());

  const png = async (run: Promise<Awaited<ReturnType<typeof engine.run>>>) => {
    const result = await run;
    expect(result.status, result.error?.message).toBe('succeeded');
    return encodePng(result.outputs.out.value as ImageValue);
  };

  it('concurrent runs with the same seed give the bytes one run alone gives', async () => {
    const alone = await png(engine.run(generateWorkflow(11)));
    const other = await png(engine.run(generateWorkflow(12)));
    // a fresh engine (its own output cache): every run together reaches the model
    const fresh = new Engine({ catalog, services: engine.services });
    const together = await Promise.all([11, 12, 11, 11].map((seed) => png(fresh.run(generateWorkflow(seed)))));
    expect(together[0].equals(alone)).toBe(true);
    expect(together[1].equals(other)).toBe(true);
    expect(together[2].equals(alone)).toBe(true);
    expect(together[3].equals(alone)).toBe(true);
    expect(alone.equals(other)).toBe(false);
  });

  it('calls of different shapes and options share one batch and each gets its result alone', async () => {
    const model = await runtime.unifiedAr('tiny-shapes');
    const calls = [
      () => model.generate(prompt, { seed: 3 }),
      () => model.generate(prompt, { seed: 4, cfg: 1 }), // unguided: one row
      () => model.generate(prompt, { seed: 5, count: 3, temperature: 0.7 }),
      () => model.generate('a small green square at the top on a black background', { seed: 3, negative: 'a red circle' }),
    ];
    const alone: string[][] = [];
    for (const call of calls) alone.push(hex(await call()));
    // started in one turn, the four join one batch: one prefill and 65 steps for all, then a decoder run each
    const together = await Promise.all(calls.map((call) => call()));
    expect(model.lastStats.runs).toBe(TOKENS + calls.length);
    expect(together.map(hex)).toEqual(alone);
  });

  it('edits and captions batch with their own kind and match their results alone', async () => {
    const model = await runtime.unifiedAr('tiny-shapes');
    const images = heldoutSample(3).map(render);
    const run = () =>
      Promise.all([
        ...images.map((image) => model.caption(image)),
        ...images.map((image, i) => model.edit(image, 'make the background yellow', { seed: i }).then(hex)),
        model.caption(images[0], { temperature: 1, seed: 9, maxTokens: 3 }),
      ]);
    const alone: unknown[] = [];
    for (const image of images) alone.push(await model.caption(image));
    for (const [i, image] of images.entries()) alone.push(hex(await model.edit(image, 'make the background yellow', { seed: i })));
    alone.push(await model.caption(images[0], { temperature: 1, seed: 9, maxTokens: 3 }));
    expect(await run()).toEqual(alone);
    expect((alone[0] as string).split(' ').length).toBeGreaterThan(3);
  });

  it('a cancelled call leaves its batch at once; the others finish with their results alone and their own progress', async () => {
    const model = await runtime.unifiedAr('tiny-shapes');
    const seeds = [21, 22, 23];
    const alone: string[][] = [];
    for (const seed of seeds) alone.push(hex(await model.generate(prompt, { seed })));

    const controller = new AbortController();
    const progress = seeds.map(() => [] as number[]);
    let othersAtCancel = -1;
    const calls = seeds.map((seed, i) =>
      model.generate(prompt, { seed }, {
        signal: i === 1 ? controller.signal : undefined,
        onProgress: (step, total) => {
          if (total !== TOKENS) return;
          progress[i].push(step);
          if (i === 1 && step === 10) controller.abort();
        },
      }),
    );
    const cancelled = calls[1].catch((err: Error) => {
      othersAtCancel = progress[0].length;
      return err;
    });
    const results = await Promise.all([calls[0], calls[2]]);
    const error = await cancelled;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('AbortError');
    expect(progress[1]).toEqual(Array.from({ length: 10 }, (_, k) => k + 1));
    // the cancelled call was failed while the others were still sampling
    expect(othersAtCancel).toBeGreaterThan(9);
    expect(othersAtCancel).toBeLessThan(TOKENS);
    expect(progress[0]).toEqual(Array.from({ length: TOKENS }, (_, k) => k + 1));
    expect(progress[2]).toEqual(progress[0]);
    expect(results.map(hex)).toEqual([alone[0], alone[2]]);
  });

  it('a bad call fails alone: the calls batched with it succeed', async () => {
    const model = await runtime.unifiedAr('tiny-shapes');
    const expected = hex(await model.generate(prompt, { seed: 31 }));
    const [bad, good] = await Promise.allSettled([
      model.generate('a red dragon', { seed: 30 }),
      model.generate(prompt, { seed: 31 }),
    ]);
    expect(bad.status).toBe('rejected');
    expect(((bad as PromiseRejectedResult).reason as Error).message).toContain("unknown word 'dragon'");
    expect(good.status).toBe('fulfilled');
    expect(hex((good as PromiseFulfilledResult<ImageValue[]>).value)).toEqual(expected);
  });

  it('a call cancelled while it waits for a batch never runs', async () => {
    const model = await runtime.unifiedAr('tiny-shapes');
    const controller = new AbortController();
    const first = model.generate(prompt, { seed: 40 });
    let progressed = false;
    const waiting = model.generate(prompt, { seed: 41 }, { signal: controller.signal, onProgress: () => (progressed = true) });
    // aborted before the batch both joined begins: the second call is dropped from it, the first runs
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    await first;
    expect(progressed).toBe(false);
  });
});

describe('batch size', () => {
  it('batchRows 1 runs one call at a time, each alone', async () => {
    const { runtime } = modelEngine({ batchRows: 1 });
    const model = await runtime.unifiedAr('tiny-shapes');
    await Promise.all([model.generate(prompt, { seed: 1 }), model.generate(prompt, { seed: 2 })]);
    expect(model.lastStats.runs).toBe(TOKENS + 1);
    await runtime.close();
  });

  it('PICFLOW_BATCH_ROWS sets it; a bad value is refused naming the variable', () => {
    expect(runtimeOptionsFromEnv({ PICFLOW_BATCH_ROWS: '8' }).batchRows).toBe(8);
    expect(runtimeOptionsFromEnv({}).batchRows).toBeUndefined();
    for (const bad of ['0', '2.5', 'lots', '-4']) {
      expect(() => runtimeOptionsFromEnv({ PICFLOW_BATCH_ROWS: bad })).toThrow(`PICFLOW_BATCH_ROWS must be an integer of at least 1 (1: no batching), not '${bad}'`);
    }
  });
});
