// Run messages → ComfyUI's `/ws` messages. A prompt's execution messages go to the client that queued
// it (its `client_id`), as in ComfyUI; the queue's status goes to every client.
import type { Catalog } from '../../engine/node';
import type { ArtifactStore } from '../artifacts';
import { isImageRef, type JsonValue } from '../json-values';
import type { RunMessage } from '../../engine/contract';
import type { RunManager } from '../run-manager';
import { endMessage, flatten, nodeOutput } from './history';
import type { ComfyPrompt, PromptBook } from './prompts';
import type { ComfySockets } from './socket';

export interface RelayOptions {
  manager: RunManager;
  book: PromptBook;
  sockets: ComfySockets;
  artifacts: ArtifactStore;
  catalog: Catalog;
  onError(err: unknown): void;
}

/** What a running prompt's messages need to remember (kept whether or not its client is connected now). */
interface Progress {
  prompt: ComfyPrompt;
  started: boolean;
  /** Nodes started and not yet done, in the order they started: the last is the one `executing` named last. */
  running: string[];
  executed: string[];
  /** Cache hits not yet told, and the `executed` messages of the output nodes among them. */
  cached: string[];
  cachedOutputs: Record<string, unknown>[];
}

export class ComfyRelay {
  /** Messages go out one at a time, in the order the run manager emitted them. */
  private chain: Promise<void> = Promise.resolve();
  /** Submissions under way: a message of a run not yet in the book waits for them. */
  private readonly submitting = new Set<Promise<unknown>>();
  private readonly progress = new Map<string, Progress>();
  private readonly unsubscribe: () => void;

  constructor(private readonly options: RelayOptions) {
    this.unsubscribe = options.manager.onMessage((message) => {
      if (this.concerns(message)) this.chain = this.chain.then(() => this.relay(message)).catch(options.onError);
    });
  }

  /** Runs a submission so that the messages of the run it queues wait until the run is in the book. */
  async whileSubmitting<T>(work: Promise<T>): Promise<T> {
    this.submitting.add(work);
    try {
      return await work;
    } finally {
      this.submitting.delete(work);
    }
  }

  /** Runs queued or running, as ComfyUI's `queue_remaining` counts them. */
  async queueRemaining(): Promise<number> {
    const { waiting, running } = await this.options.manager.queue.stats();
    return waiting + running;
  }

  /**
   * What a client hears when it connects: the queue's status and, as ComfyUI tells a client that reconnects
   * while its prompt runs, `executing` with the node its prompts execute now.
   */
  async greet(clientId: string): Promise<void> {
    await this.sendStatus(clientId, { sid: clientId });
    for (const { prompt, running } of this.progress.values()) {
      const node = running.at(-1);
      if (prompt.clientId === clientId && node !== undefined) this.options.sockets.send(clientId, 'executing', { ...executing(node), prompt_id: prompt.promptId });
    }
  }

  /** `status` to one client, or (null) all. */
  async sendStatus(clientId: string | null, extra: Record<string, unknown> = {}): Promise<void> {
    this.options.sockets.send(clientId, 'status', { status: { exec_info: { queue_remaining: await this.queueRemaining() } }, ...extra });
  }

  close(): void {
    this.unsubscribe();
  }

  private async promptOf(runId: string): Promise<ComfyPrompt | undefined> {
    const known = this.options.book.ofRun(runId);
    if (known || this.submitting.size === 0) return known;
    await Promise.allSettled([...this.submitting]);
    return this.options.book.ofRun(runId);
  }

  /**
   * Whether a message may have something to tell ComfyUI's clients: its run is (or may yet be) a prompt, or it
   * changes the queue while clients listen. The others (a trigger's runs with no /ws client) skip the chain.
   */
  private concerns(message: RunMessage): boolean {
    if (this.submitting.size > 0 || this.options.book.ofRun(message.runId)) return true;
    return changesQueue(message) && !this.options.sockets.empty;
  }

