// A trigger's contract: the inputs and outputs a call has, derived from its workflow and exposed
// params, as a zod schema that validates calls and becomes the OpenAPI request body.

import { z } from 'zod';
import type { Engine } from '../../engine/engine';
import { outputName } from '../../engine/graph';
import { templateVariables } from '../../engine/run-inputs';
import { baseOf, isList, type RunInputs, type SocketType, type WorkflowIssue } from '../../engine/contract';
import { WorkflowSchema } from '../../engine/workflow';
import { imageRefSchema } from '../run-document';
import type { ExposedParam } from '../store/triggers';

/** What a caller sets: a named prompt, a `{variable}` of a template, or an exposed node param. */
export type InputKind = 'prompt' | 'variable' | 'param' | 'image';

/** A node param a run input sets. */
export interface ParamTarget {
  node: string;
  param: string;
}

export interface TriggerInput {
  name: string;
  kind: InputKind;
  /** The run input it becomes: the name itself for prompts and variables, `node.param` for params. */
  runInput: string;
  /** The node params it sets (a prompt name or a variable may be in several nodes): what a node's refusal of it names. */
  targets: ParamTarget[];
  schema: z.ZodType;
}

export interface TriggerOutput {
  name: string;
  node: string;
  kind: 'save' | 'preview' | 'value';
  type: SocketType;
}

/**
 * A trigger's contract, derived from its workflow and exposed params: the request body's zod schema
 * (which validates calls and is the OpenAPI request body) and the outputs by name and type.
 */
export interface TriggerContract {
  inputs: Map<string, TriggerInput>;
  body: z.ZodObject;
  outputs: TriggerOutput[];
  /** Problems with the exposed params (unknown node or param, a name used twice). */
  issues: WorkflowIssue[];
  /** Exposed names that are no input, by name, with their problem: a workflow edit can leave a trigger's exposed param behind. */
  broken: Map<string, WorkflowIssue>;
}

/** Keys that would reach an object's prototype: never a trigger input. */
const HOSTILE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Drops a param schema's own default or optionality, to put the workflow's saved value as default. */
function unwrapDefault(schema: z.ZodType): z.ZodType {
  let inner = schema;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
  return inner;
}

function valueSchema(type: SocketType): z.ZodType {
  const base = { text: z.string(), number: z.number(), boolean: z.boolean(), image: imageRefSchema, any: z.unknown() }[baseOf(type)];
  return isList(type) ? z.array(base) : base;
}

/** The schema of an output's value, by its socket type. */
export function outputValueSchema(output: TriggerOutput): z.ZodType {
  return valueSchema(output.type);
}

export function deriveContract(engine: Engine, workflow: unknown, exposed: readonly ExposedParam[]): TriggerContract {
  const parsed = WorkflowSchema.parse(workflow);
  const inputs = new Map<string, TriggerInput>();
  const issues: WorkflowIssue[] = [];
  // A name in several places (two prompts, a prompt and a {variable}) is one input that sets them all, as run inputs do.
  const add = (input: TriggerInput) => {
    if (HOSTILE_KEYS.has(input.name)) return;
    const known = inputs.get(input.name);
    if (known) known.targets.push(...input.targets);
    else inputs.set(input.name, input);
  };

  const variables = new Map<string, ParamTarget[]>();
  for (const [id, node] of Object.entries(parsed.nodes)) {
    const named = engine.catalog.get(node.type)?.namedInput;
    if (!named) continue;
    const name = node.params?.[named.nameParam];
    const text = node.params?.[named.valueParam];
    if (typeof name === 'string' && name !== '') {
      add({
        name,
        kind: 'prompt',
        runInput: name,
        targets: [{ node: id, param: named.valueParam }],
        schema: z.string().default(typeof text === 'string' ? text : '').meta({ description: `prompt (node '${id}')`, 'x-picflow-input': 'prompt' }),
      });
    }
    if (named.template && typeof text === 'string') {
      for (const variable of templateVariables(text)) variables.set(variable, [...(variables.get(variable) ?? []), { node: id, param: named.valueParam }]);
    }
  }
  for (const [variable, targets] of variables) {
    add({ name: variable, kind: 'variable', runInput: variable, targets, schema: z.string().meta({ description: `fills {${variable}} in prompts`, 'x-picflow-input': 'variable' }) });
  }

  // Exposed once each: under two names, a call setting both would have one of its values silently dropped.
  const exposedAs = new Map<string, string>();
  const broken = new Map<string, WorkflowIssue>();
  for (const [index, { param: key, name }] of exposed.entries()) {
    const field = `inputs.${index}`;
    const refuse = ({ node, message }: Omit<WorkflowIssue, 'field'>) => {
      const issue = { node, field, message };
      issues.push(issue);
      if (!broken.has(name)) broken.set(name, issue);
    };
    const dot = key.lastIndexOf('.');
    const nodeId = key.slice(0, Math.max(dot, 0));
    const param = key.slice(dot + 1);
    const node = Object.hasOwn(parsed.nodes, nodeId) ? parsed.nodes[nodeId] : undefined;
    const definition = node && engine.catalog.get(node.type);
    const shape = definition?.params.shape as Record<string, z.ZodType> | undefined;
    if (!node || !shape) {
      refuse({ node: null, message: `'${key}' names no node of this workflow${dot < 0 ? ' (use <node id>.<param>)' : ''}` });
    } else if (!Object.hasOwn(shape, param)) {
      refuse({ node: nodeId, message: `${node.type} has no param '${param}' (params: ${Object.keys(shape).join(', ') || 'none'})` });
    } else if (exposedAs.has(key)) {
      refuse({ node: nodeId, message: `'${key}' is already exposed as '${exposedAs.get(key)}'; expose each param once` });
    } else if (inputs.has(name) || HOSTILE_KEYS.has(name)) {
      refuse({ node: nodeId, message: `the input name '${name}' is already taken; give '${key}' another name` });
    } else {
      const saved = node.params?.[param];
      const described = shape[param].description;
      exposedAs.set(key, name);
      const kind: InputKind = param === 'artifact' ? 'image' : 'param';
      const base = saved === undefined ? shape[param] : unwrapDefault(shape[param]).default(saved as never);
      add({
        name,
        kind,
        runInput: key,
        targets: [{ node: nodeId, param }],
        schema: base.meta({
          description: `${described ? `${described} ` : ''}(node '${nodeId}', param '${param}')${kind === 'image' ? '; an artifact id from POST /hooks/<slug>/uploads (the image itself as the body) or POST /api/uploads' : ''}`,
          'x-picflow-input': kind,
          // What a person filling the app page's form needs: the param's own words, without the API's.
          ...(described && { 'x-picflow-hint': described }),
        }),
      });
    }
  }

  // A name taken by a prompt or by another exposure is an input all the same.
  for (const name of inputs.keys()) broken.delete(name);
  const shape: Record<string, z.ZodType> = Object.create(null);
  for (const input of inputs.values()) shape[input.name] = input.schema;
  return { inputs, body: z.object(shape), outputs: outputsOf(engine, parsed, variables.keys()), issues, broken };
}

