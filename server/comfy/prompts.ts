// Which picflow run each ComfyUI prompt is, and what the client sent with it.
/**
 * A prompt queued through the ComfyUI API: its ids, and what `/history` and `/queue` echo back beside
 * the prompt itself (that one is the run's workflow, turned back into API format when asked for).
 */
export interface ComfyPrompt {
  promptId: string;
  runId: string;
  number: number;
  /** Node id → class_type, for messages that name a node's type. */
  types: ReadonlyMap<string, string>;
  /** `extra_data` (when small enough to keep), with `client_id` in it as ComfyUI keeps it. */
  extraData: Record<string, unknown>;
  /** The `/ws` client that hears this prompt's execution messages. */
  clientId: string | null;
  /** The output nodes that run (`outputs_to_execute`). */
  outputs: string[];
}

/** Prompts remembered at most; older ones are still found by run id (a prompt without its own id is its run id). */
const KEPT = 2_000;

/**
 * Prompts by their id and by their run's id. A prompt's id is its run's id unless the client chose one;
 * only a chosen id needs this book to be found again (in memory, as ComfyUI keeps its history).
 */
export class PromptBook {
  private readonly byPrompt = new Map<string, ComfyPrompt>();
  private readonly byRun = new Map<string, ComfyPrompt>();

  add(prompt: ComfyPrompt): void {
    this.byPrompt.set(prompt.promptId, prompt);
    this.byRun.set(prompt.runId, prompt);
    if (this.byPrompt.size > KEPT) {
      const [oldest] = this.byPrompt.values();
      this.byPrompt.delete(oldest.promptId);
      this.byRun.delete(oldest.runId);
    }
  }

  has(promptId: string): boolean {
    return this.byPrompt.has(promptId);
  }

  ofRun(runId: string): ComfyPrompt | undefined {
    return this.byRun.get(runId);
  }

  /** The run a prompt id names: the one it was queued as, else a run of that id. */
  runIdOf(promptId: string): string {
    return this.byPrompt.get(promptId)?.runId ?? promptId;
  }

  /** The prompt id ComfyUI clients know a run by. */
  promptIdOf(runId: string): string {
    return this.byRun.get(runId)?.promptId ?? runId;
  }
}
