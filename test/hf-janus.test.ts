import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine';
import type { ImageValue } from '../engine/image';
import { ModelRuntime } from '../engine/runtime';
import { createServices } from '../engine/services';
import { catalog } from '../nodes';
import { directJanus, HF_FIXTURES, janusWorkflow } from './hf-fixtures';

function hfEngine(options: ConstructorParameters<typeof ModelRuntime>[0] = {}) {
  const runtime = new ModelRuntime({ device: 'cpu', modelDirs: [HF_FIXTURES], ...options });
  return { runtime, engine: new Engine({ catalog, services: createServices({ allowFilePaths: true, models: runtime }) }) };
}

const hex = (image: ImageValue) => Buffer.from(image.data).toString('hex');

describe('Janus-Pro layout through transformers.js: generate, caption and score as nodes of one workflow', () => {
  let direct: Awaited<ReturnType<typeof directJanus>>;
  beforeAll(async () => {
    direct = await directJanus();
  });
  afterAll(() => direct.dispose());

  it('greedy: the same image (byte for byte), caption and score as transformers.js called directly', async () => {
    const { engine, runtime } = hfEngine();
    const result = await engine.run(janusWorkflow({ seed: 0, cfg: 4, temperature: 0 }));
    expect(result.status, result.error?.message).toBe('succeeded');
    const image = result.outputs.image.value as ImageValue;
    const expected = await direct.generate('a red circle', { seed: 0, cfg: 4, temperature: 0 });
    expect([image.width, image.height, image.channels]).toEqual([32, 32, 3]);
    expect(hex(image)).toBe(hex(expected));
    const caption = result.outputs.caption.value as string;
    expect(caption).toBe(await direct.caption(expected));
    expect(caption.length).toBeGreaterThan(0);
    const score = result.outputs.score.value as number;
    expect(score).toBeCloseTo(await direct.score(expected, 'a red circle'), 10);
    expect(score).toBeGreaterThan(0);
    expect(score).toBeLessThan(1);
    await runtime.close();
  });

  it('sampled: a seed repeats transformers.js seeded the same way; another seed differs', async () => {
    const { engine, runtime } = hfEngine();
    const run = async (seed: number) => (await engine.run(janusWorkflow({ seed, temperature: 1 }))).outputs.image.value as ImageValue;
    const [a, again, b] = [await run(5), await run(5), await run(6)];
    expect(hex(a)).toBe(hex(again));
    expect(hex(a)).toBe(hex(await direct.generate('a red circle', { seed: 5, cfg: 4, temperature: 1 })));
    expect(hex(a)).not.toBe(hex(b));
    await runtime.close();
  });

  it.each([
    { seed: 11, cfg: 5, temperature: 1, topK: 0 },
    { seed: 12, cfg: 2, temperature: 0.7, topK: 0 },
    { seed: 13, cfg: 4, temperature: 1.3, topK: 5 },
    { seed: 14, cfg: 1.5, temperature: 1, topK: 1 },
  ])('sampled with guidance ($cfg), temperature $temperature, top-k $topK: the image transformers.js alone gives for seed $seed', async (opts) => {
    const { runtime } = hfEngine();
    const [image] = await (await runtime.model('janus-tiny')).generate('a red circle', opts);
    expect(hex(image)).toBe(hex(await direct.generate('a red circle', opts)));
    await runtime.close();
  });

  it('top-p (the node param topP): repeatable per seed, it changes the image, and a vanishing nucleus samples the most likely token', async () => {
    const { engine, runtime } = hfEngine();
    const result = await engine.run(janusWorkflow({ seed: 5, temperature: 1, topP: 0.3 }));
    expect(result.status, result.error?.message).toBe('succeeded');
    const model = await runtime.model('janus-tiny');
    const sample = async (topP: number, temperature = 1) => hex((await model.generate('a red circle', { seed: 5, cfg: 4, temperature, topP }))[0]);
    const nucleus = hex(result.outputs.image.value as ImageValue);
    expect(await sample(0.3)).toBe(nucleus);
    expect(await sample(0.3)).toBe(nucleus);
    expect(await sample(1)).not.toBe(nucleus);
    expect(await sample(1)).toBe(hex(await direct.generate('a red circle', { seed: 5, cfg: 4, temperature: 1 })));
    expect(await sample(1e-6)).toBe(await sample(1, 0));
    await runtime.close();
  });

  it('count 2 gives two images, image i sampled from seed + i', async () => {
    const { runtime } = hfEngine();
    const model = await runtime.model('janus-tiny');
    const images = await model.generate('a blue square', { seed: 8, count: 2, temperature: 1, cfg: 2 });
    expect(images.map(hex)).toEqual([
      hex(await direct.generate('a blue square', { seed: 8, cfg: 2, temperature: 1 })),
      hex(await direct.generate('a blue square', { seed: 9, cfg: 2, temperature: 1 })),
    ]);
    await runtime.close();
  });
});

