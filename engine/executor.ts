import { DEFAULT_PIXEL_LIMITS, PixelBudget, type ImageBudget, type PixelLimits } from './budget';
import type { CacheEntry } from './cache';
import type { RunEvent, RunStatus } from './events';
import { linkedNode, outputName, type Graph, type GraphLink, type GraphNode } from './graph';
import type { NodeContext, PortValues } from './node';
import type { Plan } from './plan';
import { portsOf } from './ports';
import type { Services } from './services';
import { isList, type OutputKind, type SocketType } from './contract';
import { watchRun, type WatchdogOptions } from './watchdog';

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

/**
 * What a run needs of its caller's cancellation signal: an AbortSignal fits, and so does anything as small
 * that says the same (a busy server's run queue hands one, an AbortSignal per run being costly in Node).
 */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options: { once: true }): void;
}

export interface ExecuteOptions {
  runId: string;
  services: Services;
  /** The run's events; without a listener, node events are not even made. */
  emit?: (event: RunEvent) => void;
  signal?: CancelSignal;
  pixels?: PixelLimits;
  /** After a cancel or a failure, how long nodes still running get to stop before the run ends without them. */
  stopGraceMs?: number;
  /** Outputs by node id that count as already computed (a resumed run's finished nodes). */
  reuse?: ReadonlyMap<string, PortValues>;
  /** Reports the run when it goes over its time budget. */
  watchdog?: WatchdogOptions;
}

export const DEFAULT_STOP_GRACE_MS = 5_000;

/** Runs a planned graph: each node as soon as the inputs it waits for are ready; see RunExecution. */
export function execute(graph: Graph, plan: Plan, options: ExecuteOptions): Promise<RunResult> {
  return new RunExecution(graph, plan, options).start();
}

/** A link to a node the graph lacks (a graph changed by hand): the run fails naming that node. */
class MissingNode extends Error {
  constructor(readonly id: string) {
    super(`the graph has no node '${id}'`);
  }
}

/** A node's status in a run, as its Uint8Array keeps it: an index into NODE_STATUSES. */
const PENDING = 0;
const RUNNING = 1;
const SUCCEEDED = 2;
const CACHED = 3;
const FAILED = 4;
const CANCELLED = 5;
const SKIPPED = 6;
const NODE_STATUSES: readonly NodeStatus[] = ['pending', 'running', 'succeeded', 'cached', 'failed', 'cancelled', 'skipped'];

/**
 * Runs that returned (or threw) without a promise, queued in order at [head, size): parallel arrays whose
 * slots are reused once the queue empties, so queuing a run allocates nothing.
 */
class ReturnedRuns {
  /** Node indices. */
  readonly nodes: number[] = [];
  readonly values: unknown[] = [];
  readonly threw: boolean[] = [];
  readonly ms: number[] = [];
  head = 0;
  size = 0;

  push(node: number, value: unknown, threw: boolean, ms: number): void {
    const at = this.size++;
    this.nodes[at] = node;
    this.values[at] = value;
    this.threw[at] = threw;
    this.ms[at] = ms;
  }
}

/**
 * Demand-driven scheduling. Output nodes are demanded first; a demanded node that is not cached
 * demands the sources of its eager inputs and waits until that set is empty, then (for a lazy node
 * such as `switch`) asks which lazy inputs it needs and waits for those alone. A node that is never
 * demanded never runs. All walks use explicit stacks: depth costs no call stack.
 *
 * A run keeps what it knows of each node in arrays by node index (GraphNode.index), typed arrays where
 * the values are numbers, and makes the result's records once it has ended: an object or two per node
 * held for the whole run was most of what a large run kept alive, and the garbage collector copied and
 * promoted all of it while the run went on (the cost per node of a 10,000-node run over a 1,000-node one).
 *
 * A run always ends: a throw anywhere in the bookkeeping fails the node being handled; a node that
 * ignores cancellation is left behind after `stopGraceMs`; a run that can make no more progress
 * (nothing running, nodes still waiting) fails naming a waiting node; and the result is built in
 * a way that cannot throw past `settle`.
 */
