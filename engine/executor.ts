import { DEFAULT_PIXEL_LIMITS, PixelBudget, type PixelLimits } from './budget';
import type { OutputCache } from './cache';
import type { RunEvent, RunStatus } from './events';
import { outputName, type Graph, type GraphNode } from './graph';
import type { NodeContext, PortValues } from './node';
import type { Plan } from './plan';
import type { Services } from './services';
import { isList, type OutputKind, type SocketType } from './contract';

export type NodeStatus = 'pending' | 'running' | 'succeeded' | 'cached' | 'failed' | 'cancelled' | 'skipped';

export interface NodeRecord {
  status: NodeStatus;
  startedAt?: number;
  ms?: number;
  error?: string;
}

export interface RunOutput {
  node: string;
  kind: OutputKind;
  type: SocketType;
  value: unknown;
}

export interface RunResult {
  runId: string;
  status: RunStatus;
  ms: number;
  /** `crashed`: the node broke (a programming error) rather than refusing its inputs. */
  error?: { node: string | null; message: string; crashed?: boolean };
  nodes: Record<string, NodeRecord>;
  /** Output nodes' values by their name (the `name` param, else the node id). */
  outputs: Record<string, RunOutput>;
}

export interface ExecuteOptions {
  runId: string;
  services: Services;
  emit: (event: RunEvent) => void;
  signal?: AbortSignal;
  cache?: OutputCache;
  pixels?: PixelLimits;
  /** After a cancel or a failure, how long nodes still running get to stop before the run ends without them. */
  stopGraceMs?: number;
  /** Outputs by node id that count as already computed (a resumed run's finished nodes). */
  reuse?: ReadonlyMap<string, PortValues>;
}

export const DEFAULT_STOP_GRACE_MS = 5_000;

/** Runs a planned graph: each node as soon as the inputs it waits for are ready; see RunExecution. */
export function execute(graph: Graph, plan: Plan, options: ExecuteOptions): Promise<RunResult> {
  return new RunExecution(graph, plan, options).start();
}

/**
 * Demand-driven scheduling. Output nodes are demanded first; a demanded node that is not cached
 * demands the sources of its eager inputs and waits until that set is empty, then (for a lazy node
 * such as `switch`) asks which lazy inputs it needs and waits for those alone. A node that is never
 * demanded never runs. All walks use explicit stacks: depth costs no call stack.
 *
 * A run always ends: a throw anywhere in the bookkeeping fails the node being handled; a node that
 * ignores cancellation is left behind after `stopGraceMs`; a run that can make no more progress
 * (nothing running, nodes still waiting) fails naming a waiting node; and the result is built in
 * a way that cannot throw past `settle`.
 */
class RunExecution {
  private readonly records = new Map<string, NodeRecord>();
  private readonly values = new Map<string, PortValues>();
  private readonly waiters = new Map<string, string[]>();
  private readonly pending = new Map<string, number>();
  private readonly lazyWanted = new Map<string, Set<string>>();
  private readonly demanded = new Set<string>();
  private readonly controller = new AbortController();
  private readonly startedAt = performance.now();
  private unfinished = 0;
  private running = 0;
  private demandDepth = 0;
  private stopped: { status: 'failed' | 'cancelled'; error?: RunResult['error'] } | undefined;
  private settle!: (result: RunResult) => void;
  private settled = false;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly budget: PixelBudget;

  constructor(
    private readonly graph: Graph,
    private readonly plan: Plan,
    private readonly options: ExecuteOptions,
  ) {
    for (const id of plan.order) this.records.set(id, { status: 'pending' });
    this.budget = new PixelBudget(options.pixels ?? DEFAULT_PIXEL_LIMITS);
  }

  start(): Promise<RunResult> {
    const done = new Promise<RunResult>((resolve) => (this.settle = resolve));
    const { signal, runId } = this.options;
    this.emit({ type: 'run:started', runId, nodes: this.plan.order, at: Date.now() });
    if (signal?.aborted) {
      this.stop({ status: 'cancelled' });
    } else {
      signal?.addEventListener('abort', () => this.stop({ status: 'cancelled' }), { once: true });
      this.demand(this.plan.outputs);
    }
    return done;
  }

