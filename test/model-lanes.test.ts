// CPU lanes (issue 16): calls that find the main thread busy run on worker threads with their own sessions;
// every result stays what the call alone on the main thread gives, and cancel, progress and errors work the same.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { encodePng, type ImageValue } from '../engine/image';
import { Engine } from '../engine';
import { ModelRuntime, runtimeOptionsFromEnv } from '../engine/runtime';
import { catalog } from '../nodes';
import { bundleDir, generateWorkflow, modelEngine } from './model-fixtures';

const prompt = 'a large red circle in the center on a blue background';
const hex = (images: ImageValue[]) => images.map((im) => Buffer.from(im.data).toString('hex'));

const workerCalls = async (runtime: ModelRuntime) =>
  (await runtime.describe()).lanes.filter((lane) => lane.thread === 'worker').reduce((n, lane) => n + lane.calls, 0);

describe('model lanes', () => {
  const { engine, runtime } = modelEngine({ lanes: 2 });
  afterAll(() => runtime.close());

  it('concurrent runs spread over a worker lane and each gets the bytes it gets alone on the main thread', async () => {
    // a fresh engine (its own output cache) for the runs together, so that every one reaches the model
    const fresh = new Engine({ catalog, services: engine.services });
    const png = async (seed: number, by = engine) => {
      const result = await by.run(generateWorkflow(seed));
      expect(result.status, result.error?.message).toBe('succeeded');
      return encodePng(result.outputs.out.value as ImageValue);
    };
    const seeds = [31, 32, 33, 34, 35];
    const alone: Buffer[] = [];
    for (const seed of seeds) alone.push(await png(seed));
    expect(await workerCalls(runtime)).toBe(0); // one call at a time never leaves the main thread
    const together = await Promise.all(seeds.map((seed) => png(seed, fresh)));
    expect(together.map((b) => b.toString('hex'))).toEqual(alone.map((b) => b.toString('hex')));
    expect(await workerCalls(runtime)).toBeGreaterThan(0);
    const report = await runtime.describe();
    expect(report.maxLanes).toBe(2);
    const lanes = report.lanes;
    expect(lanes.map((lane) => [lane.thread, lane.state, lane.inFlight])).toEqual([
      ['main', 'ready', 0],
      ['worker', 'ready', 0],
    ]);
    expect(lanes[0].calls + lanes[1].calls).toBe(2 * seeds.length);
  });

  it('edit, caption and score on a worker lane answer what the main thread answers; its errors read the same', async () => {
    const model = await runtime.model('tiny-shapes');
    const [image] = await model.generate(prompt, { seed: 2 });
    const calls = [
      () => model.edit(image, 'make the background yellow', { seed: 4 }).then(hex),
      () => model.caption(image),
      () => model.score(image, prompt),
      () => model.scoreBatch([image, image], 'a small green square at the top on a black background'),
      () => model.generate('a purple unicorn', { seed: 1 }).catch((err: Error) => `error: ${err.message}`),
    ];
    const alone: unknown[] = [];
    for (const call of calls) alone.push(await call());
    expect(alone[4]).toMatch(/^error: .*unicorn/);
    const before = await workerCalls(runtime);
    // each call paired with a long generate that keeps the main thread busy, so the call goes to the worker
    for (const [i, call] of calls.entries()) {
      const [, onWorker] = await Promise.all([model.generate(prompt, { seed: 50 + i, count: 2 }), call()]);
      expect(onWorker).toEqual(alone[i]);
    }
    expect(await workerCalls(runtime)).toBe(before + calls.length);
  });

  it('a call cancelled on a worker lane fails at once with its reason; progress arrives from the worker; the lane goes on', async () => {
    const model = await runtime.model('tiny-shapes');
    const expected = hex(await model.generate(prompt, { seed: 77 }));
    const before = await workerCalls(runtime);
    const controller = new AbortController();
    const steps: number[] = [];
    const busy = model.generate(prompt, { seed: 1, count: 2 });
    const cancelled = model.generate(prompt, { seed: 76 }, {
      signal: controller.signal,
      onProgress: (step) => {
        steps.push(step);
        if (steps.length === 5) controller.abort(new Error('cancelled by the test'));
      },
    });
    await expect(cancelled).rejects.toThrow('cancelled by the test');
    expect(steps.length).toBe(5);
    // the worker drops the cancelled call at its next step
    await expect.poll(async () => (await runtime.describe()).lanes[1].inFlight).toBe(0);
    await busy;
    // A call for the main thread first, so the next goes to the worker (its first call may have ended by now).
    const withProgress: number[] = [];
    const [, after] = await Promise.all([
      model.generate(prompt, { seed: 1, count: 2 }),
      model.generate(prompt, { seed: 77 }, { onProgress: (step) => withProgress.push(step) }),
    ]);
    expect(hex(after)).toEqual(expected);
    expect(withProgress.length).toBeGreaterThan(60);
    expect(await workerCalls(runtime)).toBe(before + 2);
  });

  it('a refresh ends the worker lanes: their calls in flight fail naming why, and the next rush starts a new lane', async () => {
    const model = await runtime.model('tiny-shapes');
    const busy = model.generate(prompt, { seed: 1, count: 2 });
    const onWorker = model.generate(prompt, { seed: 2, count: 2 });
    const failed = expect(onWorker).rejects.toThrow('a model lane stopped: the model runtime closed');
    const busyDone = busy.catch(() => undefined);
    await expect.poll(async () => (await runtime.describe()).lanes[1]?.state).toBe('ready');
    await runtime.refresh();
    await failed;
    await busyDone;
    expect((await runtime.describe()).lanes).toHaveLength(1);
    const fresh = await runtime.model('tiny-shapes');
    const alone = hex(await fresh.generate(prompt, { seed: 5 }));
    const [, again] = await Promise.all([fresh.generate(prompt, { seed: 6, count: 2 }), fresh.generate(prompt, { seed: 5 })]);
    expect(hex(again)).toEqual(alone);
    expect(await workerCalls(runtime)).toBe(1);
  });

  it('a model that breaks (a TypeError) breaks the same on a worker lane: the engine reports a crash, not a refusal', async () => {
    const model = await runtime.model('tiny-shapes');
    const broken = () => model.caption(undefined as never).then(() => new Error('no error'), (err: Error) => err);
    const alone = await broken();
    expect(alone).toBeInstanceOf(TypeError);
    const before = await workerCalls(runtime);
    const [, onWorker] = await Promise.all([model.generate(prompt, { seed: 1, count: 2 }), broken()]);
    expect(await workerCalls(runtime)).toBe(before + 1);
    expect(onWorker).toBeInstanceOf(TypeError);
    expect(onWorker.message).toBe(alone.message);
  });
});

