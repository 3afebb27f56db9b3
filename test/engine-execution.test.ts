import { describe, expect, it } from 'vitest';
import { Engine, OutputCache, WorkflowError, type RunEvent } from '../engine';
import { countingCatalog, services } from './fixtures';

function setup() {
  const { catalog, calls } = countingCatalog();
  return { engine: new Engine({ catalog, services }), calls };
}

const out = (from: string, output = 'sum', name?: string) => ({
  type: 'output',
  params: name ? { name } : {},
  inputs: { value: [from, output] },
});

const diamond = {
  version: 1,
  nodes: {
    a: { type: 'add', params: { value: 1 } },
    b: { type: 'add', params: { value: 10 }, inputs: { a: ['a', 'sum'] } },
    c: { type: 'add', params: { value: 100 }, inputs: { a: ['a', 'sum'] } },
    d: { type: 'add', inputs: { a: ['b', 'sum'], b: ['c', 'sum'] } },
    unused: { type: 'add' },
    o: out('d', 'sum', 'total'),
  },
};

describe('executor', () => {
  it('runs each needed node once and prunes what no output needs', async () => {
    const { engine, calls } = setup();
    const result = await engine.run(diamond);
    expect(result.status).toBe('succeeded');
    expect(result.outputs.total).toMatchObject({ node: 'o', type: 'number', value: 112 });
    expect(calls).toEqual({ a: 1, b: 1, c: 1, d: 1 });
    expect(result.nodes.unused).toBeUndefined();
  });

  it('re-runs nothing when nothing changed', async () => {
    const { engine, calls } = setup();
    await engine.run(diamond);
    const events: RunEvent[] = [];
    const again = await engine.run(diamond, { onEvent: (e) => events.push(e) });
    expect(again.outputs.total.value).toBe(112);
    expect(calls).toEqual({ a: 1, b: 1, c: 1, d: 1 });
    const cached = events.filter((e) => e.type === 'node:cached').map((e) => (e as { nodeId: string }).nodeId);
    expect(cached.sort()).toEqual(['a', 'b', 'c', 'd', 'o']);
    expect(Object.values(again.nodes).map((n) => n.status)).toEqual(Array(5).fill('cached'));
  });

  it('recomputes only the changed node and what depends on it', async () => {
    const { engine, calls } = setup();
    await engine.run(diamond);
    const changed = structuredClone(diamond);
    changed.nodes.c.params.value = 200;
    const result = await engine.run(changed);
    expect(result.outputs.total.value).toBe(212);
    expect(calls).toEqual({ a: 1, b: 1, c: 2, d: 2 });
    expect(result.nodes.b.status).toBe('cached');
    expect(result.nodes.c.status).toBe('succeeded');
  });

  it('keys the cache by content, not by node id or JSON order', async () => {
    const { engine, calls } = setup();
    await engine.run(diamond);
    const renamed = {
      version: 1,
      nodes: {
        o2: out('dd', 'sum', 'total'),
        dd: { type: 'add', inputs: { b: ['cc', 'sum'], a: ['bb', 'sum'] } },
        cc: { type: 'add', params: { value: 100 }, inputs: { a: ['aa', 'sum'] } },
        bb: { type: 'add', params: { value: 10 }, inputs: { a: ['aa', 'sum'] } },
        aa: { type: 'add', params: { value: 1 } },
      },
    };
    expect((await engine.run(renamed)).outputs.total.value).toBe(112);
    expect(calls).toEqual({ a: 1, b: 1, c: 1, d: 1 });
  });

  it('keeps the cache bounded', async () => {
    const { engine } = setup();
    const small = new Engine({ catalog: engine.catalog, services, cache: new OutputCache(3) });
    for (let i = 0; i < 10; i++) await small.run({ version: 1, nodes: { a: { type: 'add', params: { value: i } }, o: out('a') } });
    expect(small.cache.size).toBeLessThanOrEqual(3);
  });

  it('gives a key text one entry while it is remembered, and a forgotten one a new entry and key, never an old one', () => {
    const cache = new OutputCache(4);
    const first = cache.entryFor('a');
    expect(cache.entryFor('a')).toBe(first);
    first.fill({ value: 'old' });
    const keys = new Set([first.key]);
    for (let i = 0; i < 20; i++) keys.add(cache.entryFor(`t${i}`).key);
    expect(keys.size).toBe(21);
    // Twenty texts since, and room for four: 'a' was forgotten, with what was cached for it.
    const again = cache.entryFor('a');
    expect(again).not.toBe(first);
    expect(keys.has(again.key)).toBe(false);
    expect(again.outputs).toBeUndefined();
    expect(first.outputs).toBeUndefined();
    // A run still holding the forgotten entry caches nothing in it.
    first.fill({ value: 'late' });
    expect(first.outputs).toBeUndefined();
    expect(cache.size).toBeLessThanOrEqual(4);
  });

  it('holds a whole workflow of more than 5,000 nodes in the default cache, so its re-run runs nothing', async () => {
    const { engine, calls } = setup();
    const nodes: Record<string, unknown> = { n0: { type: 'add', params: { value: 1 } } };
    for (let i = 1; i < 6_000; i++) nodes[`n${i}`] = { type: 'add', inputs: { a: [`n${i - 1}`, 'sum'] } };
    nodes.o = out('n5999');
    await engine.run({ version: 1, nodes });
    const again = await engine.run({ version: 1, nodes });
    expect(Object.values(calls).every((n) => n === 1)).toBe(true);
    expect(Object.values(again.nodes).filter((n) => n.status === 'cached')).toHaveLength(6_001);
  });

  it('holds two of the largest workflows its limits allow in the default cache, each node with params of its own', async () => {
    const { catalog, calls } = countingCatalog();
    const engine = new Engine({ catalog, services, limits: { maxNodes: 100 } });
    const chain = (offset: number) => {
      const nodes: Record<string, unknown> = { n0: { type: 'add', params: { value: offset } } };
      for (let i = 1; i < 99; i++) nodes[`n${i}`] = { type: 'add', params: { value: offset + i }, inputs: { a: [`n${i - 1}`, 'sum'] } };
      nodes.o = out('n98');
      return { version: 1, nodes };
    };
    await engine.run(chain(0));
    await engine.run(chain(1_000));
    const again = await engine.run(chain(0));
    expect(Object.values(again.nodes).filter((n) => n.status === 'cached')).toHaveLength(100);
    expect(calls.n0).toBe(2); // once for each workflow, none for the re-run
  });

  it('maps a node over a list fed to a scalar input', async () => {
    const { engine, calls } = setup();
    const result = await engine.run({
      version: 1,
      nodes: {
        r: { type: 'range', params: { n: 4 } },
        a: { type: 'add', params: { value: 10 }, inputs: { a: ['r', 'items'] } },
        best: { type: 'select-best', inputs: { items: ['a', 'sum'], scores: ['a', 'sum'] } },
        all: out('a', 'sum', 'all'),
        top: out('best', 'best', 'top'),
      },
    });
    expect(result.outputs.all).toMatchObject({ type: 'number[]', value: [10, 11, 12, 13] });
    expect(result.outputs.top.value).toBe(13);
    expect(calls.a).toBe(4);
  });

  it('fails a mapped node whose lists differ in length', async () => {
    const { engine } = setup();
    const result = await engine.run({
      version: 1,
      nodes: {
        r: { type: 'range', params: { n: 2 } },
        s: { type: 'range', params: { n: 3 } },
        a: { type: 'add', inputs: { a: ['r', 'items'], b: ['s', 'items'] } },
        o: out('a'),
      },
    });
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ node: 'a', message: expect.stringContaining('differ in length') });
  });

  it('switch runs only the chosen branch', async () => {
    const { engine, calls } = setup();
    const workflow = (threshold: number) => ({
      version: 1,
      nodes: {
        score: { type: 'number', params: { value: 0.4 } },
        low: { type: 'compare', params: { op: '<', value: threshold }, inputs: { a: ['score', 'number'] } },
        fix: { type: 'add', params: { value: 1 } },
        keep: { type: 'add', params: { value: 2 } },
        pick: { type: 'switch', inputs: { condition: ['low', 'result'], true: ['fix', 'sum'], false: ['keep', 'sum'] } },
        o: out('pick', 'value', 'picked'),
      },
    });
    const first = await engine.run(workflow(0.5));
    expect(first.outputs.picked).toMatchObject({ type: 'number', value: 1 });
    expect(calls).toEqual({ fix: 1 });
    expect(first.nodes.keep.status).toBe('skipped');
    const second = await engine.run(workflow(0.3));
    expect(second.outputs.picked.value).toBe(2);
    expect(calls).toEqual({ fix: 1, keep: 1 });
  });

  it('cancels mid-run at the next step', async () => {
    const { engine, calls } = setup();
    const controller = new AbortController();
    const events: RunEvent[] = [];
    const run = engine.run(
      {
        version: 1,
        nodes: { s: { type: 'slow', params: { steps: 50 } }, after: { type: 'add', inputs: { a: ['s', 'sum'] } }, o: out('after') },
      },
      {
        signal: controller.signal,
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'node:progress' && e.step === 2) controller.abort();
        },
      },
    );
    const result = await run;
    expect(result.status).toBe('cancelled');
    expect(result.nodes.s.status).toBe('cancelled');
    expect(calls.after).toBeUndefined();
    const steps = events.filter((e) => e.type === 'node:progress').length;
    expect(steps).toBeLessThan(5);
    expect(events.at(-1)).toMatchObject({ type: 'run:finished', status: 'cancelled' });
  });

  it('a failing node fails the run, names the node, runs nothing downstream and cancels running siblings', async () => {
    const { engine, calls } = setup();
    const events: RunEvent[] = [];
    const result = await engine.run(
      {
        version: 1,
        nodes: {
          bad: { type: 'fail', params: { message: 'model exploded' } },
          down: { type: 'add', inputs: { a: ['bad', 'sum'] } },
          sibling: { type: 'slow', params: { steps: 100 } },
          o1: out('down', 'sum', 'one'),
          o2: out('sibling', 'sum', 'two'),
        },
      },
      { onEvent: (e) => events.push(e) },
    );
    expect(result.status).toBe('failed');
    expect(result.error).toEqual({ node: 'bad', message: expect.stringMatching(/node 'bad' \(fail\) failed: model exploded/) });
    expect(result.nodes.bad).toMatchObject({ status: 'failed', error: 'model exploded' });
    expect(result.nodes.sibling.status).toBe('cancelled');
    expect(result.nodes.down.status).toBe('skipped');
    expect(calls.down).toBeUndefined();
    expect(events).toContainEqual(expect.objectContaining({ type: 'node:error', nodeId: 'bad', message: 'model exploded' }));
  });

  it('reports progress, then emits events in order', async () => {
    const { engine } = setup();
    const events: RunEvent[] = [];
    await engine.run({ version: 1, nodes: { s: { type: 'slow', params: { steps: 3 } }, o: out('s') } }, { onEvent: (e) => events.push(e) });
    expect(events.map((e) => e.type)).toEqual([
      'run:started',
      'node:started',
      'node:progress',
      'node:progress',
      'node:progress',
      'node:finished',
      'node:started',
      'node:finished',
      'run:finished',
    ]);
    expect(events.filter((e) => e.type === 'node:progress').map((e) => (e as { step: number }).step)).toEqual([1, 2, 3]);
  });

  it('runs independent branches concurrently', async () => {
    const { engine } = setup();
    let running = 0;
    let most = 0;
    await engine.run(
      {
        version: 1,
        nodes: { a: { type: 'slow', params: { steps: 3 } }, b: { type: 'slow', params: { steps: 3 } }, o1: out('a', 'sum', 'a'), o2: out('b', 'sum', 'b') },
      },
      {
        onEvent: (e) => {
          if (e.type === 'node:started') most = Math.max(most, ++running);
          if (e.type === 'node:finished') running--;
        },
      },
    );
    expect(most).toBe(2);
  });

  it('throws a WorkflowError listing the issues before running an invalid workflow', async () => {
    const { engine, calls } = setup();
    await expect(engine.run({ version: 1, nodes: { a: { type: 'add', params: { min: -1 } }, o: out('a') } })).rejects.toBeInstanceOf(WorkflowError);
    expect(calls).toEqual({});
  });

  it('a file path on a host that forbids paths fails the load-image node by name', async () => {
    const { catalog } = countingCatalog();
    const engine = new Engine({ catalog, services: { allowFilePaths: false } });
    const result = await engine.run({
      version: 1,
      nodes: { l: { type: 'load-image', params: { path: '/etc/passwd' } }, o: { type: 'save-image', inputs: { image: ['l', 'image'] } } },
    });
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ node: 'l', message: expect.stringContaining('file paths are not allowed') });
  });

  it('runs a chain 10,000 nodes deep', async () => {
    const { engine } = setup();
    const nodes: Record<string, unknown> = { n0: { type: 'add', params: { value: 1 } } };
    for (let i = 1; i < 10_000; i++) nodes[`n${i}`] = { type: 'add', params: { value: 1 }, inputs: { a: [`n${i - 1}`, 'sum'] } };
    nodes.o = out('n9999', 'sum', 'end');
    const result = await engine.run({ version: 1, nodes });
    expect(result.outputs.end.value).toBe(10_000);
  });
});
