import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Engine, WorkflowError, type Graph, type ValidationResult } from '../engine';
import { defineNode, makeCatalog } from '../engine/node';
import { OutputCache } from '../engine/cache';
import { countingCatalog, outputNode, planKeys, scribbleNode, services } from './fixtures';

// A node whose output types follow a param (as generate's `count`); `scribble` writes to its params while running.
const repeat = defineNode({
  type: 'repeat',
  category: 'test',
  description: 'its text, `count` times (a list when count > 1)',
  inputs: { text: { type: 'text' } },
  outputs: { text: { type: 'text' } },
  params: z.object({ count: z.int().min(1).default(1), seed: z.int().default(0) }),
  outputTypes: (p) => (p.count > 1 ? { text: 'text[]' } : {}),
  run: (inputs, params) => ({ text: params.count > 1 ? Array(params.count).fill(inputs.text) : inputs.text }),
});
const catalog = makeCatalog([...countingCatalog().catalog.values(), repeat, scribbleNode()]);
const engine = () => new Engine({ catalog, services });

const WORKFLOWS = {
  echo: { version: 1, nodes: { p: { type: 'prompt', params: { name: 'prompt' } }, o: outputNode('p', 'text', 'text') } },
  inputs: {
    version: 1,
    nodes: {
      p: { type: 'prompt', params: { name: 'subject', text: 'a circle' } },
      t: { type: 'prompt', params: { text: 'on a {color} background' } },
      a: { type: 'add' },
      o1: outputNode('p', 'text', 'p'),
      o2: outputNode('t', 'text', 't'),
      o3: outputNode('a', 'sum'),
    },
  },
  typed: {
    version: 1,
    nodes: {
      p: { type: 'prompt', params: { name: 'prompt', text: 'x' } },
      r: { type: 'repeat', inputs: { text: ['p', 'text'] } },
      o: outputNode('r', 'text', 'result'),
    },
  },
  mapped: {
    version: 1,
    nodes: {
      r: { type: 'range' },
      a: { type: 'add', inputs: { a: ['r', 'items'] } },
      s: { type: 'select-best', inputs: { items: ['a', 'sum'], scores: ['a', 'sum'] } },
      o: outputNode('s', 'best'),
    },
  },
  chain: chain(1_000),
};

function chain(length: number) {
  const nodes: Record<string, unknown> = { n0: { type: 'add', params: { value: 1 } } };
  for (let i = 1; i < length; i++) nodes[`n${i}`] = { type: 'add', inputs: { a: [`n${i - 1}`, 'sum'] } };
  nodes.out = outputNode(`n${length - 1}`, 'sum');
  return { version: 1, nodes };
}

const HOSTILE = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'o.__proto__', '__proto__.value', 'constructor.name', 'p.constructor'];

/** Run inputs for each workflow: valid, invalid, hostile names, over the limits. */
const INPUTS: Record<string, unknown>[] = [
  {},
  { prompt: 'hello' },
  { prompt: 'hello', 'p.text': 'ignored?' },
  { subject: 'a square', color: 'red', 'a.value': 4 },
  { color: 'red' },
  { color: 'red', 'a.min': -3 },
  { color: 'red', 'a.nope': 2, subjet: 'x', 'zz.value': 1 },
  { prompt: 'hi', 'r.count': 3 },
  { prompt: 'hi', 'r.count': 1, 'r.seed': 7 },
  { prompt: 'hi', 'r.seed': 'seven' },
  { 'o.name': 'renamed', prompt: 'x' },
  { 'o1.name': 't', color: 'red' },
  { 'r.n': 5 },
  { 'n500.value': 9, 'n0.value': 2 },
  { 'n999.value': 'nine' },
  { prompt: { nested: [1, 2] } },
  ...HOSTILE.map((key) => ({ [key]: 1 })),
  JSON.parse('{"__proto__": "x", "prompt": "y"}') as Record<string, unknown>,
  Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i])),
  { ['k'.repeat(300)]: 1 },
];

/** Graphs compared are planned against one cache, whose keys the plans hold. */
const planCache = new OutputCache();

/** What execution, planning and hosts read of a graph. */
async function summary(graph: Graph) {
  const keys = await planKeys(graph, planCache);
  return {
    order: graph.order.map((node) => node.id),
    nodes: [...graph.nodes].map(([id, n]) => ({ id, same: n.id === id, type: n.definition.type, params: n.params, links: n.links, outputTypes: n.outputTypes, mapped: n.mapped })),
    keys: [...keys],
  };
}

