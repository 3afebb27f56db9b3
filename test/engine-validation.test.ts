import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildGraph, defineNode, makeCatalog, type WorkflowIssue } from '../engine';
import { countingCatalog } from './fixtures';

const { catalog } = countingCatalog();

function issues(nodes: Record<string, unknown>, inputs: Record<string, unknown> = {}): WorkflowIssue[] {
  const result = buildGraph({ version: 1, nodes }, catalog, inputs);
  return result.ok ? [] : result.issues;
}

const out = (from: string, output = 'sum') => ({ type: 'output', inputs: { value: [from, output] } });

describe('workflow validation', () => {
  it('accepts a well-formed workflow', () => {
    expect(issues({ a: { type: 'add', params: { value: 1 } }, o: out('a') })).toEqual([]);
  });

  it('rejects a document that is not workflow JSON v1, naming the field', () => {
    const result = buildGraph({ version: 2, nodes: { a: { type: 'add', inputs: { a: 'x' } } } }, catalog);
    expect(result.ok).toBe(false);
    const found = !result.ok ? result.issues : [];
    expect(found).toContainEqual(expect.objectContaining({ node: null, field: 'version' }));
    expect(found).toContainEqual(expect.objectContaining({ node: 'a', field: 'inputs.a' }));
  });

  it('names an unknown node type', () => {
    expect(issues({ a: { type: 'blur' }, o: out('a') })).toContainEqual(
      expect.objectContaining({ node: 'a', field: 'type', message: expect.stringContaining("'blur'") }),
    );
  });

  it('names an unknown param and lists the known ones', () => {
    const [issue] = issues({ a: { type: 'add', params: { vlaue: 1 } }, o: out('a') });
    expect(issue).toMatchObject({ node: 'a', field: 'params.vlaue' });
    expect(issue.message).toContain('value');
  });

  it('names a param out of range', () => {
    expect(issues({ a: { type: 'add', params: { min: -1 } }, o: out('a') })).toEqual([
      expect.objectContaining({ node: 'a', field: 'params.min' }),
    ]);
  });

  it('names a missing required input', () => {
    expect(issues({ r: { type: 'resize' }, o: { type: 'save-image', inputs: { image: ['r', 'image'] } } })).toEqual([
      expect.objectContaining({ node: 'r', field: 'inputs.image', message: expect.stringContaining('not connected') }),
    ]);
  });

  it('names a link to a missing node and a link to a missing output', () => {
    const found = issues({
      a: { type: 'add', inputs: { a: ['ghost', 'sum'], b: ['n', 'total'] } },
      n: { type: 'number' },
      o: out('a'),
    });
    expect(found).toContainEqual(expect.objectContaining({ node: 'a', field: 'inputs.a', message: expect.stringContaining("'ghost'") }));
    expect(found).toContainEqual(expect.objectContaining({ node: 'a', field: 'inputs.b', message: expect.stringContaining("no output 'total'") }));
  });

  it('names an unknown input', () => {
    expect(issues({ n: { type: 'number' }, a: { type: 'add', inputs: { c: ['n', 'number'] } }, o: out('a') })).toEqual([
      expect.objectContaining({ node: 'a', field: 'inputs.c' }),
    ]);
  });

  it('refuses a link between incompatible socket types', () => {
    expect(issues({ p: { type: 'prompt' }, r: { type: 'resize', inputs: { image: ['p', 'text'] } }, o: { type: 'save-image', inputs: { image: ['r', 'image'] } } })).toEqual([
      expect.objectContaining({ node: 'r', field: 'inputs.image', message: expect.stringContaining('text cannot feed an input of type image') }),
    ]);
  });

  it('names every node on a cycle', () => {
    const found = issues({
      a: { type: 'add', inputs: { a: ['c', 'sum'] } },
      b: { type: 'add', inputs: { a: ['a', 'sum'] } },
      c: { type: 'add', inputs: { a: ['b', 'sum'] } },
      o: out('c'),
    });
    expect(found).toHaveLength(1);
    expect(found[0].field).toBe('inputs');
    for (const id of ['a', 'b', 'c']) expect(found[0].message).toContain(id);
    expect(found[0].message).not.toContain('o');
  });

  it('reports every problem at once', () => {
    const found = issues({
      a: { type: 'blur' },
      b: { type: 'add', params: { min: -5, x: 1 } },
      r: { type: 'resize' },
      o: out('b'),
      p: { type: 'save-image', inputs: { image: ['r', 'image'] } },
    });
    expect(found.map((i) => `${i.node}:${i.field}`).sort()).toEqual(['a:type', 'b:params.min', 'b:params.x', 'r:inputs.image']);
  });

  it('requires an output node and unique output names', () => {
    expect(issues({ a: { type: 'add' } })).toEqual([expect.objectContaining({ node: null, field: 'nodes' })]);
    expect(issues({ a: { type: 'add' }, o1: { ...out('a'), params: { name: 'x' } }, o2: { ...out('a'), params: { name: 'x' } } })).toEqual([
      expect.objectContaining({ field: 'params.name', message: expect.stringContaining("'x'") }),
    ]);
  });

  it('infers list types through mapping and generic sockets', () => {
    const result = buildGraph(
      {
        version: 1,
        nodes: {
          r: { type: 'range' },
          a: { type: 'add', inputs: { a: ['r', 'items'] } },
          s: { type: 'select-best', inputs: { items: ['a', 'sum'], scores: ['a', 'sum'] } },
          o: out('s', 'best'),
        },
      },
      catalog,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.graph.nodes.get('a')!.outputTypes.sum).toBe('number[]');
    expect(result.graph.nodes.get('a')!.mapped).toEqual(['a']);
    expect(result.graph.nodes.get('s')!.outputTypes.best).toBe('number');
  });

  it('validates a chain 10,000 nodes deep without recursion', () => {
    const nodes: Record<string, unknown> = { n0: { type: 'add', params: { value: 1 } } };
    for (let i = 1; i < 10_000; i++) nodes[`n${i}`] = { type: 'add', params: { value: 1 }, inputs: { a: [`n${i - 1}`, 'sum'] } };
    nodes.o = out('n9999');
    expect(issues(nodes)).toEqual([]);
  });
});

