// The shapes the editor exchanges with the server. They mirror DESIGN.md's public contracts
// (GET /api/nodes, workflow JSON v1, run events); the editor never imports the engine itself.

/** A socket type: a base kind or a list of one (`image[]`). */
export type SocketType = string;

export interface PortEntry {
  name: string;
  type: SocketType;
  description?: string;
  optional?: boolean;
  lazy?: boolean;
}

/** A JSON Schema fragment as produced by zod's `toJSONSchema` (only the parts the editor reads). */
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
}

/** A model as `GET /api/models` lists it: what the model dropdown needs. */
export interface ModelChoice {
  name: string;
  tasks: string[];
}

/** One entry of `GET /api/nodes`. */
export interface CatalogEntry {
  type: string;
  category: string;
  description: string;
  output: 'save' | 'preview' | 'value' | null;
  inputs: PortEntry[];
  outputs: PortEntry[];
  params: JsonSchema;
}

export type Link = [string, string];

export interface WorkflowNode {
  type: string;
  title?: string;
  params?: Record<string, unknown>;
  inputs?: Record<string, Link>;
  ui?: { x: number; y: number; [key: string]: unknown };
}

/** Workflow JSON, version 1: the same file the CLI runs. */
export interface Workflow {
  version: 1;
  name?: string;
  description?: string;
  nodes: Record<string, WorkflowNode>;
}

export interface WorkflowIssue {
  node: string | null;
  field: string;
  message: string;
}

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

/** What a node shows while a run is watched. */
export type NodePhase = 'idle' | 'queued' | 'running' | 'cached' | 'done' | 'error' | 'skipped';

export interface NodeRunState {
  phase: NodePhase;
  step?: number;
  total?: number;
  ms?: number;
  message?: string;
  outputs?: Record<string, unknown>;
}

/** An image value as the server reports it in outputs. */
export interface ImageRef {
  artifact: string;
  url: string;
  width?: number;
  height?: number;
}

export function isImageRef(value: unknown): value is ImageRef {
  return typeof value === 'object' && value !== null && typeof (value as ImageRef).url === 'string';
}
