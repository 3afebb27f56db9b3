import { randomUUID } from 'node:crypto';
import { DEFAULT_PIXEL_LIMITS, type PixelLimits } from './budget';
import { entriesForTwoWorkflows, OutputCache } from './cache';
import { serviceIssues } from './checks';
import type { RunEvent } from './events';
import { execute, type CancelSignal, type RunResult } from './executor';
import { compileGraph, type CompiledGraph } from './compile';
import { buildGraph, type Graph, type ValidationResult } from './graph';
import { DEFAULT_WORKFLOW_LIMITS, type WorkflowLimits } from './limits';
import type { Catalog, PortValues } from './node';
import { planRun } from './plan';
import type { Services } from './services';
import { DEFAULT_WATCHDOG, type WatchdogOptions } from './watchdog';
import type { RunInputs, WorkflowIssue } from './contract';
import { WorkflowError } from './workflow';

export interface EngineOptions {
  catalog: Catalog;
  services: Services;
  cache?: OutputCache;
  /** Sizes a workflow may have (nodes, params, names, strings, nesting); each default applies unless given. */
  limits?: Partial<WorkflowLimits>;
  /** Image memory per image and per run, in pixels. */
  pixels?: Partial<PixelLimits>;
  /** After a cancel or failure, how long running nodes get to stop before the run ends without them. */
  stopGraceMs?: number;
  /** Reports runs over their time budget. */
  watchdog?: Partial<WatchdogOptions>;
}

export interface RunOptions {
  runId?: string;
  inputs?: RunInputs;
  /** Cancels the run when aborted (an AbortSignal, or see CancelSignal). */
  signal?: CancelSignal;
  /** This run's events, in order: the one way hosts hear how a run goes. */
  onEvent?: (event: RunEvent) => void;
  /** Outputs of nodes an earlier attempt of this run finished (a resumed run): they are not run again, and report `node:cached`. */
  reuse?: ReadonlyMap<string, PortValues>;
}

/** The front door of the engine: validate, then plan and execute, with one output cache shared by all runs. */
export class Engine {
  readonly catalog: Catalog;
  readonly services: Services;
  readonly cache: OutputCache;
  readonly limits: WorkflowLimits;
  readonly pixels: PixelLimits;
  private readonly stopGraceMs?: number;
  private readonly watchdog: WatchdogOptions;

  constructor(options: EngineOptions) {
    this.catalog = options.catalog;
    this.services = options.services;
    this.limits = { ...DEFAULT_WORKFLOW_LIMITS, ...options.limits };
    // Room for two of the largest workflows this engine accepts (see OutputCache).
    this.cache = options.cache ?? new OutputCache(entriesForTwoWorkflows(this.limits.maxNodes));
    this.pixels = { ...DEFAULT_PIXEL_LIMITS, ...options.pixels };
    this.stopGraceMs = options.stopGraceMs;
    this.watchdog = { ...DEFAULT_WATCHDOG, ...options.watchdog };
  }

  validate(workflow: unknown, inputs: RunInputs = {}): { ok: boolean; errors: WorkflowIssue[] } {
    const result = this.build(workflow, inputs);
    return result.ok ? { ok: true, errors: [] } : { ok: false, errors: result.issues };
  }

  /** The validated graph, or a WorkflowError listing every problem. */
  prepare(workflow: unknown, inputs: RunInputs = {}): Graph {
    return graphOf(this.build(workflow, inputs));
  }

  /**
   * A workflow checked once, for many runs: `graph(inputs)` gives what `prepare(workflow, inputs)` would,
   * at the cost of checking and applying the inputs. Throws a WorkflowError when the workflow itself is
   * invalid (run inputs aside: a `{variable}` left for them is not a problem). The workflow must not be
   * changed while the compiled one is in use.
   */
  compile(workflow: unknown): CompiledWorkflow {
    const compiled = compileGraph(workflow, this.catalog, this.limits);
    if (compiled.issues.length > 0) throw new WorkflowError([...compiled.issues]);
    return new CompiledWorkflow(compiled, this.services);
  }

  /**
   * For one run, the graph is built in full: compiling would build the same once, then copy it for the
   * run. Both go through buildGraph's steps (parseWorkflow, typeGraph) and then the service checks.
   */
  private build(workflow: unknown, inputs: RunInputs): ValidationResult {
    return withServiceChecks(buildGraph(workflow, this.catalog, inputs, this.limits), this.services);
  }

  /** Runs a workflow; throws WorkflowError before starting when it is invalid, else resolves with the run's result. */
  async run(workflow: unknown, options: RunOptions = {}): Promise<RunResult> {
    return this.runGraph(this.prepare(workflow, options.inputs), options);
  }

  async runGraph(graph: Graph, options: Omit<RunOptions, 'inputs'> = {}): Promise<RunResult> {
    const plan = await planRun(graph, this.services, this.cache);
    const runId = options.runId ?? randomUUID();
    const { services, pixels, stopGraceMs, watchdog } = this;
    return execute(graph, plan, { runId, services, emit: options.onEvent, signal: options.signal, pixels, stopGraceMs, reuse: options.reuse, watchdog });
  }
}

/** A workflow validated once (`Engine.compile`); each graph is a run's own, sharing nothing it could change. */
export class CompiledWorkflow {
  constructor(
    private readonly compiled: CompiledGraph,
    private readonly services: Services,
  ) {}

  /** The graph for these run inputs, or a WorkflowError listing every problem (as `Engine.prepare`). */
  graph(inputs: RunInputs = {}): Graph {
    return graphOf(this.validate(inputs));
  }

  /** The graph, or every issue of these run inputs with this workflow (as `Engine.validate`). */
  validate(inputs: RunInputs = {}): ValidationResult {
    return withServiceChecks(this.compiled.build(inputs), this.services);
  }
}

/** A valid graph then faces the nodes' checks against the services (models and their tasks), which may change between runs. */
function withServiceChecks(result: ValidationResult, services: Services): ValidationResult {
  if (!result.ok) return result;
  const issues = serviceIssues(result.graph, services);
  return issues.length > 0 ? { ok: false, issues } : result;
}

function graphOf(result: ValidationResult): Graph {
  if (!result.ok) throw new WorkflowError(result.issues);
  return result.graph;
}
