// The contract between engine, server and editor: workflow JSON v1, the issue shape, the catalog
// entry, socket types and the link rule, and the run messages clients hear (DESIGN's public
// contracts). Types and pure functions only, with no imports at all: the editor's bundle takes this
// file as is (test/contract-wall.test.ts keeps it so), and every host uses it rather than a copy.

// ---- Socket types and the link rule ----

/** Socket types: the scalar kinds a value can have, and lists of each. */
export const BASE_TYPES = ['text', 'image', 'number', 'boolean', 'any'] as const;
export type BaseType = (typeof BASE_TYPES)[number];
export type SocketType = BaseType | `${BaseType}[]`;

export const SOCKET_TYPES: readonly SocketType[] = BASE_TYPES.flatMap((b) => [b, `${b}[]` as const]);

export function isList(type: string): boolean {
  return type.endsWith('[]');
}

export function baseOf(type: SocketType): BaseType;
export function baseOf(type: string): string;
export function baseOf(type: string): string {
  return isList(type) ? type.slice(0, -2) : type;
}

export function listOf(type: SocketType): SocketType {
  return `${baseOf(type)}[]`;
}

/**
 * Whether an output of type `from` may feed an input of type `to`; returns the reason when not.
 * List-ness never blocks a link: a list into a scalar input maps the node over the list,
 * a scalar into a list input becomes a one-element list.
 */
export function linkProblem(from: string, to: string): string | null {
  const a = baseOf(from);
  const b = baseOf(to);
  if (a === b || a === 'any' || b === 'any') return null;
  return `type mismatch: ${from} cannot feed an input of type ${to}`;
}

// ---- Workflow JSON v1 ----

/** `[sourceNodeId, outputName]` on the target's input. */
export type Link = [string, string];

export interface WorkflowNode {
  type: string;
  title?: string;
  params?: Record<string, unknown>;
  inputs?: Record<string, Link>;
  ui?: { x: number; y: number; [key: string]: unknown };
}

/** Workflow JSON, version 1: the same file the CLI runs, the server stores and the editor edits. */
export interface Workflow {
  version: 1;
  name?: string;
  description?: string;
  nodes: Record<string, WorkflowNode>;
}

/** Run inputs: a named prompt or template variable (`subject`), or one node's param (`g.seed`). */
export type RunInputs = Record<string, unknown>;

/** One problem in a workflow: which node (null for the workflow as a whole), which field, and why. */
export interface WorkflowIssue {
  node: string | null;
  field: string;
  message: string;
}

export function formatIssue(issue: WorkflowIssue): string {
  const where = issue.node === null ? issue.field : `node '${issue.node}' ${issue.field}`;
  return `${where}: ${issue.message}`;
}

// ---- The node catalog (`GET /api/nodes`) ----

/** How an output node's value is treated by hosts: saved as a file, shown only, or returned as a value. */
export type OutputKind = 'save' | 'preview' | 'value';

export interface PortEntry {
  name: string;
  type: SocketType;
  description?: string;
  /** Inputs only: the node runs without it. */
  optional?: boolean;
  /** Inputs only: computed only when the node asks for it. */
  lazy?: boolean;
  /** Inputs only: a list fed to this scalar input is handled by the node in one call (one model batch) rather than mapped. */
  batched?: boolean;
}

/** A JSON Schema fragment as zod's `toJSONSchema` writes a node's params (the parts clients read). */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  title?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  /** On a model node's `model` param: the task the node asks of its model. */
  'x-picflow-task'?: string;
  [key: string]: unknown;
}

/** One node type as the catalog describes it. */
export interface CatalogEntry {
  type: string;
  category: string;
  description: string;
  output: OutputKind | null;
  inputs: PortEntry[];
  outputs: PortEntry[];
  params: JsonSchema;
}

// ---- Runs as clients hear of them (socket.io events, DESIGN "socket.io events") ----

/** An image value on the wire: a stored artifact. */
export interface ImageRef {
  artifact: string;
  url: string;
  width: number;
  height: number;
}

/** A run value as JSON: images become artifact references, lists stay lists. */
export type JsonValue = string | number | boolean | null | ImageRef | JsonValue[];

/** `interrupted`: the server stopped (crash or shutdown) before the run finished. */
export type RunState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export interface RunError {
  node: string | null;
  message: string;
  /** The node broke (a programming error) rather than refusing its inputs: hooks answer 500, not 422. */
  crashed?: boolean;
}

/** One named output of a run, its value as JSON. */
export interface RunOutputJson {
  node: string;
  kind: OutputKind;
  type: SocketType;
  value: JsonValue;
}

/**
 * What a run reports while it goes, in order; every event names its run, node events their node.
 * `Outputs` is how node outputs are carried: the engine's values inside a process, JSON on the wire.
 */
export type RunProgress<Outputs> =
  | { type: 'run:started'; runId: string; nodes: string[]; at: number }
  | { type: 'node:started'; runId: string; nodeId: string; at: number }
  | { type: 'node:progress'; runId: string; nodeId: string; step: number; total: number }
  | { type: 'node:cached'; runId: string; nodeId: string; outputs: Outputs }
  | { type: 'node:finished'; runId: string; nodeId: string; ms: number; outputs: Outputs }
  | { type: 'node:error'; runId: string; nodeId: string; message: string };

/** What the server sends about runs: the engine's events made JSON-safe, framed by `run:queued` and `run:finished`. */
export type RunMessage =
  | { type: 'run:queued'; runId: string; workflowId: string | null; at: number }
  | RunProgress<Record<string, JsonValue>>
  | {
      type: 'run:finished';
      runId: string;
      status: RunState;
      ms: number | null;
      error: RunError | null;
      outputs: Record<string, RunOutputJson>;
    };

/** Every socket.io event name a `RunMessage` is sent under (its `type`). */
export const RUN_MESSAGE_TYPES = [
  'run:queued',
  'run:started',
  'node:started',
  'node:progress',
  'node:cached',
  'node:finished',
  'node:error',
  'run:finished',
] as const satisfies readonly RunMessage['type'][];

/**
 * A trigger's limits and access rules besides its token, as `PUT /api/workflows/:id/trigger` takes them and
 * its GET shows them: one definition for the server that keeps them and the editor that edits them.
 */
export interface TriggerLimits {
  /** Browser origins (`https://app.example`) allowed to call the hook cross-origin; others stay refused. */
  allowedOrigins: string[];
  /** Calls and uploads per minute per client (status polls, images and the OpenAPI document are not counted); null: unlimited. */
  rateLimit: number | null;
  /** How long a sync call waits for its run before answering 202 with the status URL. */
  timeoutMs: number;
  /** Calls must be HMAC-signed with the trigger's secret (or carry its bearer token, when it has one). */
  requireSignature: boolean;
}

/** A new trigger's limits: unlimited, a minute for sync calls, no browser origins, no signature required. */
export const DEFAULT_TRIGGER_LIMITS: TriggerLimits = { allowedOrigins: [], rateLimit: null, timeoutMs: 60_000, requireSignature: false };

/** The bounds the server holds a trigger's numbers to (inclusive). */
export const TRIGGER_LIMIT_BOUNDS = { rateLimit: { min: 1, max: 100_000 }, timeoutMs: { min: 100, max: 600_000 } } as const;
