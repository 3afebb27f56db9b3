import { describe, expect, it } from 'vitest';
import { Engine } from '../engine';
import { OutputCache } from '../engine/cache';
import { makeCatalog } from '../engine/node';
import { countingCatalog, planKeys, scribbleNode, services } from './fixtures';

const engine = () => new Engine({ catalog: countingCatalog().catalog, services });

function chain(length: number, prefix = 'n') {
  const nodes: Record<string, unknown> = { [`${prefix}0`]: { type: 'add', params: { value: 1 } } };
  for (let i = 1; i < length; i++) nodes[`${prefix}${i}`] = { type: 'add', inputs: { a: [`${prefix}${i - 1}`, 'sum'] } };
  nodes.out = { type: 'output', inputs: { value: [`${prefix}${length - 1}`, 'sum'] } };
  return { version: 1, nodes };
}

const keysOf = (workflow: unknown, cache: OutputCache) => planKeys(engine().prepare(workflow), cache);

describe('plan cache keys', () => {
  it('gives each node of a long chain its own key, of bounded length, whatever the ids', async () => {
    const cache = new OutputCache();
    const keys = await keysOf(chain(400), cache);
    expect(new Set(keys.values()).size).toBe(401);
    expect(Math.max(...[...keys.values()].map((key) => key.length))).toBeLessThanOrEqual(256);
    const renamed = await keysOf(chain(400, 'other'), cache);
    expect(renamed.get('other399')).toBe(keys.get('n399'));
    expect(renamed.get('out')).toBe(keys.get('out'));
  });

  it('keeps params that look like key text apart from the structure they imitate', async () => {
    const source = { type: 'prompt', params: { text: 'x' } };
    // Without an input, a separator that spells out the text of one; with the input, the plain separator.
    const cache = new OutputCache();
    const imitated = await keysOf({
      version: 1,
      nodes: { s: source, t: { type: 'text', params: { separator: '"}\u0000a=' } }, o: { type: 'output', inputs: { value: ['t', 'text'] } } },
    }, cache);
    const real = await keysOf({
      version: 1,
      nodes: { s: source, t: { type: 'text', params: { separator: '' }, inputs: { a: ['s', 'text'] } }, o: { type: 'output', inputs: { value: ['t', 'text'] } } },
    }, cache);
    expect(imitated.get('t')).not.toBe(real.get('t'));
    expect(imitated.get('o')).not.toBe(real.get('o'));
  });

  it('reuses a long chain from the cache on a re-run and recomputes from a change on', async () => {
    const { catalog, calls } = countingCatalog();
    const cached = new Engine({ catalog, services });
    const workflow = chain(300);
    await cached.run(workflow);
    expect(calls.n299).toBe(1);
    const changed = structuredClone(workflow) as { nodes: Record<string, { params?: Record<string, number> }> };
    changed.nodes.n250.params = { value: 5 };
    const result = await cached.run(changed);
    expect(result.outputs.out.value).toBe(6);
    expect([calls.n0, calls.n249, calls.n250, calls.n299]).toEqual([1, 1, 2, 2]);
  });

  it('keys params by what they are when planned, even after a node changed its params object', async () => {
    const calls: number[] = [];
    const scribble = scribbleNode(calls);
    const shared = new Engine({ catalog: makeCatalog([...countingCatalog().catalog.values(), scribble]), services });
    const workflow = (value: number) => ({ version: 1, nodes: { s: { type: 'scribble', params: { value } }, o: { type: 'output', inputs: { value: ['s', 'n'] } } } });
    expect((await shared.run(workflow(1))).outputs.o.value).toBe(1);
    expect((await shared.run(workflow(2))).outputs.o.value).toBe(2);
    expect((await shared.run(workflow(1))).outputs.o.value).toBe(1);
    expect(calls).toEqual([1, 2]);
  });
});
