// Runs and history: starting a run, following it on the nodes, the server's queue, this workflow's
// history and the run whose outputs the side panel shows.

import { api, type RunDetail, type RunSummary } from './api';
import type { Canvas } from './canvas/canvas';
import type { ViewContext } from './canvas/view-context';
import type { Notices } from './notices';
import type { Problems } from './problems';
import { applyRunMessage, applyRunRecord } from './run-state';
import { runFeed, type FeedMessage } from './socket';
import { Observable } from './store';
import type { RunState, Workflow } from '../../engine/contract';

export interface CurrentRun {
  id: string;
  status: RunState;
}

export interface RunEntry extends RunSummary {
  /** Started from this page (kept in the history even when the workflow is not saved). */
  local?: boolean;
  /** The prompt texts the run used (its snapshot's source texts, and text run inputs). */
  prompts?: string[];
}

/**
 * The texts a run started from: string run inputs, and the `text` params of nodes with no links in
 * (prompts). Read from the run's own snapshot, never from the canvas.
 */
export function runPrompts(run: RunDetail): string[] {
  const texts = new Set<string>();
  for (const value of Object.values(run.inputs ?? {})) if (typeof value === 'string' && value.trim()) texts.add(value.trim());
  for (const node of Object.values(run.workflow?.nodes ?? {})) {
    const text = node.params?.text;
    if (typeof text === 'string' && text.trim() && Object.keys(node.inputs ?? {}).length === 0) texts.add(text.trim());
  }
  return [...texts];
}

/** What runs need to know of the open document. */
export interface RunsHost {
  canvas(): Canvas | null;
  /** The saved workflow's id, or null for one never saved. */
  docId(): string | null;
  /** The saved workflow's id when the canvas is that workflow unchanged; else null. */
  savedUnchanged(): string | null;
  workflow(): Workflow;
  /** True while the canvas shows an older run's graph instead of the document's. */
  viewingRun(): boolean;
}

export class Runs {
  readonly current = new Observable<CurrentRun | null>(null);
  /** Runs of this workflow, newest first. */
  readonly history = new Observable<RunEntry[]>([]);
  /** Runs queued or running on the server (any workflow). */
  readonly queue = new Observable<RunEntry[]>([]);
  /** The run whose outputs the side panel shows. */
  readonly shown = new Observable<RunDetail | null>(null);

  private stopWatching: (() => void) | null = null;
  /** Finished runs' records (they never change), for the history's prompts. */
  private readonly details = new Map<string, RunDetail>();
  private localRuns: string[] = [];
  /** Runs whose end was already announced (the end can be heard both live and in a late `run:state`). */
  private readonly finished = new Set<string>();

  constructor(
    private readonly ctx: ViewContext,
    private readonly host: RunsHost,
    private readonly notices: Notices,
    private readonly problems: Problems,
  ) {}

  /** Listens to the server's feed (all runs) for the queue. */
  follow(): void {
    runFeed.onFeed((m) => this.onFeedMessage(m));
    void this.refreshQueue();
  }

  /** Another document is shown: nothing of the last one's runs stays. */
  reset(): void {
    this.stopRunWatch();
    this.current.set(null);
    this.shown.set(null);
    this.localRuns = [];
    void this.refreshHistory();
  }

  private nodeIds(): string[] {
    return this.host.canvas()?.nodes().map((n) => n.id) ?? [];
  }

  async run(): Promise<void> {
    if (!this.host.canvas()) return;
    if (this.host.viewingRun()) {
      this.notices.toast('info', 'This is an older run’s graph: restore this version or go back first.');
      return;
    }
    const current = this.current.get();
    if (current && (current.status === 'queued' || current.status === 'running')) {
      this.notices.toast('info', 'A run is already in progress; cancel it first or wait.');
      return;
    }
    this.problems.set([]);
    // A saved, unchanged workflow runs by id, so the run is recorded in that workflow's history;
    // otherwise the canvas runs as it is (and the run is listed here for this page).
    // An edited saved workflow runs as it is on the canvas and is still recorded in that workflow's
    // history (with the graph it ran as its snapshot); a new one is listed here for this page.
    const id = this.host.savedUnchanged();
    const docId = this.host.docId();
    const body = id ? { workflowId: id } : docId ? { workflow: this.host.workflow(), editedFrom: docId } : { workflow: this.host.workflow() };
    let runId: string;
    try {
      runId = await api.startRun(body);
    } catch (err) {
      this.problems.report('Cannot run', err);
      return;
    }
    this.localRuns.unshift(runId);
    this.current.set({ id: runId, status: 'queued' });
    this.history.update((list) => [{ id: runId, status: 'queued', createdAt: Date.now(), local: true, workflowId: this.host.docId() }, ...list.filter((r) => r.id !== runId)]);
    this.watchRun(runId);
  }

  private watchRun(runId: string): void {
    this.stopRunWatch();
    this.stopWatching = runFeed.watch(runId, (message) => {
      if (this.current.get()?.id !== runId) return;
      applyRunMessage(this.ctx.runStates, message, () => this.nodeIds());
      if (message.type === 'run:state') {
        // Watching began after the run moved on (or even finished): its state so far stands in for the missed events.
        const { run } = message;
        this.setStatus(runId, run.status);
        if (run.status !== 'queued' && run.status !== 'running') {
          this.onOwnRunEnd({ runId: run.id, status: run.status, ms: run.ms, error: typeof run.error === 'string' ? { node: null, message: run.error } : run.error });
        }
        return;
      }
      if (message.type === 'run:started') this.setStatus(runId, 'running');
      if (message.type === 'run:finished') this.onOwnRunEnd(message);
    });
  }

