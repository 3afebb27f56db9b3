import { z } from 'zod';
import type { OutputCache } from '../engine/cache';
import type { Graph } from '../engine/graph';
import { defineNode, makeCatalog, type AnyNodeDefinition } from '../engine/node';
import { planRun } from '../engine/plan';
import { nodeDefinitions } from '../nodes';

/**
 * Test-only node types: they count their run() calls so tests can see what ran, and can be made slow
 * or failing. They join the shipped utility nodes in a catalog of the tests' own.
 */
export function countingCatalog() {
  const calls: Record<string, number> = {};
  const count = (id: string) => (calls[id] = (calls[id] ?? 0) + 1);

  const add = defineNode({
    type: 'add',
    category: 'test',
    description: 'a + b (b optional), counting calls',
    inputs: { a: { type: 'number', optional: true }, b: { type: 'number', optional: true } },
    outputs: { sum: { type: 'number' } },
    params: z.object({ value: z.number().default(0), min: z.number().min(0).default(0) }),
    run: (inputs, params, ctx) => {
      count(ctx.nodeId);
      return { sum: ((inputs.a as number) ?? 0) + ((inputs.b as number) ?? 0) + params.value };
    },
  });
  const range = defineNode({
    type: 'range',
    category: 'test',
    description: 'a list 0..n-1',
    inputs: {},
    outputs: { items: { type: 'number[]' } },
    params: z.object({ n: z.int().min(0).default(3) }),
    run: (_inputs, params, ctx) => {
      count(ctx.nodeId);
      return { items: Array.from({ length: params.n }, (_, i) => i) };
    },
  });
  const slow = defineNode({
    type: 'slow',
    category: 'test',
    description: 'waits `steps` × 20 ms, reporting progress and honouring cancellation',
    inputs: { a: { type: 'number', optional: true } },
    outputs: { sum: { type: 'number' } },
    params: z.object({ steps: z.int().min(1).default(5) }),
    run: async (inputs, params, ctx) => {
      count(ctx.nodeId);
      for (let step = 1; step <= params.steps; step++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        ctx.signal.throwIfAborted();
        ctx.progress(step, params.steps);
      }
      return { sum: (inputs.a as number) ?? 0 };
    },
  });
  const fail = defineNode({
    type: 'fail',
    category: 'test',
    description: 'throws',
    inputs: { a: { type: 'number', optional: true } },
    outputs: { sum: { type: 'number' } },
    params: z.object({ message: z.string().default('boom') }),
    run: async (_inputs, params, ctx) => {
      count(ctx.nodeId);
      await new Promise((resolve) => setTimeout(resolve, 30));
      throw new Error(params.message);
    },
  });
  const catalog = makeCatalog([...nodeDefinitions, add, range, slow, fail] as AnyNodeDefinition[]);
  return { catalog, calls };
}

export const services = { allowFilePaths: true };

/** A graph's cache keys by node id; graphs whose keys are compared are planned against one cache, whose keys they are. */
export async function planKeys(graph: Graph, cache: OutputCache): Promise<Map<string, string>> {
  const plan = await planRun(graph, services, cache);
  return new Map(plan.nodes.map((node) => [node.id, plan.entries[node.index]!.key]));
}

/** An output node reporting `from`'s `output`, under `name` when given (else its id). */
export const outputNode = (from: string, output: string, name?: string) => ({ type: 'output', ...(name && { params: { name } }), inputs: { value: [from, output] } });

/**
 * A misbehaving node that writes to its params while running: it returns its value plus the number of its tags,
 * then sets its value to -1 and adds a tag. `seen` gets the value each run found.
 */
export function scribbleNode(seen: number[] = []) {
  return defineNode({
    type: 'scribble',
    category: 'test',
    description: 'returns its value, then changes its params',
    inputs: {},
    outputs: { n: { type: 'number' } },
    params: z.object({ value: z.number().default(0), tags: z.array(z.string()).default([]) }),
    run: (_inputs, params) => {
      seen.push(params.value);
      const n = params.value + params.tags.length;
      params.value = -1;
      params.tags.push('written');
      return { n };
    },
  });
}