  private async relay(message: RunMessage): Promise<void> {
    try {
      const prompt = await this.promptOf(message.runId);
      if (prompt?.clientId) await this.toClient(message, prompt, prompt.clientId);
      if (changesQueue(message) && !this.options.sockets.empty) await this.sendStatus(null);
    } finally {
      if (message.type === 'run:finished') this.progress.delete(message.runId);
    }
  }

  private async toClient(message: RunMessage, prompt: ComfyPrompt, clientId: string): Promise<void> {
    const { sockets } = this.options;
    const prompt_id = prompt.promptId;
    const send = (type: string, data: Record<string, unknown>) => sockets.send(clientId, type, { ...data, prompt_id });
    const progress = this.progress.get(message.runId) ?? { prompt, started: false, running: [], executed: [], cached: [], cachedOutputs: [] };
    this.progress.set(message.runId, progress);
    // The engine reports cache hits one by one as it meets them; ComfyUI tells them in one
    // `execution_cached`, then the cached outputs. They go out before anything else does.
    if (message.type !== 'node:cached' && progress.cached.length > 0) {
      send('execution_cached', { nodes: progress.cached.splice(0), timestamp: Date.now() });
      for (const output of progress.cachedOutputs.splice(0)) send('executed', output);
    }
    if (message.type === 'node:finished' || message.type === 'node:error') progress.running = progress.running.filter((id) => id !== message.nodeId);
    switch (message.type) {
      case 'run:queued':
        break;
      case 'run:started':
        progress.started = true;
        send('execution_start', { timestamp: message.at });
        break;
      case 'node:started':
        progress.running.push(message.nodeId);
        send('executing', executing(message.nodeId));
        break;
      case 'node:progress':
        send('progress', { value: message.step, max: message.total, node: message.nodeId });
        break;
      case 'node:cached':
      case 'node:finished': {
        progress.executed.push(message.nodeId);
        const kind = this.kindOf(prompt, message.nodeId);
        const executed = kind && { node: message.nodeId, display_node: message.nodeId, output: nodeOutput(kind, message.outputs.value ?? null) };
        if (message.type === 'node:cached') {
          progress.cached.push(message.nodeId);
          if (executed) progress.cachedOutputs.push(executed);
        } else if (executed) send('executed', executed);
        else await this.sendPreviews(clientId, Object.values(message.outputs));
        break;
      }
      case 'node:error':
        // The run's end carries the error (execution_error), as ComfyUI reports it once.
        break;
      case 'run:finished':
        // A prompt taken off the queue before it started ends without execution messages, as in ComfyUI. One
        // that ended otherwise before starting (lost with Redis, refused at its start) still tells its client,
        // which waits for `executing` with no node.
        if (!progress.started) {
          if (message.status === 'cancelled') break;
          send('execution_start', { timestamp: Date.now() });
        }
        if (message.status === 'succeeded') send('execution_success', { timestamp: Date.now() });
        else {
          const end = { status: message.status, error: message.error, executed: progress.executed, executing: progress.running.at(-1) ?? null, at: Date.now() };
          const [type, data] = endMessage(end, (id) => prompt.types.get(id), prompt_id);
          send(type, data);
        }
        send('executing', { node: null });
        break;
    }
  }

  /** The output kind of a node of this prompt (undefined: not an output node). */
  private kindOf(prompt: ComfyPrompt, nodeId: string) {
    const type = prompt.types.get(nodeId);
    return type === undefined ? undefined : this.options.catalog.get(type)?.output;
  }

  /** Intermediate images (those of nodes that are not outputs) as binary preview frames. */
  private async sendPreviews(clientId: string, values: JsonValue[]): Promise<void> {
    if (!this.options.sockets.has(clientId)) return;
    for (const item of flatten(values)) {
      if (isImageRef(item)) this.options.sockets.sendPreview(clientId, await this.options.artifacts.read(item.artifact));
    }
  }
}

/** `executing`'s node fields: picflow shows every node under its own id. */
function executing(node: string): { node: string; display_node: string } {
  return { node, display_node: node };
}

function changesQueue(message: RunMessage): boolean {
  return message.type === 'run:queued' || message.type === 'run:started' || message.type === 'run:finished';
}