class RunExecution {
  private readonly list: readonly GraphNode[];
  private readonly demanded: Uint8Array;
  private readonly status: Uint8Array;
  /** By node index: the sources a node still waits for. */
  private readonly pending: Int32Array;
  /** By node index: the first node waiting for this one's outputs, plus one (0: none); any others in `moreWaiters` (most nodes have one). */
  private readonly waiter: Int32Array;
  /**
   * Waiters past the first, by node index. This and the other rare cases (errors, lazy choices) are Maps made on
   * first use: three Maps made for every run cost a two-node run (the echo trigger's) over a tenth of its time.
   */
  private moreWaiters: Map<number, number[]> | undefined;
  /** By node index: set once the node finished or came from the cache. */
  private readonly outputs: (PortValues | undefined)[];
  /** By node index: when a node started (Date.now() for the record, performance.now() to time it) and how long it ran; NaN until then. */
  private readonly startedAt: Float64Array;
  private readonly startedMs: Float64Array;
  private readonly ms: Float64Array;
  private errors: Map<number, string> | undefined;
  /** For a lazy node: the lazy inputs its `lazy()` asked for, once asked. */
  private lazyWanted: Map<number, Set<string>> | undefined;
  /** Nodes whose run returned or threw without a promise, handled in order by `drain` (see `launch`). */
  private readonly returned = new ReturnedRuns();
  private draining = false;
  /** Made when a node first asks for its signal (an AbortController costs about 5 µs, and most nodes never ask). */
  private controller: AbortController | undefined;
  private readonly runStartedMs = performance.now();
  private unfinished = 0;
  private running = 0;
  private demandDepth = 0;
  private stopped: { status: 'failed' | 'cancelled'; error?: RunResult['error'] } | undefined;
  private settle!: (result: RunResult) => void;
  private settled = false;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private watch: { stop(): void } | undefined;
  readonly budget: PixelBudget;

  constructor(
    private readonly graph: Graph,
    private readonly plan: Plan,
    readonly options: ExecuteOptions,
  ) {
    const size = graph.list.length;
    this.list = graph.list;
    this.demanded = new Uint8Array(size);
    this.status = new Uint8Array(size);
    this.pending = new Int32Array(size);
    this.waiter = new Int32Array(size);
    this.outputs = new Array(size);
    this.startedAt = new Float64Array(size).fill(NaN);
    this.startedMs = new Float64Array(size);
    this.ms = new Float64Array(size).fill(NaN);
    this.budget = new PixelBudget(options.pixels ?? DEFAULT_PIXEL_LIMITS);
  }

  /** A linked node's index; a link to a node the graph lacks fails the run (see MissingNode). */
  private sourceOf(link: GraphLink): number {
    const node = linkedNode(this.graph, link);
    if (!node) throw new MissingNode(link.from);
    return node.index;
  }

  start(): Promise<RunResult> {
    const done = new Promise<RunResult>((resolve) => (this.settle = resolve));
    const { signal, runId, watchdog, emit } = this.options;
    if (watchdog) this.watch = watchRun(runId, watchdog, () => this.runningIds());
    if (emit) this.emit({ type: 'run:started', runId, nodes: this.plan.nodes.map((node) => node.id), at: Date.now() });
    if (signal?.aborted) {
      this.stop({ status: 'cancelled' });
    } else {
      signal?.addEventListener('abort', () => this.stop({ status: 'cancelled' }), { once: true });
      this.demand(this.plan.outputs.map((node) => node.index));
      this.drain();
    }
    return done;
  }

  /** The ids of the nodes running now. */
  private runningIds(): string[] {
    return this.plan.nodes.filter((node) => this.status[node.index] === RUNNING).map((node) => node.id);
  }

  /** Demands the nodes on `stack` (which becomes the walk's own) and whatever they need. */
  private demand(stack: number[]): void {
    this.demandDepth++;
    try {
      while (stack.length > 0 && !this.stopped) {
        const i = stack.pop()!;
        if (this.demanded[i]) continue;
        this.demanded[i] = 1;
        this.unfinished++;
        // Engine bookkeeping that throws fails its node (and so the run) instead of stalling it; so in
        // `ready` and `complete`. Plain try/catch rather than a guard taking a closure: one closure per
        // node per step showed in allocation profiles of large workflows.
        try {
          this.demandOne(i, stack);
        } catch (err) {
          this.failNode(i, err);
        }
      }
    } finally {
      this.demandDepth--;
    }
    this.settleIfDone();
  }

