import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode, Engine, makeCatalog, type AnyNodeDefinition, type OverdueRun, type RunEvent } from '../engine';
import { nodeDefinitions } from '../nodes';
import { BUILT_IN_NAMES, endsWithin, manyParams, nested, pngHeaderClaiming } from './hostile-inputs';
import { outputNode } from './fixtures';

/** Nodes that misbehave in the ways a node can: ignore cancellation, answer lazy() badly, return nothing. */
const released: (() => void)[] = [];
const stubborn = defineNode({
  type: 'stubborn',
  category: 'test',
  description: 'ignores its abort signal; returns only when the test releases it',
  inputs: {},
  outputs: { value: { type: 'number' } },
  params: z.object({}),
  run: () => new Promise((resolve) => released.push(() => resolve({ value: 1 }))),
});
const badLazy = defineNode({
  type: 'bad-lazy',
  category: 'test',
  description: 'a lazy node whose lazy() throws',
  inputs: { a: { type: 'number', lazy: true, optional: true } },
  outputs: { value: { type: 'number' } },
  params: z.object({}),
  lazy: () => {
    throw new Error('lazy exploded');
  },
  run: () => ({ value: 1 }),
});
const nothing = defineNode({
  type: 'nothing',
  category: 'test',
  description: 'returns undefined instead of outputs',
  inputs: {},
  outputs: { value: { type: 'number' } },
  params: z.object({}),
  run: () => undefined as never,
});
const catalog = makeCatalog([...nodeDefinitions, stubborn, badLazy, nothing] as AnyNodeDefinition[]);
const engine = (options: Partial<ConstructorParameters<typeof Engine>[0]> = {}) =>
  new Engine({ catalog, services: { allowFilePaths: true }, ...options });

const ends = <T>(promise: Promise<T>, ms = 15_000) => endsWithin(promise, ms, 'the run');

describe('built-in member names are ordinary names (issue 12, defect 1)', () => {
  it.each(BUILT_IN_NAMES)('a link to a missing node %s is a validation error naming it', (name) => {
    const result = engine().validate({ version: 1, nodes: { o: outputNode(name, 'value') } });
    expect(result.ok).toBe(false);
    expect(result.errors).toContainEqual(expect.objectContaining({ node: 'o', field: 'inputs.value', message: expect.stringContaining(`'${name}'`) }));
  });

  it.each(BUILT_IN_NAMES.filter((n) => n !== '__proto__'))('an output or input named %s is an unknown port, not a TypeError', (name) => {
    const e = engine();
    const output = e.validate({ version: 1, nodes: { n: { type: 'number' }, o: outputNode('n', name) } });
    expect(output.errors).toEqual([{ node: 'o', field: 'inputs.value', message: expect.stringContaining(`has no output '${name}'`) }]);
    const input = e.validate({ version: 1, nodes: { n: { type: 'number' }, o: { type: 'output', inputs: { value: ['n', 'number'], [name]: ['n', 'number'] } } } });
    expect(input.errors).toEqual([{ node: 'o', field: `inputs.${name}`, message: expect.stringContaining('unknown input') }]);
  });

  it('run-input keys naming built-in members are issues naming the key', () => {
    const workflow = { version: 1, nodes: { n: { type: 'number' }, o: outputNode('n', 'number') } };
    const e = engine();
    for (const key of ['constructor.x', 'toString', '__proto__.value', 'n.constructor', 'n.__proto__']) {
      const result = e.validate(workflow, { [key]: 1 });
      expect(result.ok, key).toBe(false);
      expect(result.errors[0].message, key).toMatch(/run input|cannot be used/);
    }
  });

  it('a template variable {toString} needs a run input and then gets exactly its value', async () => {
    const workflow = { version: 1, nodes: { p: { type: 'prompt', params: { text: 'a {toString} and a {constructor}' } }, o: outputNode('p', 'text', 'said') } };
    const e = engine();
    expect(e.validate(workflow).errors.map((i) => i.message)).toEqual([
      expect.stringContaining('{toString} has no value'),
      expect.stringContaining('{constructor} has no value'),
    ]);
    const result = await e.run(workflow, { inputs: { toString: 'cat', constructor: 'dog' } });
    expect(result.outputs.said.value).toBe('a cat and a dog');
  });

  it('a prompt named constructor is set by its run input', async () => {
    const workflow = { version: 1, nodes: { p: { type: 'prompt', params: { name: 'constructor', text: 'x' } }, o: outputNode('p', 'text') } };
    expect((await engine().run(workflow, { inputs: { constructor: 'set' } })).outputs.o.value).toBe('set');
  });

  it('a node id __proto__ is refused by name; outputs named __proto__ and constructor are reported under those names', async () => {
    const refused = engine().validate({ version: 1, nodes: { __proto__: { type: 'number' }, o: outputNode('__proto__', 'number') } } as unknown as object);
    // JSON.parse makes `__proto__` an own key, as a request body would.
    const parsed = engine().validate(JSON.parse('{"version":1,"nodes":{"__proto__":{"type":"number"},"o":{"type":"output","inputs":{"value":["__proto__","number"]}}}}'));
    expect(parsed.errors).toContainEqual(expect.objectContaining({ node: null, field: 'nodes.__proto__', message: expect.stringContaining("'__proto__' cannot be used") }));
    expect(refused.ok).toBe(false);

    const result = await engine().run({
      version: 1,
      nodes: { n: { type: 'number', params: { value: 7 } }, a: outputNode('n', 'number', '__proto__'), b: outputNode('n', 'number', 'constructor') },
    });
    expect(Object.hasOwn(result.outputs, '__proto__')).toBe(true);
    expect(result.outputs.constructor).toMatchObject({ node: 'b', value: 7 });
    expect(Object.getOwnPropertyDescriptor(result.outputs, '__proto__')?.value).toMatchObject({ node: 'a', value: 7 });
  });
});

