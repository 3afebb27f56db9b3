import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, type RunResult, type WorkflowIssue } from '../engine';
import { countingCatalog } from './fixtures';
import { BUILT_IN_NAMES, endsWithin, manyParams, nested } from './hostile-inputs';
import { startTestServer, type TestServer } from './server-harness';

/**
 * Property-based fuzzing of validate → run (issue 12): generated and mutated workflows with hostile
 * names, dangling links, type mismatches, cycles and huge params, over the utility nodes (model
 * nodes appear, but with no model runtime they can only fail by name). Fixed seed; FUZZ_CASES
 * raises the count (FUZZ_SERVER_CASES the HTTP part's, FUZZ_SEED changes the seed) for a longer pass.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 12);
const CASES = Number(process.env.FUZZ_CASES ?? 2000);
const SERVER_CASES = Number(process.env.FUZZ_SERVER_CASES ?? Math.max(50, Math.round(CASES / 8)));
/** A run still going after this is a hang; utility runs take milliseconds. */
const RUN_BOUND_MS = 10_000;

const HOSTILE = [...BUILT_IN_NAMES, '', ' ', 'a.b', '{x}', 'x'.repeat(300)];
const IDS = ['a', 'b', 'c', 'd', 'o', 'p'];
const TYPES = ['number', 'add', 'range', 'fail', 'prompt', 'text', 'compare', 'switch', 'select-best', 'output', 'preview', 'save-image', 'resize', 'load-image'];
const PARAMS = ['value', 'n', 'text', 'name', 'op', 'pick', 'message', 'width', 'height', 'path', 'artifact', 'min', 'separator', 'seed'];
const INPUTS = ['a', 'b', 'value', 'image', 'condition', 'true', 'false', 'items', 'scores', 'prompt'];
const OUTPUTS = ['sum', 'number', 'text', 'items', 'result', 'value', 'image', 'best', 'score', 'index'];

const pick = (common: readonly string[], weight = 6) =>
  fc.oneof({ weight, arbitrary: fc.constantFrom(...common) }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) });

const value = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -3, max: 12 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 3, arbitrary: fc.constantFrom('>=', '<', '==', 'highest', 'lowest', 'out', 'a {toString} b', '{constructor}', '{subject}', '') },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constantFrom(null, [], {}, [1, 2], { constructor: 1 }, 'x'.repeat(20_000), nested(40)) },
);

const node = fc.record(
  {
    type: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...TYPES) }, { weight: 1, arbitrary: fc.constantFrom('generate', 'caption', 'nope', ...HOSTILE) }),
    params: fc.oneof({ weight: 30, arbitrary: fc.dictionary(pick(PARAMS), value, { maxKeys: 3 }) }, { weight: 1, arbitrary: fc.constant(manyParams(300)) }),
    inputs: fc.dictionary(pick(INPUTS), fc.tuple(pick(IDS, 10), pick(OUTPUTS)), { maxKeys: 3 }),
  },
  { requiredKeys: ['type'] },
);

/** Workflows from scratch: small id pools make links land, so cycles, mismatches and valid graphs all occur. */
const generated = fc.record({
  version: fc.oneof({ weight: 20, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constantFrom(2, '1', null) }),
  nodes: fc.dictionary(pick(IDS, 12), node, { minKeys: 1, maxKeys: 7 }),
});

/** Valid workflows to mutate: each runs as given, with its run inputs. */
const BASES: {
  nodes: Record<string, { type: string; params?: Record<string, unknown>; inputs?: Record<string, string[]> }>;
  inputs?: Record<string, unknown>;
}[] = [
  {
    nodes: {
      a: { type: 'add', params: { value: 1 } },
      b: { type: 'add', params: { value: 10 }, inputs: { a: ['a', 'sum'] } },
      c: { type: 'add', inputs: { a: ['a', 'sum'], b: ['b', 'sum'] } },
      o: { type: 'output', params: { name: 'total' }, inputs: { value: ['c', 'sum'] } },
    },
  },
  {
    nodes: {
      r: { type: 'range', params: { n: 4 } },
      a: { type: 'add', params: { value: 1 }, inputs: { a: ['r', 'items'] } },
      best: { type: 'select-best', inputs: { items: ['a', 'sum'], scores: ['a', 'sum'] } },
      o: { type: 'output', inputs: { value: ['best', 'best'] } },
    },
  },
  ...[3, 9].map((n) => ({
    nodes: {
      n: { type: 'number', params: { value: n } },
      low: { type: 'compare', params: { op: '<', value: 5 }, inputs: { a: ['n', 'number'] } },
      t: { type: 'add', params: { value: 100 } },
      f: { type: 'fail' },
      pick: { type: 'switch', inputs: { condition: ['low', 'result'], true: ['t', 'sum'], false: ['f', 'sum'] } },
      o: { type: 'output', inputs: { value: ['pick', 'value'] } },
    },
  })),
  {
    nodes: {
      p: { type: 'prompt', params: { name: 'subject', text: 'a {shape}' } },
      q: { type: 'text', inputs: { a: ['p', 'text'] } },
      o: { type: 'output', params: { name: 'said' }, inputs: { value: ['q', 'text'] } },
    },
    inputs: { shape: 'circle', subject: 'a cat' },
  },
];

type Mutation =
  | { op: 'relink'; node: string; input: string; from: string; output: string }
  | { op: 'param'; node: string; param: string; value: unknown }
  | { op: 'type'; node: string; type: string }
  | { op: 'drop'; node: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('relink' as const), node: pick(IDS), input: pick(INPUTS), from: pick(IDS), output: pick(OUTPUTS) }),
  fc.record({ op: fc.constant('param' as const), node: pick(IDS), param: pick(PARAMS), value }),
  fc.record({ op: fc.constant('type' as const), node: pick(IDS), type: pick(TYPES) }),
  fc.record({ op: fc.constant('drop' as const), node: pick(IDS) }),
);

