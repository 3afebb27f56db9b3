import { execFile } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asWorkflowV1, catalogPorts, detectFormat, fromApiFormat, toApiFormat } from '../engine/api-format';
import { buildGraph } from '../engine/graph';
import type { Workflow, WorkflowNode } from '../engine/workflow';
import { catalog } from '../nodes';

const ports = catalogPorts(catalog);
/** JSON as it travels: null-prototype objects and plain ones compare alike, `-0` is 0. */
const json = (value: unknown) => JSON.parse(JSON.stringify(value));

const generateAndSave = {
  '6': { class_type: 'prompt', inputs: { text: 'a small red circle' }, _meta: { title: 'Positive' } },
  '3': { class_type: 'generate', inputs: { seed: 5, count: 2, prompt: ['6', 0] } },
  '9': { class_type: 'save-image', inputs: { name: 'out', image: ['3', 0] } },
};

describe('API format ⇄ workflow JSON v1', () => {
  it('detects the format of a parsed file', () => {
    expect(detectFormat(generateAndSave)).toBe('api');
    expect(detectFormat({ version: 1, nodes: {} })).toBe('v1');
    expect(detectFormat({ nodes: {} })).toBe('v1');
    expect(detectFormat({})).toBe('unknown');
    expect(detectFormat([])).toBe('unknown');
    expect(detectFormat({ a: { type: 'prompt' } })).toBe('unknown');
    expect(detectFormat(null)).toBe('unknown');
  });

  it('turns links into output names by catalog index and constants into params', () => {
    const { workflow, issues } = fromApiFormat(generateAndSave, ports);
    expect(issues).toEqual([]);
    expect(json(workflow)).toEqual({
      version: 1,
      nodes: {
        '6': { type: 'prompt', title: 'Positive', params: { text: 'a small red circle' } },
        '3': { type: 'generate', params: { seed: 5, count: 2 }, inputs: { prompt: ['6', 'text'] } },
        '9': { type: 'save-image', params: { name: 'out' }, inputs: { image: ['3', 'image'] } },
      },
    });
    expect(json(toApiFormat(workflow, ports).prompt)).toEqual(generateAndSave);
  });

  it('reports what only the conversion can see, each under its node and field', () => {
    const { issues } = fromApiFormat(
      {
        p: { class_type: 'prompt', inputs: { text: 'x' } },
        g: { class_type: 'generate', inputs: { prompt: ['p', 3], negative: 'not a link' } },
        bad: { inputs: {} },
        worse: 'nothing',
        odd: { class_type: 'save-image', inputs: ['g', 0] },
      },
      ports,
    );
    expect(issues).toEqual([
      { node: 'g', field: 'inputs.prompt', message: "node 'p' has no output 3 (outputs: 0: text)" },
      { node: 'g', field: 'inputs.negative', message: 'takes a link ["<node id>", <output index>], got "not a link"' },
      { node: 'bad', field: 'class_type', message: 'each node needs a class_type (a picflow node type)' },
      { node: 'worse', field: 'class_type', message: 'each node needs a class_type (a picflow node type)' },
      { node: 'odd', field: 'inputs', message: 'expected an object of input name → constant or ["<node id>", <output index>]' },
    ]);
    expect(fromApiFormat('nope', ports).issues).toEqual([{ node: null, field: 'prompt', message: 'expected an object of node id → { class_type, inputs }' }]);
  });

  it('keeps a node with malformed inputs by its type, so that a link to it is no "link to a missing node"', () => {
    const { workflow, issues, typeOnly } = fromApiFormat(
      { p: { class_type: 'prompt', inputs: null }, n: { class_type: 'number', inputs: 3 }, o: { class_type: 'output', inputs: { value: ['p', 0] } } },
      ports,
    );
    const malformed = { field: 'inputs', message: 'expected an object of input name → constant or ["<node id>", <output index>]' };
    expect(issues).toEqual([{ node: 'p', ...malformed }, { node: 'n', ...malformed }]);
    expect(typeOnly).toEqual(['p', 'n']);
    expect(json(workflow.nodes)).toEqual({ p: { type: 'prompt' }, n: { type: 'number' }, o: { type: 'output', inputs: { value: ['p', 'text'] } } });
    // Validation finds nothing about the node that links to it; what it finds about `p` and `n` repeats their issue.
    const validation = buildGraph(workflow, catalog);
    expect(validation.ok ? [] : validation.issues.filter((issue) => !typeOnly.includes(issue.node!))).toEqual([]);
  });

  it('leaves unknown types and links to missing nodes to validation, which names them', () => {
    const { workflow, issues } = fromApiFormat(
      { k: { class_type: 'KSampler', inputs: { model: ['4', 0], seed: 1 } }, s: { class_type: 'save-image', inputs: { image: ['gone', 0] } } },
      ports,
    );
    expect(issues).toEqual([]);
    expect(json(workflow.nodes)).toEqual({
      k: { type: 'KSampler', params: { seed: 1 }, inputs: { model: ['4', '0'] } },
      s: { type: 'save-image', inputs: { image: ['gone', '0'] } },
    });
  });

  it('keeps hostile ids as ids: __proto__, constructor and toString are nodes like any other', () => {
    const prompt = JSON.parse(
      '{"__proto__": {"class_type": "prompt", "inputs": {"text": "hi"}}, "constructor": {"class_type": "output", "inputs": {"value": ["__proto__", 0]}}, "toString": {"class_type": "number", "inputs": {"value": 2}}}',
    );
    expect(detectFormat(prompt)).toBe('api');
    const { workflow, issues } = fromApiFormat(prompt, ports);
    expect(issues).toEqual([]);
    expect(Object.keys(workflow.nodes)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(workflow.nodes['constructor' as string].inputs).toEqual({ value: ['__proto__', 'text'] });
    expect(JSON.stringify(toApiFormat(workflow, ports).prompt)).toBe(JSON.stringify(prompt));
  });

  it('v1 → API → v1 keeps every node, param, title and link (positions aside), for any workflow over the catalog', () => {
    const types = [...catalog.keys()];
    const id = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', 'a.b'), fc.string({ minLength: 1, maxLength: 6 }));
    const draft = fc.uniqueArray(
      fc.record({
        id,
        type: fc.constantFrom(...types),
        title: fc.option(fc.string(), { nil: undefined }),
        values: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 6 }),
        picks: fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
        x: fc.integer(),
      }),
      { minLength: 1, maxLength: 12, selector: (n) => n.id },
    );
    fc.assert(
      fc.property(draft, (drafts) => {
        const nodes: Record<string, WorkflowNode> = Object.create(null);
        drafts.forEach((d, i) => {
          const definition = catalog.get(d.type)!;
          const node: WorkflowNode = { type: d.type, ui: { x: d.x, y: 0 } };
          if (d.title !== undefined) node.title = d.title;
          // Any JSON as a param value, links (arrays included) too: a known type's ports tell the two apart.
          const params = Object.keys(definition.params.shape).slice(0, d.values.length);
          if (params.length > 0) node.params = Object.fromEntries(params.map((name, k) => [name, d.values[k]]));
          const sources = drafts.slice(0, i).filter((s) => Object.keys(catalog.get(s.type)!.outputs).length > 0);
          const links = Object.keys(definition.inputs).flatMap((input, k) => {
            if (sources.length === 0 || d.picks[k] % 3 === 0) return [];
            const source = sources[d.picks[k] % sources.length];
            const outputs = Object.keys(catalog.get(source.type)!.outputs);
            return [[input, [source.id, outputs[d.picks[k] % outputs.length]] as [string, string]] as const];
          });
          if (links.length > 0) node.inputs = Object.fromEntries(links);
          nodes[d.id] = node;
        });
        const workflow: Workflow = { version: 1, nodes };
        const api = toApiFormat(workflow, ports);
        expect(api.issues).toEqual([]);
        const back = fromApiFormat(json(api.prompt), ports);
        expect(back.issues).toEqual([]);
        const withoutUi = Object.fromEntries(Object.entries(nodes).map(([k, { ui: _ui, ...rest }]) => [k, rest]));
        expect(json(back.workflow.nodes)).toEqual(json(withoutUi));
      }),
      { numRuns: 300 },
    );
  });

  it('passes v1 through unchanged and converts the API format', () => {
    const v1 = { version: 1, nodes: {} };
    expect(asWorkflowV1(v1, ports)).toEqual({ workflow: v1, format: 'v1', issues: [] });
    expect(asWorkflowV1(generateAndSave, ports).format).toBe('api');
  });
});

describe('the CLI reads the API format', () => {
  const exec = promisify(execFile);
  const picflow = (...args: string[]) =>
    exec(process.execPath, ['bin/picflow.js', ...args]).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
    );

  it('runs a file in API format, and validate names a conversion problem by node and field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'picflow-api-format-'));
    const good = join(dir, 'api.json');
    await writeFile(
      good,
      JSON.stringify({
        n: { class_type: 'number', inputs: { value: 3 } },
        c: { class_type: 'compare', inputs: { op: '>', value: 2, a: ['n', 0] } },
        out: { class_type: 'output', inputs: { value: ['c', 0] } },
      }),
    );
    const run = await picflow('run', good, '--out', join(dir, 'out'));
    expect(run.code, run.stderr).toBe(0);
    expect(await readdir(join(dir, 'out'))).toContain('outputs.json');

    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ n: { class_type: 'number' }, out: { class_type: 'output', inputs: { value: ['n', 4] } } }));
    const validate = await picflow('validate', bad);
    expect(validate.code).toBe(1);
    expect(validate.stderr).toContain("node 'out' inputs.value: node 'n' has no output 4 (outputs: 0: number)");
  });
});