describe('a run always ends (issue 12, defect 2)', () => {
  it('an output node linking to a missing node named constructor does not validate', () => {
    const result = engine().validate({ version: 1, nodes: { o: outputNode('constructor', 'x') } });
    expect(result.errors).toEqual([{ node: 'o', field: 'inputs.value', message: "links to missing node 'constructor'" }]);
  });

  it('a graph whose output node lost its link (what validation once let through) fails naming the node instead of hanging', async () => {
    const e = engine();
    const graph = e.prepare({ version: 1, nodes: { n: { type: 'number' }, o: outputNode('n', 'number') } });
    delete graph.nodes.get('o')!.links.value;
    const result = await ends(e.runGraph(graph));
    expect(result).toMatchObject({ status: 'failed', error: { node: 'o', message: expect.stringContaining("node 'o'") } });
  });

  it('a link to a node the graph does not have fails the run naming that node', async () => {
    const e = engine();
    // The link's index past the graph's nodes, or at a node other than the one it names.
    for (const source of [2, 0]) {
      const graph = e.prepare({ version: 1, nodes: { n: { type: 'number' }, o: outputNode('n', 'number') } });
      graph.nodes.get('o')!.links.value = { from: 'constructor', output: 'x', source };
      const result = await ends(e.runGraph(graph));
      expect(result).toMatchObject({ status: 'failed', error: { node: 'constructor', message: expect.stringContaining("no node 'constructor'") } });
    }
  });

  it('cancel ends a run whose node ignores cancellation, after the stop grace', async () => {
    const e = engine({ stopGraceMs: 50 });
    const controller = new AbortController();
    const events: RunEvent[] = [];
    let started!: () => void;
    const nodeStarted = new Promise<void>((resolve) => (started = resolve));
    const run = e.run(
      { version: 1, nodes: { s: { type: 'stubborn' }, o: outputNode('s', 'value') } },
      {
        signal: controller.signal,
        onEvent: (event) => {
          events.push(event);
          if (event.type === 'node:started') started();
        },
      },
    );
    await ends(nodeStarted);
    controller.abort();
    const result = await ends(run);
    expect(result.status).toBe('cancelled');
    expect(result.nodes.s).toMatchObject({ status: 'cancelled', error: expect.stringContaining('did not stop') });
    // The node's late answer changes nothing.
    released.splice(0).forEach((release) => release());
    await new Promise((resolve) => setImmediate(resolve));
    expect(result.nodes.s.status).toBe('cancelled');
    expect(events.filter((event) => event.type === 'run:finished')).toHaveLength(1);
  });

  it('a lazy() that throws fails the run naming its node', async () => {
    const result = await ends(engine().run({ version: 1, nodes: { n: { type: 'number' }, l: { type: 'bad-lazy', inputs: { a: ['n', 'number'] } }, o: outputNode('l', 'value') } }));
    expect(result).toMatchObject({ status: 'failed', error: { node: 'l', message: expect.stringContaining('lazy exploded') } });
  });

  it('a run() that returns no outputs fails the run naming its node', async () => {
    const result = await ends(engine().run({ version: 1, nodes: { x: { type: 'nothing' }, o: outputNode('x', 'value') } }));
    expect(result).toMatchObject({ status: 'failed', error: { node: 'x', message: expect.stringContaining('not an object of outputs') } });
  });

  it('an event listener that throws does not keep the run from ending', async () => {
    const result = await ends(
      engine().run({ version: 1, nodes: { n: { type: 'number', params: { value: 2 } }, o: outputNode('n', 'number') } }, {
        onEvent: () => {
          throw new Error('listener exploded');
        },
      }),
    );
    expect(result).toMatchObject({ status: 'succeeded', outputs: { o: { value: 2 } } });
  });
});