  private demand(ids: string[]): void {
    this.demandDepth++;
    try {
      const stack = [...ids];
      while (stack.length > 0 && !this.stopped) {
        const id = stack.pop()!;
        if (this.demanded.has(id)) continue;
        this.demanded.add(id);
        this.unfinished++;
        this.guard(id, () => {
          const cached = this.options.reuse?.get(id) ?? this.options.cache?.get(this.key(id));
          if (cached) {
            this.budget.hold(id, cached);
            this.finish(id, cached, 'cached');
            this.reportCachedSources(id);
            return;
          }
          const node = this.node(id);
          const eager = Object.entries(node.links).filter(([input]) => !node.definition.inputs[input].lazy);
          this.waitFor(id, eager.map(([, link]) => link.from), stack);
        });
      }
    } finally {
      this.demandDepth--;
    }
    this.settleIfDone();
  }

  /** Runs engine bookkeeping for one node; whatever it throws fails that node (and so the run) instead of stalling it. */
  private guard(id: string, work: () => void): void {
    try {
      work();
    } catch (err) {
      this.failNode(id, err);
    }
  }

  private failNode(id: string, err: unknown): void {
    if (this.settled) return;
    const message = err instanceof Error ? err.message : String(err);
    const record = this.records.get(id);
    if (record) {
      record.status = 'failed';
      record.error = message;
    }
    this.emit({ type: 'node:error', runId: this.options.runId, nodeId: id, message });
    const type = this.graph.nodes.get(id)?.definition.type ?? 'unknown type';
    const error = { node: id, message: `node '${id}' (${type}) failed: ${message}` };
    this.stop({ status: 'failed', error: crashed(err) ? { ...error, crashed: true } : error });
  }

  /**
   * A cached node needs none of its sources, so they are not demanded; those still in the cache are
   * reported cached (with their outputs, for the editor's previews) instead of looking skipped.
   * Lazy inputs are not followed: which branch a cached switch took is not known.
   */
  private reportCachedSources(id: string): void {
    const stack = [id];
    while (stack.length > 0) {
      const node = this.node(stack.pop()!);
      for (const [input, { from }] of Object.entries(node.links)) {
        if (node.definition.inputs[input].lazy || this.demanded.has(from) || this.records.get(from)!.status !== 'pending') continue;
        const outputs = this.options.reuse?.get(from) ?? this.options.cache?.get(this.key(from));
        if (!outputs) continue;
        this.records.get(from)!.status = 'cached';
        this.emit({ type: 'node:cached', runId: this.options.runId, nodeId: from, outputs });
        stack.push(from);
      }
    }
  }

  /** Registers `id` as waiting on the unfinished ones among `sources`, pushing those to be demanded. */
  private waitFor(id: string, sources: string[], stack: string[]): void {
    let count = 0;
    for (const source of new Set(sources)) {
      if (this.values.has(source)) continue;
      let list = this.waiters.get(source);
      if (!list) this.waiters.set(source, (list = []));
      list.push(id);
      count++;
      stack.push(source);
    }
    this.pending.set(id, count);
    if (count === 0) this.ready(id);
  }

  private ready(id: string): void {
    if (this.stopped) return;
    this.guard(id, () => {
      const node = this.node(id);
      if (node.definition.lazy && !this.lazyWanted.has(id)) {
        const asked: unknown = node.definition.lazy(this.collectInputs(node), node.params);
        if (!Array.isArray(asked)) throw new Error('its lazy() did not return a list of input names');
        const wanted = new Set(asked.filter((input): input is string => typeof input === 'string' && Object.hasOwn(node.links, input)));
        this.lazyWanted.set(id, wanted);
        const stack: string[] = [];
        this.waitFor(id, [...wanted].map((input) => node.links[input].from), stack);
        if (stack.length > 0) this.demand(stack);
        return;
      }
      void this.launch(node);
    });
  }

