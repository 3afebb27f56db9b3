import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKFLOW_LIMITS, WorkflowSchema } from '../engine';
import { parseWorkflow } from '../engine/graph';
import { BUILT_IN_NAMES } from './hostile-inputs';

/**
 * Validation skips zod for a workflow plain-workflow.ts vouches for (parseWorkflow then gives back the
 * document itself); that is sound only while it never vouches for a document the schema refuses or would
 * parse to something else. Generated documents are near misses of a workflow (wrong types, extra keys,
 * hostile names, odd prototypes, symbol keys).
 */
const vouchedFor = (document: unknown) => {
  const parsed = parseWorkflow(document, {}, DEFAULT_WORKFLOW_LIMITS);
  return parsed.ok && parsed.workflow === document;
};
const name = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('a', 'b', 'src', 'text', 'value', 'image') },
  { weight: 2, arbitrary: fc.constantFrom(...BUILT_IN_NAMES, '') },
  { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
);
const odd = fc.anything({ withNullPrototype: true, withBoxedValues: true, withMap: true, withSet: true, withSparseArray: true, withTypedArray: true, maxDepth: 2 });
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary }, { weight: 1, arbitrary: odd });
const withExtraKeys = <T extends object>(arbitrary: fc.Arbitrary<T>) =>
  fc.oneof(
    { weight: 6, arbitrary },
    { weight: 1, arbitrary: fc.tuple(arbitrary, fc.dictionary(name, odd, { maxKeys: 2 })).map(([value, extra]) => ({ ...value, ...extra })) },
    { weight: 1, arbitrary: arbitrary.map((value) => Object.assign(Object.create(null) as object, value)) },
    { weight: 1, arbitrary: arbitrary.map((value) => ({ ...value, [Symbol('s')]: 1 })) },
  );

const link = maybe(fc.oneof({ weight: 5, arbitrary: fc.tuple(name, name) }, { weight: 1, arbitrary: fc.array(name, { maxLength: 3 }) }));
const ui = maybe(withExtraKeys(fc.record({ x: fc.oneof(fc.integer(), fc.double()), y: fc.integer() }, { requiredKeys: [] })));
const node = maybe(
  withExtraKeys(
    fc.record(
      {
        type: maybe(name),
        title: maybe(fc.string({ maxLength: 3 })),
        params: maybe(withExtraKeys(fc.dictionary(name, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }))),
        inputs: maybe(withExtraKeys(fc.dictionary(name, link, { maxKeys: 3 }))),
        ui,
      },
      { requiredKeys: ['type'] },
    ),
  ),
);
const workflow = maybe(
  withExtraKeys(
    fc.record(
      {
        version: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constantFrom(2, '1', 1.5) }),
        name: maybe(fc.string({ maxLength: 3 })),
        description: maybe(fc.string({ maxLength: 3 })),
        nodes: maybe(withExtraKeys(fc.dictionary(name, node, { maxKeys: 4 }))),
      },
      { requiredKeys: ['version', 'nodes'] },
    ),
  ),
);

describe('plain workflows: the schema fast path', () => {
  it('vouches only for workflows the schema accepts unchanged (2,000 near misses)', () => {
    let vouched = 0;
    fc.assert(
      fc.property(workflow, (candidate) => {
        if (!vouchedFor(candidate)) return;
        vouched++;
        const parsed = WorkflowSchema.safeParse(candidate);
        expect(parsed.success).toBe(true);
        expect(parsed.data).toEqual(candidate);
      }),
      { numRuns: 2_000, seed: 16 },
    );
    // the generator makes plenty of valid workflows, so the property above is not vacuous
    expect(vouched).toBeGreaterThan(100);
  });

  it('takes every shipped workflow, so the usual document skips the schema', () => {
    const folder = join(import.meta.dirname, '..', 'workflows');
    const files = readdirSync(folder).filter((file) => file.endsWith('.json'));
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) expect(vouchedFor(JSON.parse(readFileSync(join(folder, file), 'utf8'))), file).toBe(true);
  });
});
