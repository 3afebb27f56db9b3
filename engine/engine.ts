import { randomUUID } from 'node:crypto';
import { OutputCache } from './cache';
import { RunEventBus, type RunEvent } from './events';
import { execute, type RunResult } from './executor';
import { buildGraph, type Graph } from './graph';
import type { Catalog, PortValues } from './node';
import { planRun } from './plan';
import type { Services } from './services';
import { WorkflowError, type RunInputs, type WorkflowIssue } from './workflow';

export interface EngineOptions {
  catalog: Catalog;
  services: Services;
  cache?: OutputCache;
}

export interface RunOptions {
  runId?: string;
  inputs?: RunInputs;
  signal?: AbortSignal;
  /** Events of this run only, besides the engine-wide `events` bus. */
  onEvent?: (event: RunEvent) => void;
  /** Outputs of nodes an earlier attempt of this run finished (a resumed run): they are not run again, and report `node:cached`. */
  reuse?: ReadonlyMap<string, PortValues>;
}

/** The front door of the engine: validate, then plan and execute, with one output cache shared by all runs. */
export class Engine {
  readonly catalog: Catalog;
  readonly services: Services;
  readonly cache: OutputCache;
  readonly events = new RunEventBus();

  constructor(options: EngineOptions) {
    this.catalog = options.catalog;
    this.services = options.services;
    this.cache = options.cache ?? new OutputCache();
  }

  validate(workflow: unknown, inputs: RunInputs = {}): { ok: boolean; errors: WorkflowIssue[] } {
    const result = buildGraph(workflow, this.catalog, inputs);
    return result.ok ? { ok: true, errors: [] } : { ok: false, errors: result.issues };
  }

  /** The validated graph, or a WorkflowError listing every problem. */
  prepare(workflow: unknown, inputs: RunInputs = {}): Graph {
    const result = buildGraph(workflow, this.catalog, inputs);
    if (!result.ok) throw new WorkflowError(result.issues);
    return result.graph;
  }

  /** Runs a workflow; throws WorkflowError before starting when it is invalid, else resolves with the run's result. */
  async run(workflow: unknown, options: RunOptions = {}): Promise<RunResult> {
    return this.runGraph(this.prepare(workflow, options.inputs), options);
  }

  async runGraph(graph: Graph, options: Omit<RunOptions, 'inputs'> = {}): Promise<RunResult> {
    const plan = await planRun(graph, this.services);
    const runId = options.runId ?? randomUUID();
    const emit = (event: RunEvent) => {
      options.onEvent?.(event);
      this.events.emit(event);
    };
    return execute(graph, plan, { runId, services: this.services, emit, signal: options.signal, cache: this.cache, reuse: options.reuse });
  }
}