it('a second close waits for the worker lanes the first is ending: a host that exits after it cannot abort a lane inside session.run', async () => {
  const runtime = new ModelRuntime({ device: 'cpu', lanes: 2 });
  const model = await runtime.model('tiny-shapes');
  const busy = model.generate(prompt, { seed: 1 });
  const working = new Promise<void>((resolve) => void model.generate(prompt, { seed: 2, count: 8 }, { onProgress: () => resolve() }).catch(() => undefined));
  await Promise.all([busy, working]);
  let firstDone = false;
  const first = runtime.close().then(() => (firstDone = true));
  await runtime.close();
  // the first close is done once the lane's thread has ended
  await new Promise((resolve) => setImmediate(resolve));
  expect(firstDone).toBe(true);
  await first;
});

it('a call cancelled already starts no lane and leaves the process free to exit', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'picflow-lanes-'));
  const script = join(dir, 'cancelled.mts');
  await writeFile(
    script,
    `import { ModelRuntime } from ${JSON.stringify(new URL('../engine/runtime/index.ts', import.meta.url).href)};
const runtime = new ModelRuntime({ device: 'cpu', lanes: 2 });
const model = await runtime.model('tiny-shapes');
const busy = model.generate(${JSON.stringify(prompt)}, { seed: 1 });
const cancelled = await model.generate(${JSON.stringify(prompt)}, { seed: 2 }, { signal: AbortSignal.abort(new Error('run failed')) }).catch((err) => err.message);
await busy;
console.log(cancelled, (await runtime.describe()).lanes.map((lane) => lane.thread).join(' '));
`,
  );
  // a process held open by the idle lane never exits: the timeout kills it and the call rejects
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { timeout: 30_000 });
  expect(stdout.trim()).toBe('run failed main');
});

it('a model gets a copy per lane only while twice its folder per lane fits the memory budget', async () => {
  const { folderBytes } = await import('../engine/runtime/runtime');
  const threads = async (budgetFolders: number) => {
    const runtime = new ModelRuntime({ device: 'cpu', lanes: 2, memoryBudgetBytes: Math.floor(folderBytes(bundleDir) * budgetFolders) });
    try {
      const model = await runtime.model('tiny-shapes');
      await Promise.all([1, 2, 3].map((seed) => model.generate(prompt, { seed })));
      return (await runtime.describe()).lanes.map((lane) => lane.thread);
    } finally {
      await runtime.close();
    }
  };
  expect(await threads(3.5)).toEqual(['main']);
  expect(await threads(4.5)).toEqual(['main', 'worker']);
});

it('PICFLOW_LANES sets the lanes and is checked', () => {
  expect(runtimeOptionsFromEnv({ PICFLOW_LANES: '3' }).lanes).toBe(3);
  expect(() => runtimeOptionsFromEnv({ PICFLOW_LANES: '0' })).toThrow("PICFLOW_LANES must be an integer from 1 to 64 (1: model calls on the main thread only), not '0'");
  expect(() => runtimeOptionsFromEnv({ PICFLOW_LANES: 'two' })).toThrow('PICFLOW_LANES');
  expect(new ModelRuntime({ device: 'cpu', lanes: 1 }).maxLanes).toBe(1);
});

it('the compiled CLI with two lanes runs parallel model nodes (the second on its compiled worker lane), exits, and writes the bytes of one lane', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'picflow-lanes-'));
  const workflow = {
    version: 1,
    nodes: {
      p: { type: 'prompt', params: { text: prompt } },
      q: { type: 'prompt', params: { text: 'a small green square at the top on a black background' } },
      a: { type: 'generate', params: { seed: 8 }, inputs: { prompt: ['p', 'text'] } },
      b: { type: 'generate', params: { seed: 9 }, inputs: { prompt: ['q', 'text'] } },
      first: { type: 'save-image', params: { name: 'first' }, inputs: { image: ['a', 'image'] } },
      second: { type: 'save-image', params: { name: 'second' }, inputs: { image: ['b', 'image'] } },
    },
  };
  await writeFile(join(dir, 'two.json'), JSON.stringify(workflow));
  const images = async (lanes: string) => {
    const out = join(dir, `lanes-${lanes}`);
    await promisify(execFile)(process.execPath, ['bin/picflow.js', 'run', join(dir, 'two.json'), '--out', out], {
      env: { ...process.env, PICFLOW_LANES: lanes, PICFLOW_DEVICE: 'cpu' },
    });
    return Promise.all(['first-0.png', 'second-0.png'].map((file) => readFile(join(out, file))));
  };
  const [one, two] = [await images('1'), await images('2')];
  expect(two.map((png) => png.toString('hex'))).toEqual(one.map((png) => png.toString('hex')));
  expect(one[0].equals(one[1])).toBe(false);
});