  /** A node just demanded: from the cache (or a resumed run), or waiting for the sources of its eager inputs. */
  private demandOne(i: number, stack: number[]): void {
    const node = this.list[i];
    const cached = this.options.reuse?.get(node.id) ?? this.entry(i).outputs;
    if (cached) {
      this.budget.hold(node.id, cached);
      this.finish(i, cached, CACHED);
      this.reportCachedSources(i);
      return;
    }
    // Links are engine-made objects with own keys only: for-in walks them without a key array.
    const { links, definition } = node;
    let count = 0;
    for (const input in links) {
      if (Object.hasOwn(links, input) && !definition.inputs[input].lazy && this.waitOn(i, this.sourceOf(links[input]), stack)) count++;
    }
    this.waitFor(i, count);
  }

  /** Fails the run naming node `i`, or the node a link of it names that the graph lacks. */
  private failNode(i: number, err: unknown): void {
    if (this.settled) return;
    const message = err instanceof Error ? err.message : String(err);
    const missing = err instanceof MissingNode;
    const id = missing ? err.id : this.list[i].id;
    if (!missing && this.isPlanned(i)) {
      this.status[i] = FAILED;
      (this.errors ??= new Map()).set(i, message);
    }
    this.emit({ type: 'node:error', runId: this.options.runId, nodeId: id, message });
    const error = { node: id, message: `node '${id}' (${missing ? 'unknown type' : this.list[i].definition.type}) failed: ${message}` };
    this.stop({ status: 'failed', error: crashed(err) ? { ...error, crashed: true } : error });
  }

  /**
   * A cached node needs none of its sources, so they are not demanded; those still in the cache are
   * reported cached (with their outputs, for the editor's previews) instead of looking skipped.
   * Lazy inputs are not followed: which branch a cached switch took is not known.
   */
  private reportCachedSources(i: number): void {
    const stack = [i];
    while (stack.length > 0) {
      const { links, definition } = this.list[stack.pop()!];
      for (const input in links) {
        if (!Object.hasOwn(links, input) || definition.inputs[input].lazy) continue;
        const source = this.sourceOf(links[input]);
        if (this.demanded[source] || !this.isPlanned(source) || this.status[source] !== PENDING) continue;
        const id = this.list[source].id;
        const outputs = this.options.reuse?.get(id) ?? this.entry(source).outputs;
        if (!outputs) continue;
        this.status[source] = CACHED;
        this.emit({ type: 'node:cached', runId: this.options.runId, nodeId: id, outputs });
        stack.push(source);
      }
    }
  }

  /**
   * Makes node `i` wait for `source`, pushing the source to be demanded; false when there is nothing to wait
   * for: the source is done, or `i` already waits for it (a node linked twice to one source waits once; it
   * is then the source's last waiter, as nothing else registers while a node registers its sources).
   */
  private waitOn(i: number, source: number, stack: number[]): boolean {
    if (this.outputs[source]) return false;
    const first = this.waiter[source] - 1;
    if (first < 0) {
      this.waiter[source] = i + 1;
    } else {
      const more = this.moreWaiters?.get(source);
      if ((more ? more[more.length - 1] : first) === i) return false;
      if (more) more.push(i);
      else (this.moreWaiters ??= new Map()).set(source, [i]); // an array of one, not one grown by push (16 slots)
    }
    stack.push(source);
    return true;
  }

  /** Node `i` waits for `count` sources; with none, it is ready now. */
  private waitFor(i: number, count: number): void {
    this.pending[i] = count;
    if (count === 0) this.ready(i);
  }

  private ready(i: number): void {
    if (this.stopped) return;
    try {
      const node = this.list[i];
      if (node.definition.lazy && !this.lazyWanted?.has(i)) return this.askLazy(i, node);
      this.launch(i, node);
    } catch (err) {
      this.failNode(i, err);
    }
  }

  /** A lazy node whose eager inputs are ready: its `lazy()` names the lazy inputs it needs, which it then waits for. */
  private askLazy(i: number, node: GraphNode): void {
    const asked: unknown = node.definition.lazy!(this.collectInputs(i, node), node.params);
    if (!Array.isArray(asked)) throw new Error('its lazy() did not return a list of input names');
    const wanted = new Set(asked.filter((input): input is string => typeof input === 'string' && Object.hasOwn(node.links, input)));
    (this.lazyWanted ??= new Map()).set(i, wanted);
    const stack: number[] = [];
    let count = 0;
    for (const input of wanted) if (this.waitOn(i, this.sourceOf(node.links[input]), stack)) count++;
    this.waitFor(i, count);
    if (stack.length > 0) this.demand(stack);
  }