  /**
   * The watched run's status, on the run button and its history row alike: the feed's own
   * `run:started` can come before the row exists (a run starts before `POST /api/runs` answers).
   */
  private setStatus(runId: string, status: RunState): void {
    this.current.update((r) => (r?.id === runId ? { ...r, status } : r));
    this.setRowStatus(runId, status);
  }

  private setRowStatus(runId: string, status: RunState): void {
    this.history.update((list) => list.map((r) => (r.id === runId ? { ...r, status } : r)));
  }

  private stopRunWatch(): void {
    this.stopWatching?.();
    this.stopWatching = null;
  }

  /** The watched run ended: from its `run:finished` message, or its state when watching began late. */
  private onOwnRunEnd(end: { runId: string; status: RunState; ms?: number | null; error?: { message: string } | null }): void {
    this.setStatus(end.runId, end.status);
    if (this.finished.has(end.runId)) return;
    this.finished.add(end.runId);
    this.stopRunWatch();
    if (end.status === 'succeeded') this.notices.toast('success', `Run finished in ${formatDuration(end.ms)}`);
    else if (end.status === 'cancelled') this.notices.toast('info', 'Run cancelled');
    else this.notices.toast('error', `Run ${end.status}${end.error ? `: ${end.error.message}` : ''}`);
    void this.refreshHistory();
    void this.settleRun(end.runId);
  }

  /**
   * After a run ends: its record shows in the side panel and, once more, on the nodes. Events sent
   * before the editor began watching (a quick run can end before `POST /api/runs` answers) are
   * covered by the record.
   */
  private async settleRun(id: string): Promise<void> {
    let run: RunDetail;
    try {
      run = await api.getRun(id);
    } catch {
      return;
    }
    this.shown.set(run);
    if (this.host.canvas() && this.current.get()?.id === id) applyRunRecord(this.ctx.runStates, run, this.nodeIds(), true);
  }

  /** Cancels the current run (when it is still going). */
  async cancel(): Promise<void> {
    const run = this.current.get();
    if (!run || (run.status !== 'queued' && run.status !== 'running')) return;
    if (await this.cancelRun(run.id)) this.notices.toast('info', 'Cancelling…');
  }

  async cancelRun(id: string): Promise<boolean> {
    try {
      await api.cancelRun(id);
      return true;
    } catch (err) {
      this.problems.report('Cannot cancel', err);
      return false;
    }
  }

  private onFeedMessage(message: FeedMessage): void {
    const status: RunState | null =
      message.type === 'run:queued' ? 'queued' : message.type === 'run:started' ? 'running' : message.type === 'run:finished' ? message.status : null;
    if (!status) return;
    this.queue.update((list) => {
      const rest = list.filter((r) => r.id !== message.runId);
      if (status !== 'queued' && status !== 'running') return rest;
      const existing = list.find((r) => r.id === message.runId);
      return [...rest, { ...(existing ?? { createdAt: Date.now() }), id: message.runId, status }].sort(byCreated);
    });
    this.setRowStatus(message.runId, status);
  }

  async refreshQueue(): Promise<void> {
    try {
      const [running, queued] = await Promise.all([api.listRuns({ status: 'running', limit: 50 }), api.listRuns({ status: 'queued', limit: 100 })]);
      this.queue.set([...running, ...queued].sort(byCreated));
    } catch {
      /* the panel shows what the feed brings */
    }
  }

  async refreshHistory(): Promise<void> {
    const id = this.host.docId();
    try {
      const saved = id ? await api.listRuns({ workflowId: id, limit: 30 }) : [];
      const known = new Set(saved.map((r) => r.id));
      const local = this.localRuns.filter((r) => !known.has(r)).slice(0, 20);
      const rows = [...saved, ...local.map((r): RunSummary => ({ id: r, status: 'queued' }))];
      const details = await Promise.all(rows.map((r) => this.detail(r.id)));
      const merged = rows
        .map((r, i): RunEntry | null => {
          const detail = details[i];
          if (!detail) return known.has(r.id) ? r : null;
          return { ...r, ...detail, local: !known.has(r.id) || undefined, prompts: runPrompts(detail) };
        })
        .filter((r): r is RunEntry => r !== null)
        .sort((a, b) => -byCreated(a, b));
      this.history.set(merged);
    } catch {
      /* keep what is shown */
    }
  }

  /** A run's record; finished ones are kept, as they never change. */
  private async detail(id: string): Promise<RunDetail | null> {
    const kept = this.details.get(id);
    if (kept) return kept;
    try {
      const run = await api.getRun(id);
      if (run.status !== 'queued' && run.status !== 'running') this.details.set(id, run);
      return run;
    } catch {
      return null;
    }
  }

  /** Shows a run's outputs in the side panel; returns its record (null when it cannot be read). */
  async show(id: string): Promise<RunDetail | null> {
    let run: RunDetail;
    try {
      run = await api.getRun(id);
    } catch (err) {
      this.problems.report('Cannot load the run', err);
      return null;
    }
    this.shown.set(run);
    return run;
  }

  /** Shows a run's node states and outputs on the canvas (whose graph is the run's). */
  applyToCanvas(run: RunDetail): void {
    if (!this.host.canvas() || this.current.get()?.id === run.id) return;
    this.stopRunWatch();
    this.current.set({ id: run.id, status: run.status });
    applyRunRecord(this.ctx.runStates, run, this.nodeIds());
  }
}

function byCreated(a: { createdAt?: string | number | null }, b: { createdAt?: string | number | null }): number {
  return toTime(a.createdAt) - toTime(b.createdAt);
}

function toTime(t: string | number | null | undefined): number {
  if (typeof t === 'number') return t;
  if (typeof t === 'string') return Date.parse(t) || 0;
  return 0;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
