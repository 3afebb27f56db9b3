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

/** One node's part in a run: the scheduler's bookkeeping in one object, so following a link costs no lookups. */
interface NodeState {
  readonly id: string;
  /** Undefined for an id the graph lacks: touching it fails the run naming it. */
  readonly node: GraphNode | undefined;
  /** Its place in the cache; undefined for an id the plan lacks. */
  readonly entry: CacheEntry | undefined;
  /** Undefined for an id outside the plan, which the result does not report. */
  readonly record: NodeRecord | undefined;
  /** Set once the node finished or came from the cache. */
  outputs: PortValues | undefined;
  demanded: boolean;
  /** Nodes waiting for this one's outputs (once per link): the first, then any others (most nodes have one, and no list). */
  waiter: NodeState | undefined;
  moreWaiters: NodeState[] | undefined;
  /** Sources this node still waits for. */
  pending: number;
  /** For a lazy node: the lazy inputs its `lazy()` asked for, once asked. */
  lazyWanted: Set<string> | undefined;
}

/**
 * Runs that returned (or threw) without a promise, queued in order at [head, size): parallel arrays whose
 * slots are reused once the queue empties, so queuing a run allocates nothing.
 */
class ReturnedRuns {
  readonly states: NodeState[] = [];
  readonly values: unknown[] = [];
  readonly threw: boolean[] = [];
  readonly ms: number[] = [];
  head = 0;
  size = 0;