describe('run inputs', () => {
  const wf = {
    p: { type: 'prompt', params: { name: 'subject', text: 'a circle' } },
    t: { type: 'prompt', params: { text: 'on a {color} background' } },
    a: { type: 'add' },
    o1: { type: 'output', params: { name: 'p' }, inputs: { value: ['p', 'text'] } },
    o2: { type: 'output', params: { name: 't' }, inputs: { value: ['t', 'text'] } },
    o3: out('a'),
  };

  it('fill named prompts, template variables and node params', () => {
    const result = buildGraph({ version: 1, nodes: wf }, catalog, { subject: 'a square', color: 'red', 'a.value': 4 });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.graph.nodes.get('p')!.params.text).toBe('a square');
    expect(result.graph.nodes.get('t')!.params.text).toBe('on a red background');
    expect(result.graph.nodes.get('a')!.params.value).toBe(4);
  });

  it('are an error when they name nothing, and are validated like params', () => {
    const found = issues(wf, { color: 'red', subjet: 'x', 'zz.value': 1, 'a.nope': 2, 'a.min': -3 });
    expect(found).toContainEqual(expect.objectContaining({ node: null, field: 'inputs.subjet' }));
    expect(found).toContainEqual(expect.objectContaining({ node: null, field: 'inputs.zz.value' }));
    expect(found).toContainEqual(expect.objectContaining({ node: 'a', field: 'params.nope' }));
    expect(found).toContainEqual(expect.objectContaining({ node: 'a', field: 'params.min' }));
  });

  it('leave no template variable silently unfilled', () => {
    expect(issues(wf)).toEqual([expect.objectContaining({ node: 't', field: 'params.text', message: expect.stringContaining('{color}') })]);
  });
});

describe('params parsing', () => {
  it('gives each node its own params object, and a default made per parse stays per node', () => {
    let made = 0;
    const counter = defineNode({
      type: 'counter',
      category: 'test',
      description: 'a default made per parse',
      inputs: {},
      outputs: { n: { type: 'number' } },
      params: z.object({ id: z.number().default(() => ++made), value: z.number().default(1) }),
      run: (_inputs, params) => ({ n: params.id }),
    });
    const local = makeCatalog([...catalog.values(), counter]);
    const nodes: Record<string, unknown> = { o: out('c0', 'n') };
    for (let i = 0; i < 5; i++) nodes[`c${i}`] = { type: 'counter' };
    for (let i = 0; i < 5; i++) nodes[`a${i}`] = { type: 'add', params: { value: 2 } };
    const result = buildGraph({ version: 1, nodes }, local);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const ids = [0, 1, 2, 3, 4].map((i) => result.graph.nodes.get(`c${i}`)!.params.id);
    expect(new Set(ids).size).toBe(5);
    const adds = [0, 1, 2, 3, 4].map((i) => result.graph.nodes.get(`a${i}`)!.params);
    expect(adds.every((p) => p.value === 2 && p.min === 0)).toBe(true);
    expect(new Set(adds).size).toBe(5);
    // Params that no longer equal the last ones are parsed (and refused) again.
    expect(buildGraph({ version: 1, nodes: { ...nodes, a9: { type: 'add', params: { value: 2, min: -1 } } } }, local).ok).toBe(false);
  });
});