  /**
   * Starts a node. A run that returns a promise is handled when it settles; one that returns (or throws)
   * at once is queued and handled by `drain` in order, as a promise's would be: no promise or microtask
   * per node, and no call stack growing along a chain.
   */
  private launch(i: number, node: GraphNode): void {
    const at = Date.now();
    this.status[i] = RUNNING;
    this.startedAt[i] = at;
    this.startedMs[i] = performance.now();
    this.running++;
    if (this.options.emit) this.emit({ type: 'node:started', runId: this.options.runId, nodeId: node.id, at });
    let returned: unknown;
    let threw = false;
    try {
      returned = this.runNode(node, this.collectInputs(i, node));
    } catch (error) {
      returned = error;
      threw = true;
    }
    if (threw || !isThenable(returned)) this.returned.push(i, returned, threw, performance.now() - this.startedMs[i]);
    else this.completeWhenSettled(i, returned);
  }

  /**
   * A run that returned a promise, handled when it settles. Its own method: callbacks in `launch` would make
   * every call of it allocate the variables they capture, promise or not (a context per node in profiles).
   */
  private completeWhenSettled(i: number, running: PromiseLike<unknown>): void {
    Promise.resolve(running).then(
      (outputs) => {
        this.complete(i, false, outputs, performance.now() - this.startedMs[i]);
        this.drain();
      },
      (error) => {
        this.complete(i, true, error, performance.now() - this.startedMs[i]);
        this.drain();
      },
    );
  }

  /** Handles the queued results of runs that did not return a promise; what they start is queued behind them. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    const queue = this.returned;
    while (queue.head < queue.size) {
      const at = queue.head++;
      const node = queue.nodes[at];
      const threw = queue.threw[at];
      const value = queue.values[at];
      const ms = queue.ms[at];
      queue.values[at] = undefined;
      // Emptied: start over before handling the run, whose completion may queue the next (a chain queues one
      // node at a time): the queue then keeps one slot, not one per node.
      if (queue.head === queue.size) queue.head = queue.size = 0;
      this.complete(node, threw, value, ms);
    }
    this.draining = false;
  }

  /** A node's run is over (`value`: what it returned, or threw): its outputs are held, cached and passed on, or its failure stops the run. */
  private complete(i: number, threw: boolean, value: unknown, ms: number): void {
    if (this.settled) return; // left behind after a stop: the run has ended without it
    const id = this.list[i].id;
    this.ms[i] = ms;
    this.running--;
    if (threw) return this.failed(i, value);
    const problem = notOutputs(value);
    if (problem) return this.failed(i, problem);
    const outputs = value as PortValues;
    if (this.stopped) {
      this.status[i] = CANCELLED;
      this.budget.release(id);
      this.settleIfDone();
      return;
    }
    try {
      this.budget.hold(id, outputs);
      this.entry(i).fill(outputs);
      this.finish(i, outputs, SUCCEEDED);
    } catch (err) {
      this.failNode(i, err);
    }
    this.settleIfDone();
  }

  /** A run that threw: cancelled when the run was being stopped anyway, else the node fails the run. */
  private failed(i: number, error: unknown): void {
    this.budget.release(this.list[i].id);
    if (this.stopped) {
      this.status[i] = CANCELLED;
      this.settleIfDone();
    } else {
      this.failNode(i, error);
    }
  }

  /**
   * Calls `run`, once per element when scalar inputs are fed lists (list outputs of each call are
   * concatenated); once with the lists when every such input is `batched`. Returns what `run` returns: a promise only when the node's work is asynchronous.
   */
  private runNode(node: GraphNode, inputs: PortValues): unknown {
    const { definition, params } = node;
    if (definition.output) return this.runOutput(node, inputs);
    // No mapped input (the usual case), or only batched ones: the node runs once as it is.
    if (node.mapped.length === 0 || allBatched(node)) return definition.run!(inputs, params, this.context(node.id, 0, 1));
    return this.runMapped(node, inputs);
  }

  /** An output node reports its input's value, once its own `run` (if any) is done. */
  private runOutput(node: GraphNode, inputs: PortValues): unknown {
    const reported = { value: inputs[portsOf(node.definition).inputs[0]] };
    const ran: unknown = node.definition.run?.(inputs, node.params, this.context(node.id, 0, 1));
    return isThenable(ran) ? Promise.resolve(ran).then(() => reported) : reported;
  }

  private async runMapped(node: GraphNode, inputs: PortValues): Promise<PortValues> {
    const { definition, params } = node;
    const run = definition.run!;
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
    return new RunNodeContext(this, nodeId, part, parts);
  }

