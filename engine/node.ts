import { z } from 'zod';
import type { ImageBudget } from './budget';
import type { Graph, GraphNode } from './graph';
import type { Services } from './services';
import type { CatalogEntry, JsonSchema, OutputKind, SocketType, WorkflowIssue } from './contract';

export interface PortSpec {
  type: SocketType;
  description?: string;
  /** Inputs only: the node runs without it. */
  optional?: boolean;
  /** Inputs only: computed only when the node's `lazy()` asks for it (the unchosen branch of a switch never runs). */
  lazy?: boolean;
  /**
   * Inputs only, on a scalar input: a list fed to it reaches `run` whole instead of mapping the node
   * over it (the node maps it itself, e.g. as one model batch), and `run` returns a list per output.
   */
  batched?: boolean;
}

export interface NodeContext {
  readonly runId: string;
  readonly nodeId: string;
  /** Aborted when the run is cancelled or a sibling node failed; long work checks it between steps. */
  readonly signal: AbortSignal;
  /** Reports progress inside the node, e.g. one call per sampling step. */
  progress(step: number, total: number): void;
  /** The run's image budget: nodes that make images reserve their size first (the engine checks every output anyway). */
  readonly images: ImageBudget;
  readonly services: Services;
}

export type PortValues = Record<string, unknown>;

export interface NodeDefinition<P extends z.ZodObject = z.ZodObject> {
  type: string;
  category: string;
  description: string;
  inputs: Record<string, PortSpec>;
  outputs: Record<string, PortSpec>;
  params: P;
  /** Marks an output node: the planner keeps it and what it receives is a result of the run. */
  output?: OutputKind;
  /** Output types that depend on params (e.g. `count > 1` makes `image` a list). */
  outputTypes?(params: z.output<P>): Partial<Record<string, SocketType>>;
  /** For nodes with lazy inputs: given the eager inputs, which lazy inputs are needed. */
  lazy?(inputs: PortValues, params: z.output<P>): string[];
  /**
   * Exposes the node to run inputs by name: the param `nameParam` holds the name, and a run input of
   * that name sets `valueParam` (a named prompt). With `template`, `{variable}` in `valueParam` is
   * filled from run inputs.
   */
  namedInput?: { nameParam: string; valueParam: string; template?: boolean };
  /** Extra cache-key material for nodes whose result depends on the world, e.g. a file's mtime. */
  cacheSalt?(params: z.output<P>, services: Services): Promise<string> | string;
  /**
   * Checks the built graph against what the host offers, before anything runs (e.g. a model that
   * lacks the node's task); each issue names its node and field, which may be an upstream node's.
   */
  check?(node: GraphNode, graph: Graph, services: Services): WorkflowIssue[];
  /**
   * Computes the outputs from the inputs. Output nodes may leave it out: what an output node
   * reports is the value its first input receives.
   */
  run?(inputs: PortValues, params: z.output<P>, ctx: NodeContext): Promise<PortValues> | PortValues;
}

/** Identity with inference: lets each node file declare params once and get typed `run` arguments. */
export function defineNode<P extends z.ZodObject>(definition: NodeDefinition<P>): NodeDefinition<P> {
  return definition;
}

// A catalog holds definitions of varied param shapes; `any` erases them at this one boundary.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyNodeDefinition = NodeDefinition<any>;

export type Catalog = ReadonlyMap<string, AnyNodeDefinition>;

export function makeCatalog(definitions: readonly AnyNodeDefinition[]): Catalog {
  const catalog = new Map<string, AnyNodeDefinition>();
  for (const definition of definitions) {
    if (catalog.has(definition.type)) throw new Error(`node type '${definition.type}' is defined twice`);
    catalog.set(definition.type, definition);
  }
  return catalog;
}

/** The catalog as JSON for the editor, the CLI and `GET /api/nodes`. */
export function describeCatalog(catalog: Catalog): CatalogEntry[] {
  return [...catalog.values()].map((d) => ({
    type: d.type,
    category: d.category,
    description: d.description,
    output: d.output ?? null,
    inputs: Object.entries(d.inputs).map(([name, p]) => ({ name, ...p })),
    outputs: Object.entries(d.outputs).map(([name, p]) => ({ name, ...p })),
    params: z.toJSONSchema(d.params, { io: 'input', unrepresentable: 'any' }) as JsonSchema,
  }));
}