  private async launch(node: GraphNode): Promise<void> {
    const { runId } = this.options;
    const record = this.records.get(node.id)!;
    record.status = 'running';
    record.startedAt = Date.now();
    const started = performance.now();
    this.running++;
    this.emit({ type: 'node:started', runId, nodeId: node.id, at: record.startedAt });
    let outputs: PortValues;
    try {
      outputs = await this.runNode(node, this.collectInputs(node));
      if (typeof outputs !== 'object' || outputs === null) throw new Error(`run() returned ${outputs === null ? 'null' : typeof outputs}, not an object of outputs`);
    } catch (err) {
      if (this.settled) return; // left behind after a stop: the run has ended without it
      record.ms = performance.now() - started;
      this.running--;
      this.budget.release(node.id);
      if (this.controller.signal.aborted) {
        record.status = 'cancelled';
        this.settleIfDone();
      } else {
        this.failNode(node.id, err);
      }
      return;
    }
    if (this.settled) return;
    record.ms = performance.now() - started;
    this.running--;
    if (this.stopped) {
      record.status = 'cancelled';
      this.budget.release(node.id);
      this.settleIfDone();
      return;
    }
    this.guard(node.id, () => {
      this.budget.hold(node.id, outputs);
      this.options.cache?.set(this.key(node.id), outputs);
      this.finish(node.id, outputs, 'succeeded');
    });
    this.settleIfDone();
  }

  /**
   * Calls `run`, once per element when scalar inputs are fed lists (list outputs of each call are
   * concatenated); once with the lists when every such input is `batched`.
   */
  private async runNode(node: GraphNode, inputs: PortValues): Promise<PortValues> {
    const { definition, params } = node;
    if (definition.output) {
      const first = Object.keys(definition.inputs)[0];
      if (definition.run) await definition.run(inputs, params, this.context(node.id, 0, 1));
      return { value: inputs[first] };
    }
    const run = definition.run!;
    if (node.mapped.every((input) => definition.inputs[input].batched)) return run(inputs, params, this.context(node.id, 0, 1));

    const lengths = node.mapped.map((input) => (inputs[input] as unknown[]).length);
    if (lengths.some((length) => length !== lengths[0])) {
      throw new Error(`list inputs differ in length (${node.mapped.map((m, i) => `${m}: ${lengths[i]}`).join(', ')})`);
    }
    const declared = { ...Object.fromEntries(Object.entries(definition.outputs).map(([k, p]) => [k, p.type])), ...definition.outputTypes?.(params) };
    const outputs: Record<string, unknown[]> = Object.fromEntries(Object.keys(declared).map((k) => [k, []]));
    for (let i = 0; i < lengths[0]; i++) {
      const element = { ...inputs };
      for (const input of node.mapped) element[input] = (inputs[input] as unknown[])[i];
      const result = await run(element, params, this.context(node.id, i, lengths[0]));
      for (const [output, type] of Object.entries(declared)) {
        if (isList(type as SocketType)) outputs[output].push(...(result[output] as unknown[]));
        else outputs[output].push(result[output]);
      }
    }
    return outputs;
  }

  private context(nodeId: string, part: number, parts: number): NodeContext {
    const { runId, services } = this.options;
    return {
      runId,
      nodeId,
      services,
      signal: this.controller.signal,
      images: this.budget.forNode(nodeId),
      progress: (step, total) => {
        if (!this.settled) this.emit({ type: 'node:progress', runId, nodeId, step: part * total + step, total: parts * total });
      },
    };
  }

  private collectInputs(node: GraphNode): PortValues {
    const inputs: PortValues = {};
    const wanted = this.lazyWanted.get(node.id);
    for (const [input, link] of Object.entries(node.links)) {
      const port = node.definition.inputs[input];
      if (port.lazy && !wanted?.has(input)) continue;
      const source = this.values.get(link.from);
      if (!source) continue;
      const value = source[link.output];
      inputs[input] = isList(port.type) && !Array.isArray(value) ? [value] : value;
    }
    return inputs;
  }

  private finish(id: string, outputs: PortValues, status: 'succeeded' | 'cached'): void {
    const { runId } = this.options;
    const emit = (event: RunEvent) => this.emit(event);
    this.values.set(id, outputs);
    const record = this.records.get(id)!;
    const reported = record.status === 'cached'; // already reported by reportCachedSources
    record.status = status;
    if (status === 'succeeded') emit({ type: 'node:finished', runId, nodeId: id, ms: record.ms ?? 0, outputs });
    else if (!reported) emit({ type: 'node:cached', runId, nodeId: id, outputs });
    this.unfinished--;
    for (const waiter of this.waiters.get(id) ?? []) {
      const left = this.pending.get(waiter)! - 1;
      this.pending.set(waiter, left);
      if (left === 0) this.ready(waiter);
    }
    this.waiters.delete(id);
    this.settleIfDone();
  }