async function comparable(result: ValidationResult) {
  return result.ok ? { graph: await summary(result.graph) } : { issues: result.issues };
}

describe('compiled workflows', () => {
  it('give the graph, plan keys and issues that prepare gives, for every workflow and run inputs', async () => {
    const e = engine();
    let checked = 0;
    for (const [name, workflow] of Object.entries(WORKFLOWS)) {
      const compiled = e.compile(workflow);
      for (const inputs of INPUTS) {
        const expected = e.validate(workflow, inputs);
        const direct: ValidationResult = expected.ok ? { ok: true, graph: e.prepare(workflow, inputs) } : { ok: false, issues: expected.errors };
        // Twice from one compiled workflow: the first graph must leave nothing behind for the second.
        for (let i = 0; i < 2; i++) {
          const viaCompiled = compiled.validate(inputs);
          expect(await comparable(viaCompiled), `${name} with ${JSON.stringify(inputs)}`).toEqual(await comparable(direct));
          if (viaCompiled.ok) expect(compiled.graph(inputs).nodes.size).toBe(viaCompiled.graph.nodes.size);
          else expect(() => compiled.graph(inputs)).toThrow(new WorkflowError(viaCompiled.issues).message);
        }
        checked++;
      }
    }
    expect(checked).toBe(Object.keys(WORKFLOWS).length * INPUTS.length);
  });

  it('apply run inputs where prepare does: the graph is valid with them and invalid without', () => {
    const compiled = engine().compile(WORKFLOWS.inputs);
    expect(() => compiled.graph()).toThrow(/template variable \{color\} has no value/);
    const graph = compiled.graph({ color: 'red', subject: 'a square' });
    expect(graph.nodes.get('t')!.params.text).toBe('on a red background');
    expect(graph.nodes.get('p')!.params.text).toBe('a square');
    const refused = compiled.validate({ color: 'red', 'a.min': -3 });
    expect(refused.ok ? [] : refused.issues).toEqual([expect.objectContaining({ node: 'a', field: 'params.min' })]);
    expect(() => compiled.graph({ color: 'red', 'a.min': -3 })).toThrow(WorkflowError);
  });

  it('refuse a workflow that is invalid as it stands, naming each problem', () => {
    const e = engine();
    const broken = { version: 1, nodes: { a: { type: 'nope' }, b: { type: 'add', params: { value: 'x' } }, o: outputNode('zz', 'sum') } };
    let error: unknown;
    try {
      e.compile(broken);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WorkflowError);
    expect((error as WorkflowError).issues).toEqual(e.validate(broken).errors);
    expect(() => e.compile({ version: 2, nodes: {} })).toThrow(WorkflowError);
    expect(() => e.compile({ version: 1, nodes: { __proto__: { type: 'add' } } })).toThrow(WorkflowError);
  });

  it('make graphs that run apart: different inputs give different outputs, and neither leaks into the other', async () => {
    const e = engine();
    const compiled = e.compile(WORKFLOWS.echo);
    const [first, second] = [compiled.graph({ prompt: 'first' }), compiled.graph({ prompt: 'second' })];
    const [a, b] = await Promise.all([e.runGraph(first), e.runGraph(second)]);
    expect(a.outputs.text.value).toBe('first');
    expect(b.outputs.text.value).toBe('second');
    expect((await e.runGraph(compiled.graph())).outputs.text.value).toBe('');
    // A graph changed by its holder changes no other.
    first.nodes.get('p')!.params.text = 'changed';
    delete first.nodes.get('o')!.links.value;
    const third = compiled.graph({ prompt: 'third' });
    expect(third.nodes.get('o')!.links.value).toEqual({ from: 'p', output: 'text', source: 0 });
    expect((await e.runGraph(third)).outputs.text.value).toBe('third');
  });

  it('keep a node that writes to its params from changing the next run of the same compiled workflow', async () => {
    const e = engine();
    const compiled = e.compile({ version: 1, nodes: { s: { type: 'scribble', params: { value: 5, tags: ['a'] } }, o: outputNode('s', 'n') } });
    const first = await e.runGraph(compiled.graph());
    e.cache.clear();
    const second = await e.runGraph(compiled.graph());
    expect([first.outputs.o.value, second.outputs.o.value]).toEqual([6, 6]);
    expect(compiled.graph().nodes.get('s')!.params).toEqual({ value: 5, tags: ['a'] });
  });
});