describe('limits (issue 12, defect 3)', () => {
  it('one node with 150,000 params is an issue naming the node and the limit, not a stack overflow', () => {
    const result = engine().validate({ version: 1, nodes: { n: { type: 'number', params: manyParams(150_000) }, o: outputNode('n', 'number') } });
    expect(result.errors).toEqual([{ node: 'n', field: 'params', message: '150000 params; the limit is 256 per node' }]);
  });

  it('nodes per workflow, nesting, string size and name length each have a limit that names the place', () => {
    const e = engine({ limits: { maxNodes: 50, maxStringLength: 1000, maxNameLength: 40 } });
    const nodes: Record<string, unknown> = { o: outputNode('n0', 'number') };
    for (let i = 0; i < 50; i++) nodes[`n${i}`] = { type: 'number' };
    expect(e.validate({ version: 1, nodes }).errors).toEqual([{ node: null, field: 'nodes', message: '51 nodes; the limit is 50 nodes per workflow' }]);

    const deep = e.validate({ version: 1, nodes: { n: { type: 'number', params: { value: nested(100_000) } }, o: outputNode('n', 'number') } });
    expect(deep.errors).toEqual([{ node: 'n', field: expect.stringMatching(/^params\.value\.0\.0/), message: 'nested deeper than the limit of 32 levels' }]);

    const long = e.validate({ version: 1, nodes: { p: { type: 'prompt', params: { text: 'x'.repeat(1001) } }, o: outputNode('p', 'text') } });
    expect(long.errors).toEqual([{ node: 'p', field: 'params.text', message: 'a string of 1001 characters; the limit is 1000' }]);

    const named = e.validate({ version: 1, nodes: { ['n'.repeat(41)]: { type: 'number' }, o: outputNode('n'.repeat(41), 'number') } });
    expect(named.errors[0]).toMatchObject({ node: null, message: 'node id of 41 characters; the limit is 40' });

    const inputs = e.validate({ version: 1, nodes: { n: { type: 'number' }, o: outputNode('n', 'number') } }, { 'n.value': nested(100) });
    expect(inputs.errors[0]).toMatchObject({ node: null, field: expect.stringMatching(/^inputs\.n\.value/), message: expect.stringContaining('nested deeper') });
  });
});

describe('image budgets (issue 12, defect 8)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'picflow-hostile-'));
    await writeFile(join(dir, 'small.png'), await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer());
    await writeFile(join(dir, 'huge.png'), pngHeaderClaiming(30_000, 30_000));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const resizes = (count: number, width: number, height: number) => {
    const nodes: Record<string, unknown> = { load: { type: 'load-image', params: { path: join(dir, 'small.png') } } };
    for (let i = 0; i < count; i++) {
      nodes[`r${i}`] = { type: 'resize', params: { width, height }, inputs: { image: ['load', 'image'] } };
      nodes[`o${i}`] = { type: 'preview', inputs: { image: [`r${i}`, 'image'] } };
    }
    return { version: 1, nodes };
  };

  it('16 resizes to 4096×4095 stop at the default run budget, naming the resize that did not fit', async () => {
    const result = await ends(engine().run(resizes(16, 4096, 4095)), 60_000);
    expect(result.status).toBe('failed');
    expect(result.error!.node).toMatch(/^r\d+$/);
    expect(result.error!.message).toMatch(/^node 'r\d+' \(resize\) failed: .* over its budget of 67108864 pixels$/);
    expect(Object.values(result.nodes).filter((n) => n.status === 'succeeded' && n !== result.nodes.load).length).toBeLessThanOrEqual(4);
  }, 90_000);

  it('the per-image maximum and the run budget are engine options', async () => {
    const e = engine({ pixels: { maxImagePixels: 100 * 100, runPixelBudget: 3 * 50 * 50 } });
    const big = await ends(e.run(resizes(1, 101, 100)));
    expect(big.error).toEqual({ node: 'r0', message: "node 'r0' (resize) failed: a 101×100 image (10100 pixels) is over the limit of 10000 pixels per image" });
    const many = await ends(e.run(resizes(4, 50, 50)));
    expect(many).toMatchObject({ status: 'failed', error: { node: expect.stringMatching(/^r\d$/), message: expect.stringContaining('over its budget of 7500 pixels') } });
    const fits = await ends(e.run(resizes(2, 50, 50)));
    expect(fits.status).toBe('succeeded');
  });

  it('load-image refuses an image whose header is over the per-image maximum before decoding it', async () => {
    const result = await ends(engine().run({ version: 1, nodes: { load: { type: 'load-image', params: { path: join(dir, 'huge.png') } }, o: { type: 'preview', inputs: { image: ['load', 'image'] } } } }));
    expect(result.error).toMatchObject({ node: 'load', message: expect.stringContaining('a 30000×30000 image (900000000 pixels) is over the limit of 16777216 pixels per image') });
  });
});

describe('watchdog', () => {
  it('reports a run over its time budget with the nodes still running', async () => {
    const reports: OverdueRun[] = [];
    const e = engine({ watchdog: { runBudgetMs: 20, onOverdue: (run) => reports.push(run) } });
    const controller = new AbortController();
    const run = e.run({ version: 1, nodes: { s: { type: 'stubborn' }, o: outputNode('s', 'value') } }, { runId: 'slow-run', signal: controller.signal });
    await ends(new Promise<void>((resolve) => {
      const timer = setInterval(() => reports.length > 0 && (clearInterval(timer), resolve()), 5);
    }));
    expect(reports[0]).toMatchObject({ runId: 'slow-run', budgetMs: 20, running: ['s'] });
    released.splice(0).forEach((release) => release());
    expect((await ends(run)).status).toBe('succeeded');
    controller.abort();
  });
});