  private stop(reason: NonNullable<RunExecution['stopped']>): void {
    if (this.stopped) return;
    this.stopped = reason;
    this.controller.abort(new Error(reason.status === 'cancelled' ? 'run cancelled' : 'run failed'));
    if (this.running > 0) this.graceTimer = setTimeout(() => this.abandonRunning(), this.options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
    this.settleIfDone();
  }

  /** Nodes that did not stop when asked: the run ends without them, and whatever they return later is dropped. */
  private abandonRunning(): void {
    const grace = this.options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
    for (const record of this.records.values()) {
      if (record.status !== 'running') continue;
      record.status = 'cancelled';
      record.error = `did not stop within ${grace} ms of the run stopping; its result is dropped`;
    }
    this.running = 0;
    this.settleIfDone();
  }

  private settleIfDone(): void {
    if (this.settled || this.running > 0 || this.demandDepth > 0) return;
    if (!this.stopped && this.unfinished > 0) {
      // Nothing runs and nothing is being demanded, yet nodes wait: nothing can wake them.
      const waiting = [...this.demanded].find((id) => this.records.get(id)?.status === 'pending');
      this.failNode(waiting ?? this.plan.outputs[0], new Error('waits for inputs that can never arrive (engine fault)'));
      return;
    }
    this.settled = true;
    clearTimeout(this.graceTimer);
    let status: RunStatus = this.stopped?.status ?? 'succeeded';
    let error = this.stopped?.error;
    let outputs: Record<string, RunOutput> = {};
    if (status === 'succeeded') {
      const collected = this.collectOutputs();
      if ('error' in collected) {
        status = 'failed';
        error = collected.error;
      } else {
        outputs = collected.outputs;
      }
    }
    for (const record of this.records.values()) {
      if (record.status === 'pending') record.status = status === 'cancelled' ? 'cancelled' : 'skipped';
    }
    const ms = performance.now() - this.startedAt;
    this.emit({ type: 'run:finished', runId: this.options.runId, status, ms, ...(error && { error }) });
    this.settle({ runId: this.options.runId, status, ms, ...(error && { error }), nodes: Object.fromEntries(this.records), outputs });
  }

  /** Output values by output name, or the output node whose value cannot be reported. */
  private collectOutputs(): { outputs: Record<string, RunOutput> } | { error: { node: string; message: string } } {
    const entries: [string, RunOutput][] = [];
    for (const id of this.plan.outputs) {
      try {
        const node = this.node(id);
        const first = Object.keys(node.definition.inputs)[0];
        const link = node.links[first];
        const values = this.values.get(id);
        if (!values) throw new Error('it never received its value');
        const type = this.node(link.from).outputTypes[link.output];
        entries.push([outputName(node), { node: id, kind: node.definition.output!, type, value: values.value }]);
      } catch (err) {
        return { error: { node: id, message: `node '${id}' failed: its output cannot be reported (${(err as Error).message})` } };
      }
    }
    // fromEntries defines own properties: an output named `__proto__` or `constructor` is just a name.
    return { outputs: Object.fromEntries(entries) };
  }

  private key(id: string): string {
    const key = this.plan.keys.get(id);
    if (key === undefined) throw new Error(`the plan has no node '${id}'`);
    return key;
  }

  private node(id: string): GraphNode {
    const node = this.graph.nodes.get(id);
    if (!node) throw new Error(`the graph has no node '${id}'`);
    return node;
  }

  /** Events go out through the host's listener; a listener that throws must not keep the run from ending. */
  private emit(event: RunEvent): void {
    try {
      this.options.emit(event);
    } catch (err) {
      process.emitWarning(`run event listener failed on ${event.type}: ${(err as Error).message}`);
    }
  }
}

/**
 * A node crashed when it threw something other than a deliberate error: JavaScript's own errors for
 * broken code (a TypeError reading undefined, say) or a non-Error value. Nodes refuse bad inputs with
 * plain Errors.
 */
function crashed(err: unknown): boolean {
  return !(err instanceof Error) || err instanceof TypeError || err instanceof ReferenceError || err instanceof SyntaxError || err instanceof EvalError;
}