  /** A node's progress, as one part of `parts` when it runs once per list element; silent once the run has ended. */
  reportProgress(nodeId: string, step: number, total: number, part: number, parts: number): void {
    if (!this.settled) this.emit({ type: 'node:progress', runId: this.options.runId, nodeId, step: part * total + step, total: parts * total });
  }

  private collectInputs(i: number, node: GraphNode): PortValues {
    const inputs: PortValues = {};
    const { links, definition } = node;
    const wanted = definition.lazy ? this.lazyWanted?.get(i) : undefined;
    for (const input in links) {
      if (!Object.hasOwn(links, input)) continue;
      const link = links[input];
      const port = definition.inputs[input];
      if (port.lazy && !wanted?.has(input)) continue;
      const linked = linkedNode(this.graph, link);
      const source = linked && this.outputs[linked.index];
      if (!source) continue;
      const value = source[link.output];
      inputs[input] = isList(port.type) && !Array.isArray(value) ? [value] : value;
    }
    return inputs;
  }

  private finish(i: number, outputs: PortValues, status: typeof SUCCEEDED | typeof CACHED): void {
    const { runId, emit } = this.options;
    this.outputs[i] = outputs;
    const reported = this.status[i] === CACHED; // already reported by reportCachedSources
    this.status[i] = status;
    if (emit) {
      const nodeId = this.list[i].id;
      if (status === SUCCEEDED) this.emit({ type: 'node:finished', runId, nodeId, ms: this.ms[i], outputs });
      else if (!reported) this.emit({ type: 'node:cached', runId, nodeId, outputs });
    }
    this.unfinished--;
    const waiter = this.waiter[i] - 1;
    this.waiter[i] = 0;
    const more = this.moreWaiters?.get(i);
    if (more) this.moreWaiters!.delete(i);
    if (waiter >= 0 && --this.pending[waiter] === 0) this.ready(waiter);
    if (more) for (const other of more) if (--this.pending[other] === 0) this.ready(other);
    this.settleIfDone();
  }