/** Output names and types, from the workflow typed as a run would be (template variables filled). */
function outputsOf(engine: Engine, workflow: unknown, variables: Iterable<string>): TriggerOutput[] {
  const placeholders: RunInputs = Object.fromEntries([...variables].map((v) => [v, '']));
  let graph;
  try {
    graph = engine.prepare(workflow, placeholders);
  } catch {
    return []; // a saved workflow that no longer validates (a node type gone): its calls say why
  }
  const outputs: TriggerOutput[] = [];
  for (const node of graph.nodes.values()) {
    if (!node.definition.output) continue;
    const link = node.links[Object.keys(node.definition.inputs)[0]];
    outputs.push({ name: outputName(node), node: node.id, kind: node.definition.output, type: graph.nodes.get(link.from)!.outputTypes[link.output] });
  }
  return outputs;
}

/**
 * What is wrong with params a trigger exposes on a workflow: set by the trigger's PUT (refused), and left behind by
 * a workflow edit that removes a node or param (the save goes through; its answer and the trigger's GET say so).
 * Fields name the trigger's `inputs`.
 */
export function exposureIssues(engine: Engine, workflow: unknown, exposed: readonly ExposedParam[]): WorkflowIssue[] {
  return deriveContract(engine, workflow, exposed).issues;
}

/**
 * Checks a call's body against the contract: an input it does not have, or a value of the wrong type
 * or range, is an issue naming it. Returns the run inputs the body stands for (only what it sets), and
 * apart, the inputs it sets that the trigger exposes but its workflow no longer has: the caller's call
 * is right, the trigger is out of date.
 */
export function runInputsOf(contract: TriggerContract, body: Record<string, unknown>): { inputs: RunInputs; issues: WorkflowIssue[]; outdated: WorkflowIssue[] } {
  const issues: WorkflowIssue[] = [];
  const outdated: WorkflowIssue[] = [];
  const given: [string, unknown][] = [];
  for (const key of Object.keys(body)) {
    const input = contract.inputs.get(key);
    const broken = contract.broken.get(key);
    if (broken) {
      outdated.push({ node: broken.node, field: `inputs.${key}`, message: `input '${key}' no longer fits the workflow: ${broken.message}` });
      continue;
    }
    if (!input) {
      const known = [...contract.inputs.keys()].join(', ') || 'none';
      issues.push({ node: null, field: `inputs.${key}`, message: `'${key}' is not an input of this trigger (inputs: ${known})` });
      continue;
    }
    const result = input.schema.safeParse(body[key]);
    if (!result.success) {
      for (const issue of result.error.issues) issues.push({ node: null, field: ['inputs', key, ...issue.path].join('.'), message: issue.message });
    } else given.push([input.runInput, result.data]);
  }
  for (const input of contract.inputs.values()) {
    if (input.kind === 'variable' && !Object.hasOwn(body, input.name)) {
      issues.push({ node: null, field: `inputs.${input.name}`, message: `'${input.name}' is required: it fills {${input.name}} in a prompt` });
    }
  }
  // fromEntries defines own properties, so even a hostile key could not reach a prototype.
  return { inputs: Object.fromEntries(given), issues, outdated };
}

/**
 * A node's refusal of a call's run inputs (`node 'p' params.text: …`), told as the caller's input that set
 * that param (`inputs.subject`), the node named in the message; one issue per input the caller gave
 * that sets it. Undefined when no input given sets it: the saved workflow's own value is refused.
 */
export function callerIssues(contract: TriggerContract, body: Record<string, unknown>, issue: WorkflowIssue): WorkflowIssue[] | undefined {
  const [prefix, param] = issue.field.split('.');
  if (issue.node === null || prefix !== 'params') return undefined;
  const setBy = [...contract.inputs.values()].filter(
    (input) => Object.hasOwn(body, input.name) && input.targets.some((target) => target.node === issue.node && target.param === param),
  );
  if (setBy.length === 0) return undefined;
  return setBy.map((input) => ({ node: issue.node, field: `inputs.${input.name}`, message: `'${input.name}' is refused by node '${issue.node}' (${issue.field}): ${issue.message}` }));
}