  push(state: NodeState, value: unknown, threw: boolean, ms: number): void {
    const at = this.size++;
    this.states[at] = state;
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
 * A run always ends: a throw anywhere in the bookkeeping fails the node being handled; a node that
 * ignores cancellation is left behind after `stopGraceMs`; a run that can make no more progress
 * (nothing running, nodes still waiting) fails naming a waiting node; and the result is built in
 * a way that cannot throw past `settle`.
 */
class RunExecution {
  /** By node index (GraphNode.index); a node gets one when planned or first linked to. */
  private readonly states: (NodeState | undefined)[];
  /**
   * By node index: when a running node started (performance.now()). Not a field of its state: a number field
   * that holds fractions costs each state a boxed number of its own.
   */
  private readonly startedMs: Float64Array;
  /** The plan's nodes in its order: the ones the result reports. */
  private readonly planned: NodeState[] = [];
  /** Nodes whose run returned or threw without a promise, handled in order by `drain` (see `launch`). */
  private readonly returned = new ReturnedRuns();
  private draining = false;
  /** Made when a node first asks for its signal (an AbortController costs about 5 µs, and most nodes never ask). */
  private controller: AbortController | undefined;
  private readonly startedAt = performance.now();
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
    this.states = new Array(graph.list.length);
    this.startedMs = new Float64Array(graph.list.length);
    // Every field a record gets, from the start: fields added later cost an allocation and a shape change per node.
    // By index: for-of made an iterator result per node here in allocation profiles.
    for (let i = 0; i < plan.nodes.length; i++) {
      const node = plan.nodes[i];
      this.planned.push(this.addState(node.id, node, { status: 'pending', startedAt: undefined, ms: undefined, error: undefined }));
    }
    this.budget = new PixelBudget(options.pixels ?? DEFAULT_PIXEL_LIMITS);
  }

  /** A node's state (`node` undefined: a linked id the graph lacks, whose state is its own and kept nowhere). */
  private addState(id: string, node: GraphNode | undefined, record: NodeRecord | undefined): NodeState {
    const state: NodeState = {
      id,
      node,
      entry: node && this.plan.entries[node.index],
      record,
      outputs: undefined,
      demanded: false,
      waiter: undefined,
      moreWaiters: undefined,
      pending: 0,
      lazyWanted: undefined,
    };
    if (node) this.states[node.index] = state;
    return state;
  }

  /** The state of a linked node; a link to a node outside the plan (or the graph) gets one too, and fails when it is touched. */
  private sourceOf(link: GraphLink): NodeState {
    const node = linkedNode(this.graph, link);
    return (node && this.states[node.index]) ?? this.addState(link.from, node, undefined);
  }

  /** The state of a planned node. */
  private stateOf(node: GraphNode): NodeState {
    return this.states[node.index]!;
  }

  start(): Promise<RunResult> {
    const done = new Promise<RunResult>((resolve) => (this.settle = resolve));
    const { signal, runId, watchdog } = this.options;
    if (watchdog) this.watch = watchRun(runId, watchdog, () => this.planned.filter((state) => state.record!.status === 'running').map((state) => state.id));
    this.emit({ type: 'run:started', runId, nodes: this.planned.map((state) => state.id), at: Date.now() });
    if (signal?.aborted) {
      this.stop({ status: 'cancelled' });
    } else {
      signal?.addEventListener('abort', () => this.stop({ status: 'cancelled' }), { once: true });
      this.demand(this.plan.outputs.map((node) => this.stateOf(node)));
      this.drain();
    }
    return done;
  }

  private demand(states: NodeState[]): void {
    this.demandDepth++;
    try {
      const stack = [...states];
      while (stack.length > 0 && !this.stopped) {
        const state = stack.pop()!;
        if (state.demanded) continue;
        state.demanded = true;
        this.unfinished++;
        // Engine bookkeeping that throws fails its node (and so the run) instead of stalling it; so in
        // `ready` and `complete`. Plain try/catch rather than a guard taking a closure: one closure per
        // node per step showed in allocation profiles of large workflows.
        try {
          this.demandOne(state, stack);
        } catch (err) {
          this.failNode(state.id, err);
        }
      }
    } finally {
      this.demandDepth--;
    }
    this.settleIfDone();
  }

  /** A node just demanded: from the cache (or a resumed run), or waiting for the sources of its eager inputs. */
  private demandOne(state: NodeState, stack: NodeState[]): void {
    const cached = this.options.reuse?.get(state.id) ?? this.entry(state).outputs;
    if (cached) {
      this.budget.hold(state.id, cached);
      this.finish(state, cached, 'cached');
      this.reportCachedSources(state);
      return;
    }
    const node = this.node(state);
    // Counted, then filled: an array grown from empty by push reserves 16 slots, and one listing the links'
    // names is another array per node (links are engine-made objects: for-in walks them without one).
    let count = 0;
    for (const input in node.links) if (Object.hasOwn(node.links, input) && !node.definition.inputs[input].lazy) count++;
    const eager = new Array<NodeState>(count);
    count = 0;
    for (const input in node.links) if (Object.hasOwn(node.links, input) && !node.definition.inputs[input].lazy) eager[count++] = this.sourceOf(node.links[input]);
    this.waitFor(state, eager, stack);
  }

  private failNode(id: string, err: unknown): void {
    if (this.settled) return;
    const message = err instanceof Error ? err.message : String(err);
    const node = this.graph.nodes.get(id);
    const record = node && this.states[node.index]?.record;
    if (record) {
      record.status = 'failed';
      record.error = message;
    }
    this.emit({ type: 'node:error', runId: this.options.runId, nodeId: id, message });
    const type = node?.definition.type ?? 'unknown type';
    const error = { node: id, message: `node '${id}' (${type}) failed: ${message}` };
    this.stop({ status: 'failed', error: crashed(err) ? { ...error, crashed: true } : error });
  }

  /**
   * A cached node needs none of its sources, so they are not demanded; those still in the cache are
   * reported cached (with their outputs, for the editor's previews) instead of looking skipped.
   * Lazy inputs are not followed: which branch a cached switch took is not known.
   */
  private reportCachedSources(state: NodeState): void {
    const stack = [state];
    while (stack.length > 0) {
      const node = this.node(stack.pop()!);
      for (const input in node.links) {
        if (!Object.hasOwn(node.links, input) || node.definition.inputs[input].lazy) continue;
        const source = this.sourceOf(node.links[input]);
        if (source.demanded || source.record!.status !== 'pending') continue;
        const outputs = this.options.reuse?.get(source.id) ?? this.entry(source).outputs;
        if (!outputs) continue;
        source.record!.status = 'cached';
        this.emit({ type: 'node:cached', runId: this.options.runId, nodeId: source.id, outputs });
        stack.push(source);
      }
    }
  }

  /** Registers `state` as waiting on the unfinished ones among `sources` (each once), pushing those to be demanded. */
  private waitFor(state: NodeState, sources: NodeState[], stack: NodeState[]): void {
    let count = 0;
    for (let i = 0; i < sources.length; i++) {
      const source = sources[i];
      if (sources.indexOf(source) !== i) continue; // a node linked twice is waited for once
      if (source.outputs) continue;
      if (!source.waiter) source.waiter = state;
      else if (source.moreWaiters) source.moreWaiters.push(state);
      else source.moreWaiters = [state]; // an array of one, not one grown by push (16 slots)
      count++;
      stack.push(source);
    }
    state.pending = count;
    if (count === 0) this.ready(state);
  }

  private ready(state: NodeState): void {
    if (this.stopped) return;
    try {
      const node = this.node(state);
      if (node.definition.lazy && !state.lazyWanted) return this.askLazy(state, node);
      this.launch(state, node);
    } catch (err) {
      this.failNode(state.id, err);
    }
  }

  /** A lazy node whose eager inputs are ready: its `lazy()` names the lazy inputs it needs, which it then waits for. */
  private askLazy(state: NodeState, node: GraphNode): void {
    const asked: unknown = node.definition.lazy!(this.collectInputs(state, node), node.params);
    if (!Array.isArray(asked)) throw new Error('its lazy() did not return a list of input names');
    const wanted = new Set(asked.filter((input): input is string => typeof input === 'string' && Object.hasOwn(node.links, input)));
    state.lazyWanted = wanted;
    const stack: NodeState[] = [];
    this.waitFor(state, [...wanted].map((input) => this.sourceOf(node.links[input])), stack);
    if (stack.length > 0) this.demand(stack);
  }

  /**
   * Starts a node. A run that returns a promise is handled when it settles; one that returns (or throws)
   * at once is queued and handled by `drain` in order, as a promise's would be: no promise or microtask
   * per node, and no call stack growing along a chain.
   */
  private launch(state: NodeState, node: GraphNode): void {
    const record = state.record!;
    record.status = 'running';
    record.startedAt = Date.now();
    this.startedMs[node.index] = performance.now();
    this.running++;
    if (this.options.emit) this.emit({ type: 'node:started', runId: this.options.runId, nodeId: node.id, at: record.startedAt });
    let returned: unknown;
    let threw = false;
    try {
      returned = this.runNode(node, this.collectInputs(state, node));
    } catch (error) {
      returned = error;
      threw = true;
    }
    if (threw || !isThenable(returned)) this.returned.push(state, returned, threw, performance.now() - this.startedMs[node.index]);
    else this.completeWhenSettled(state, node, returned);
  }

  /**
   * A run that returned a promise, handled when it settles. Its own method: callbacks in `launch` would make
   * every call of it allocate the variables they capture, promise or not (a context per node in profiles).
   */
  private completeWhenSettled(state: NodeState, node: GraphNode, running: PromiseLike<unknown>): void {
    Promise.resolve(running).then(
      (outputs) => {
        this.complete(state, node, false, outputs, performance.now() - this.startedMs[node.index]);
        this.drain();
      },
      (error) => {
        this.complete(state, node, true, error, performance.now() - this.startedMs[node.index]);
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
      const value = queue.values[at];
      queue.values[at] = undefined;
      this.complete(queue.states[at], queue.states[at].node!, queue.threw[at], value, queue.ms[at]);
      // Emptied: start over, so a chain (each node queueing the next) keeps a queue of one, not of every node.
      if (queue.head === queue.size) queue.head = queue.size = 0;
    }
    this.draining = false;
  }

  /** A node's run is over (`value`: what it returned, or threw): its outputs are held, cached and passed on, or its failure stops the run. */
  private complete(state: NodeState, node: GraphNode, threw: boolean, value: unknown, ms: number): void {
    if (this.settled) return; // left behind after a stop: the run has ended without it
    const record = state.record!;
    record.ms = ms;
    this.running--;
    if (threw) return this.failed(state, node, value);
    const problem = notOutputs(value);
    if (problem) return this.failed(state, node, problem);
    const outputs = value as PortValues;
    if (this.stopped) {
      record.status = 'cancelled';
      this.budget.release(node.id);
      this.settleIfDone();
      return;
    }
    try {
      this.budget.hold(node.id, outputs);
      this.entry(state).fill(outputs);
      this.finish(state, outputs, 'succeeded');
    } catch (err) {
      this.failNode(node.id, err);
    }
    this.settleIfDone();
  }

  /** A run that threw: cancelled when the run was being stopped anyway, else the node fails the run. */
  private failed(state: NodeState, node: GraphNode, error: unknown): void {
    this.budget.release(node.id);
    if (this.stopped) {
      state.record!.status = 'cancelled';
      this.settleIfDone();
    } else {
      this.failNode(node.id, error);
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

  private collectInputs(state: NodeState, node: GraphNode): PortValues {
    const inputs: PortValues = {};
    for (const input in node.links) {
      if (!Object.hasOwn(node.links, input)) continue;
      const link = node.links[input];
      const port = node.definition.inputs[input];
      if (port.lazy && !state.lazyWanted?.has(input)) continue;
      const linked = linkedNode(this.graph, link);
      const source = linked && this.states[linked.index]?.outputs;
      if (!source) continue;
      const value = source[link.output];
      inputs[input] = isList(port.type) && !Array.isArray(value) ? [value] : value;
    }
    return inputs;
  }

  private finish(state: NodeState, outputs: PortValues, status: 'succeeded' | 'cached'): void {
    const { runId } = this.options;
    state.outputs = outputs;
    const record = state.record!;
    const reported = record.status === 'cached'; // already reported by reportCachedSources
    record.status = status;
    if (this.options.emit) {
      if (status === 'succeeded') this.emit({ type: 'node:finished', runId, nodeId: state.id, ms: record.ms ?? 0, outputs });
      else if (!reported) this.emit({ type: 'node:cached', runId, nodeId: state.id, outputs });
    }
    this.unfinished--;
    const { waiter, moreWaiters } = state;
    state.waiter = state.moreWaiters = undefined;
    if (waiter && --waiter.pending === 0) this.ready(waiter);
    if (moreWaiters) for (const other of moreWaiters) if (--other.pending === 0) this.ready(other);
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
    for (const { record } of this.planned) {
      if (record!.status !== 'running') continue;
      record!.status = 'cancelled';
      record!.error = `did not stop within ${grace} ms of the run stopping; its result is dropped`;
    }
    this.running = 0;
    this.settleIfDone();
  }

  private settleIfDone(): void {
    if (this.settled || this.running > 0 || this.demandDepth > 0) return;
    if (!this.stopped && this.unfinished > 0) {
      // Nothing runs and nothing is being demanded, yet nodes wait: nothing can wake them.
      const waiting = this.planned.find((state) => state.demanded && state.record!.status === 'pending');
      this.failNode(waiting?.id ?? this.plan.outputs[0].id, new Error('waits for inputs that can never arrive (engine fault)'));
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
    for (const { record } of this.planned) {
      if (record!.status === 'pending') record!.status = status === 'cancelled' ? 'cancelled' : 'skipped';
    }
    const ms = performance.now() - this.startedAt;
    this.emit({ type: 'run:finished', runId: this.options.runId, status, ms, ...(error && { error }) });
    const nodes: Record<string, NodeRecord> = {};
    for (const state of this.planned) defineOwn(nodes, state.id, state.record!);
    this.settle({ runId: this.options.runId, status, ms, ...(error && { error }), nodes, outputs });
  }

  /** Output values by output name, or the output node whose value cannot be reported. */
  private collectOutputs(): { outputs: Record<string, RunOutput> } | { error: { node: string; message: string } } {
    const outputs: Record<string, RunOutput> = {};
    for (const output of this.plan.outputs) {
      const id = output.id;
      try {
        const state = this.stateOf(output);
        const node = this.node(state);
        const link = node.links[portsOf(node.definition).inputs[0]];
        if (!state.outputs) throw new Error('it never received its value');
        const type = this.node(this.sourceOf(link)).outputTypes[link.output];
        defineOwn(outputs, outputName(node), { node: id, kind: node.definition.output!, type, value: state.outputs.value });
      } catch (err) {
        return { error: { node: id, message: `node '${id}' failed: its output cannot be reported (${(err as Error).message})` } };
      }
    }
    return { outputs };
  }

  private entry(state: NodeState): CacheEntry {
    if (state.entry === undefined) throw new Error(`the plan has no node '${state.id}'`);
    return state.entry;
  }

  private node(state: NodeState): GraphNode {
    if (!state.node) throw new Error(`the graph has no node '${state.id}'`);
    return state.node;
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