  private stop(reason: NonNullable<RunExecution['stopped']>): void {
    if (this.stopped) return;
    this.stopped = reason;
    this.controller?.abort(stopError(reason));
    if (this.running > 0) this.graceTimer = setTimeout(() => this.abandonRunning(), this.options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
    this.settleIfDone();
  }

  /** The signal nodes get: aborted once the run stops (at once, for one made after). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.stopped) this.controller.abort(stopError(this.stopped));
    }
    return this.controller.signal;
  }

  /** Nodes that did not stop when asked: the run ends without them, and whatever they return later is dropped. */
  private abandonRunning(): void {
    const grace = this.options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
    for (const { index } of this.plan.nodes) {
      if (this.status[index] !== RUNNING) continue;
      this.status[index] = CANCELLED;
      (this.errors ??= new Map()).set(index, `did not stop within ${grace} ms of the run stopping; its result is dropped`);
    }
    this.running = 0;
    this.settleIfDone();
  }

  private settleIfDone(): void {
    if (this.settled || this.running > 0 || this.demandDepth > 0) return;
    if (!this.stopped && this.unfinished > 0) {
      // Nothing runs and nothing is being demanded, yet nodes wait: nothing can wake them.
      this.failNode(this.waitingNode(), new Error('waits for inputs that can never arrive (engine fault)'));
      return;
    }
    this.settled = true;
    clearTimeout(this.graceTimer);
    this.watch?.stop();
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
    const ms = performance.now() - this.runStartedMs;
    this.emit({ type: 'run:finished', runId: this.options.runId, status, ms, ...(error && { error }) });
    this.settle({ runId: this.options.runId, status, ms, ...(error && { error }), nodes: this.records(status === 'cancelled' ? CANCELLED : SKIPPED), outputs });
  }

  /**
   * A demanded node still pending (else the first output node), for a run stalled. Its own method: a callback
   * capturing `this` in settleIfDone made every call of it allocate a context, twice per node of a run.
   */
  private waitingNode(): number {
    const waiting = this.plan.nodes.find(({ index }) => this.demanded[index] && this.status[index] === PENDING);
    return (waiting ?? this.plan.outputs[0]).index;
  }

  /** The plan's nodes' records, made once the run has ended; a node still pending then is `pendingBecomes`. */
  private records(pendingBecomes: number): Record<string, NodeRecord> {
    const records: Record<string, NodeRecord> = {};
    const planned = this.plan.nodes;
    for (let n = 0; n < planned.length; n++) {
      const { id, index } = planned[n];
      const status = this.status[index];
      const startedAt = this.startedAt[index];
      const ms = this.ms[index];
      defineOwn(records, id, {
        status: NODE_STATUSES[status === PENDING ? pendingBecomes : status],
        startedAt: Number.isNaN(startedAt) ? undefined : startedAt,
        ms: Number.isNaN(ms) ? undefined : ms,
        error: this.errors?.get(index),
      });
    }
    return records;
  }

  /** Output values by output name, or the output node whose value cannot be reported. */
  private collectOutputs(): { outputs: Record<string, RunOutput> } | { error: { node: string; message: string } } {
    const outputs: Record<string, RunOutput> = {};
    for (const output of this.plan.outputs) {
      const id = output.id;
      try {
        const values = this.outputs[output.index];
        const link = output.links[portsOf(output.definition).inputs[0]];
        if (!values) throw new Error('it never received its value');
        const type = this.list[this.sourceOf(link)].outputTypes[link.output];
        defineOwn(outputs, outputName(output), { node: id, kind: output.definition.output!, type, value: values.value });
      } catch (err) {
        return { error: { node: id, message: `node '${id}' failed: its output cannot be reported (${(err as Error).message})` } };
      }
    }
    return { outputs };
  }

  /** Whether node `i` is one of the plan's, the ones the result reports: the plan gives exactly those a cache entry. */
  private isPlanned(i: number): boolean {
    return this.plan.entries[i] !== undefined;
  }

  private entry(i: number): CacheEntry {
    const entry = this.plan.entries[i];
    if (entry === undefined) throw new Error(`the plan has no node '${this.list[i].id}'`);
    return entry;
  }

  /** Events go out through the host's listener; a listener that throws must not keep the run from ending. */
  private emit(event: RunEvent): void {
    try {
      this.options.emit?.(event);
    } catch (err) {
      process.emitWarning(`run event listener failed on ${event.type}: ${(err as Error).message}`);
    }
  }
}

/**
 * What a node's `run` gets: a class, so the methods live on its prototype and a node's context is one small
 * object (closures per node were a visible share of executing a large workflow).
 */
class RunNodeContext implements NodeContext {
  private imageBudget: ImageBudget | undefined;

  constructor(
    private readonly execution: RunExecution,
    readonly nodeId: string,
    private readonly part: number,
    private readonly parts: number,
  ) {}

  get runId(): string {
    return this.execution.options.runId;
  }

  get services(): Services {
    return this.execution.options.services;
  }

  get signal(): AbortSignal {
    return this.execution.signal;
  }

  /** Made when a node asks: most never touch images. */
  get images(): ImageBudget {
    return (this.imageBudget ??= this.execution.budget.forNode(this.nodeId));
  }

  progress(step: number, total: number): void {
    this.execution.reportProgress(this.nodeId, step, total, this.part, this.parts);
  }
}

/**
 * Sets an own property named by outside input, as `Object.fromEntries` would (without an entry array per
 * key, which showed in profiles of large runs): `__proto__` becomes a plain key, never the prototype, and
 * `constructor` or `toString` merely shadow Object.prototype's.
 */
function defineOwn<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

/** Whether every mapped input of a node takes its list whole (`batched`). */
function allBatched(node: GraphNode): boolean {
  return node.mapped.every((input) => node.definition.inputs[input].batched);
}

/** Why a stopped run's nodes are told to stop. */
function stopError(reason: { status: 'failed' | 'cancelled' }): Error {
  return new Error(reason.status === 'cancelled' ? 'run cancelled' : 'run failed');
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** Why what a run returned is not an object of outputs, or undefined when it is one. */
function notOutputs(value: unknown): Error | undefined {
  if (typeof value === 'object' && value !== null) return undefined;
  return new Error(`run() returned ${value === null ? 'null' : typeof value}, not an object of outputs`);
}

/**
 * A node crashed when it threw something other than a deliberate error: JavaScript's own errors for
 * broken code (a TypeError reading undefined, say) or a non-Error value. Nodes refuse bad inputs with
 * plain Errors.
 */
function crashed(err: unknown): boolean {
  return !(err instanceof Error) || err instanceof TypeError || err instanceof ReferenceError || err instanceof SyntaxError || err instanceof EvalError;
}