function mutate(base: (typeof BASES)[number], mutations: Mutation[]): { workflow: unknown; inputs: Record<string, unknown> } {
  const nodes: Record<string, Record<string, unknown>> = JSON.parse(JSON.stringify(base.nodes));
  const ids = Object.keys(nodes);
  for (const m of mutations) {
    // Mutations aim at existing nodes most of the time, so that the workflow stays close to valid.
    const id = Object.hasOwn(nodes, m.node) ? m.node : ids[m.node.length % ids.length];
    const target = Object.hasOwn(nodes, id) ? nodes[id] : undefined;
    if (m.op === 'drop') delete nodes[id];
    else if (!target) continue;
    else if (m.op === 'relink') target.inputs = { ...(target.inputs as object), [m.input]: [m.from, m.output] };
    else if (m.op === 'param') target.params = { ...(target.params as object), [m.param]: m.value };
    else target.type = m.type;
  }
  return { workflow: { version: 1, nodes }, inputs: base.inputs ?? {} };
}

const runInputs = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  { weight: 2, arbitrary: fc.dictionary(fc.constantFrom('shape', 'subject', 'toString', 'constructor', 'constructor.x', 'a.value', 'o.name', 'p.text', '__proto__', 'x'), value, { maxKeys: 3 }) },
);

/** As a request body would deliver it: JSON, with `__proto__` as an own key. */
const asJson = <T>(value: T): T => JSON.parse(JSON.stringify(value));
const mutated = fc
  .tuple(fc.constantFrom(...BASES), fc.oneof(fc.constant<Mutation[]>([]), fc.array(mutation, { minLength: 1, maxLength: 2 })), fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, runInputs))
  .map(([base, mutations, extra]) => {
    const { workflow, inputs } = mutate(base, mutations);
    return { workflow, inputs: extra ?? inputs };
  });
const fuzzCase = fc
  .oneof({ weight: 2, arbitrary: fc.record({ workflow: generated, inputs: runInputs }) }, { weight: 3, arbitrary: mutated })
  .map(({ workflow, inputs }) => ({ workflow: asJson(workflow), inputs: asJson(inputs) }));

function wellFormed(issue: WorkflowIssue): boolean {
  return (issue.node === null || typeof issue.node === 'string') && typeof issue.field === 'string' && typeof issue.message === 'string' && issue.message !== '';
}

const bounded = <T>(promise: Promise<T>, what: string) => endsWithin(promise, RUN_BOUND_MS, what);

/** A run that validated ends in success or in an error that names its node. */
function endedProperly(result: RunResult): boolean {
  if (result.status === 'succeeded') return true;
  return result.status === 'failed' && typeof result.error?.node === 'string' && result.error.message.includes(`'${result.error.node}'`);
}

describe('fuzz: validate → run', () => {
  it(`${CASES} generated and mutated workflows: validation never throws, valid runs end, by success or a named node`, async () => {
    const engine = new Engine({ catalog: countingCatalog().catalog, services: { allowFilePaths: false }, stopGraceMs: 1000 });
    const tally = { cases: 0, valid: 0, succeeded: 0, failed: 0 };
    await fc.assert(
      fc.asyncProperty(fuzzCase, async ({ workflow, inputs }) => {
        tally.cases++;
        const validation = engine.validate(workflow, inputs as Record<string, unknown>);
        expect(validation.errors.every(wellFormed)).toBe(true);
        if (!validation.ok) return;
        tally.valid++;
        const result = await bounded(engine.run(workflow, { inputs: inputs as Record<string, unknown> }), 'a run');
        expect(endedProperly(result), JSON.stringify(result.error)).toBe(true);
        tally[result.status === 'succeeded' ? 'succeeded' : 'failed']++;
      }),
      { seed: SEED, numRuns: CASES, endOnFailure: true },
    );
    console.log(`fuzz (engine, seed ${SEED}): ${JSON.stringify(tally)}`);
    // The generators must reach the run, or the property says little.
    expect(tally.valid).toBeGreaterThan(CASES / 10);
  }, 600_000);

  describe('through the server', () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer({ catalog: countingCatalog().catalog, engine: { stopGraceMs: 1000 } });
    });
    afterAll(() => t.close());

    it(`${SERVER_CASES} cases over HTTP: never a 5xx, and every accepted run ends properly`, async () => {
      const tally = { cases: 0, status: {} as Record<number, number>, serverErrors: 0, hangs: 0 };
      await fc.assert(
        fc.asyncProperty(fuzzCase, async ({ workflow, inputs }) => {
          tally.cases++;
          const checked = await t.api('POST', '/api/workflows/validate', { workflow, inputs });
          expect(checked.status, JSON.stringify(checked.body)).toBe(200);
          const run = await bounded(t.api('POST', '/api/runs', { workflow, inputs, wait: true }), 'a run over HTTP').catch((err) => {
            tally.hangs++;
            throw err;
          });
          tally.status[run.status] = (tally.status[run.status] ?? 0) + 1;
          if (run.status >= 500) tally.serverErrors++;
          expect(run.status, JSON.stringify(run.body)).toBeLessThan(500);
          expect(run.status === 200).toBe(checked.body.ok);
          if (run.status === 200) expect(endedProperly(run.body), JSON.stringify(run.body.error)).toBe(true);
        }),
        { seed: SEED, numRuns: SERVER_CASES, endOnFailure: true },
      );
      console.log(`fuzz (server, seed ${SEED}): ${JSON.stringify(tally)}`);
      expect((await t.api('GET', '/api/health')).status).toBe(200);
    }, 600_000);
  });
});