describe('one shared Janus instance', () => {
  it('8 concurrent runs load each graph once', async () => {
    const { engine, runtime } = hfEngine();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => engine.run(janusWorkflow({ seed: i, temperature: 1 }))));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill('succeeded'));
    expect(Object.fromEntries(runtime.sessions.created)).toEqual(
      Object.fromEntries(['prepare_inputs_embeds', 'model', 'lm_head', 'gen_head', 'gen_img_embeds', 'image_decode'].map((g) => [`janus-tiny/${g}`, 1])),
    );
    await runtime.close();
  });

  it('reports progress per image token and stops mid-way when cancelled', async () => {
    const { engine, runtime } = hfEngine();
    const controller = new AbortController();
    const steps: number[] = [];
    const result = await engine.run(janusWorkflow({ temperature: 1 }), {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'node:progress' && e.nodeId === 'g' && e.total === 16) {
          steps.push(e.step);
          if (e.step === 5) controller.abort();
        }
      },
    });
    expect(result.status).toBe('cancelled');
    expect(steps).toEqual([1, 2, 3, 4, 5]);
    // the model stays usable after a generation stopped between tokens
    expect((await engine.run(janusWorkflow())).status).toBe('succeeded');
    await runtime.close();
  });

  it('the memory budget unloads the least recently used model', async () => {
    const { runtime } = hfEngine({ memoryBudgetBytes: 1 });
    const [janus, clip] = [await runtime.model('janus-tiny'), await runtime.model('clip-tiny')];
    const [image] = await janus.generate('a red circle', { temperature: 0 });
    expect(runtime.sessions.loaded('janus-tiny')).toBe(true);
    await clip.score(image, 'a red circle');
    expect([runtime.sessions.loaded('janus-tiny'), runtime.sessions.loaded('clip-tiny')]).toEqual([false, true]);
    await janus.caption(image, { maxTokens: 2 });
    expect([runtime.sessions.loaded('janus-tiny'), runtime.sessions.loaded('clip-tiny')]).toEqual([true, false]);
    expect(runtime.sessions.created.get('janus-tiny/model')).toBe(2);
    await runtime.close();
  });
});

describe('validation knows what each model can do', () => {
  const { engine, runtime } = hfEngine();
  afterAll(() => runtime.close());

  it('refuses a task the model lacks, naming node, field and the tasks it has', () => {
    expect(engine.validate(janusWorkflow({ model: 'clip-tiny' })).errors).toEqual([
      { node: 'g', field: 'params.model', message: "model 'clip-tiny' cannot generate: it supports score" },
      { node: 'c', field: 'params.model', message: "model 'clip-tiny' cannot caption: it supports score" },
    ]);
    const edit = {
      version: 1,
      nodes: {
        p: { type: 'prompt', params: { text: 'a red circle' } },
        g: { type: 'generate', params: { model: 'janus-tiny' }, inputs: { prompt: ['p', 'text'] } },
        e: { type: 'edit', params: { model: 'janus-tiny' }, inputs: { image: ['g', 'image'], instruction: ['p', 'text'] } },
        out: { type: 'output', inputs: { value: ['e', 'image'] } },
      },
    };
    expect(engine.validate(edit).errors).toEqual([
      { node: 'e', field: 'params.model', message: "model 'janus-tiny' cannot edit: it supports generate, caption, score" },
    ]);
  });

  it('an unknown model is a validation error listing the known ones', () => {
    const [issue] = engine.validate(janusWorkflow({ model: 'janus-7b' })).errors;
    expect(issue).toMatchObject({ node: 'g', field: 'params.model' });
    expect(issue.message).toContain("unknown model 'janus-7b'");
    expect(issue.message).toContain('janus-tiny');
  });

  it('takes any text for a model without a word vocabulary', () => {
    expect(engine.validate(janusWorkflow({ prompt: 'A purple dragon, flying!' })).errors).toEqual([]);
  });
});
