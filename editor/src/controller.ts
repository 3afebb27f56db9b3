// The editor's state and actions outside React: the open workflow, dirty tracking, runs, dialogs and
// messages. Components read its observables and call its methods; the canvas does the graph work.

import { api, ApiError, type RunDetail, type RunSummary, type SavedWorkflow } from './api';
import { Canvas, type ContextMenuRequest } from './canvas/canvas';
import { createViewContext, type ViewContext } from './canvas/view-context';
import { applyRunMessage, applyRunRecord } from './run-state';
import { parseWorkflow, stableStringify, WorkflowFileError } from './serialize';
import { runFeed, type RunMessage } from './socket';
import { Observable } from './store';
import { loadTemplates, type TemplateEntry } from './templates';
import type { CatalogEntry, RunStatus, Workflow, WorkflowIssue } from './types';

export interface Toast {
  id: number;
  kind: 'info' | 'error' | 'refused' | 'success';
  text: string;
}

export interface DocState {
  /** The saved workflow's id; null for a workflow never saved. */
  id: string | null;
  name: string;
  description?: string;
  trigger?: SavedTriggerInfo | null;
}

export interface SavedTriggerInfo {
  slug: string;
  mode: 'sync' | 'async';
  hasToken: boolean;
  url?: string;
}

export type Dialog =
  | { kind: 'open' }
  | { kind: 'save-as' }
  | { kind: 'templates' }
  | { kind: 'trigger' }
  | { kind: 'help' }
  | { kind: 'link'; nodeId: string }
  | { kind: 'confirm'; message: string; confirmLabel: string; resolve(ok: boolean): void };

export interface CurrentRun {
  id: string;
  status: RunStatus;
}

export interface RunEntry extends RunSummary {
  /** Started from this page (kept in the history even when the workflow is not saved). */
  local?: boolean;
}

const UNTITLED = 'untitled';

/**
 * The requests the editor needs before it can show anything: the node catalog, and the workflow the
 * URL names. Sent when the controller is made, before React's first render, so the two overlap.
 * Failures are reported where the results are awaited.
 */
function startupRequests(): { catalog: Promise<CatalogEntry[]>; workflow: { id: string; request: Promise<SavedWorkflow> } | null } {
  const catalog = api.nodes();
  catalog.catch(() => {});
  const id = new URLSearchParams(location.search).get('workflow');
  if (!id) return { catalog, workflow: null };
  const request = api.getWorkflow(id);
  request.catch(() => {});
  return { catalog, workflow: { id, request } };
}

export class Controller {
  readonly ctx: ViewContext;
  canvas: Canvas | null = null;
  readonly catalog = new Observable<CatalogEntry[]>([]);
  readonly doc = new Observable<DocState>({ id: null, name: UNTITLED });
  readonly dirty = new Observable(false);
  readonly ready = new Observable(false);
  readonly loadError = new Observable<string | null>(null);
  readonly toasts = new Observable<Toast[]>([]);
  readonly dialog = new Observable<Dialog | null>(null);
  readonly contextMenu = new Observable<ContextMenuRequest | null>(null);
  readonly currentRun = new Observable<CurrentRun | null>(null);
  /** Runs of this workflow, newest first. */
  readonly history = new Observable<RunEntry[]>([]);
  /** Runs queued or running on the server (any workflow). */
  readonly queue = new Observable<RunEntry[]>([]);
  /** The run whose outputs the side panel shows. */
  readonly shownRun = new Observable<RunDetail | null>(null);
  readonly workflowIssues = new Observable<WorkflowIssue[]>([]);
  readonly selectionCount = new Observable(0);
  readonly connected = new Observable(false);
  readonly templates = new Observable<TemplateEntry[]>([]);

  private savedSnapshot = '';
  private dirtyTimer: ReturnType<typeof setTimeout> | null = null;
  private stopWatching: (() => void) | null = null;
  private toastId = 0;
  private clipboard: Workflow | null = null;
  private localRuns: string[] = [];
  private addOffset = 0;
  /** Runs whose end was already announced (the end can be heard both live and in a late `run:state`). */
  private readonly finished = new Set<string>();

  private readonly early = startupRequests();
  /** Counts requests to show another document (see claimShow). */
  private showRequests = 0;

  constructor() {
    this.ctx = createViewContext({
      setParam: (nodeId, name, value) => this.canvas?.setParam(nodeId, name, value),
      rename: (nodeId, title) => this.canvas?.rename(nodeId, title),
      upload: (file) => api.upload(file),
      connected: (nodeId, side, key) => this.canvas?.connected(nodeId, side, key) ?? false,
      resized: () => this.canvas?.viewChanged(),
    });
  }

  // ---- start-up ----

  async start(container: HTMLElement): Promise<void> {
    let catalog: CatalogEntry[];
    try {
      catalog = await this.early.catalog;
    } catch (err) {
      this.loadError.set(`Cannot load the node catalog: ${(err as Error).message}`);
      return;
    }
    this.catalog.set(catalog);
    performance.mark('picflow:catalog');
    this.canvas = new Canvas(container, catalog, this.ctx, {
      onChange: () => this.scheduleDirtyCheck(),
      onRefused: (reason) => this.toast('refused', `Link refused: ${reason}`),
      onContextMenu: (request) => this.contextMenu.set(request),
      onSelectionChange: () => this.selectionCount.set(this.canvas?.selected().length ?? 0),
    });
    this.savedSnapshot = this.snapshotKey();
    const named = this.early.workflow;
    if (named) await this.open(named.id, { force: true, fetching: named.request });
    this.ready.set(true);

    // What the first view does not need waits until it is on screen.
    await this.canvas.settled();
    void this.loadModels();
    void loadTemplates().then((t) => this.templates.set(t));
    runFeed.onConnection((c) => this.connected.set(c));
    runFeed.onFeed((m) => this.onFeedMessage(m));
    void this.refreshQueue();
  }

  private async loadModels(): Promise<void> {
    try {
      const data = (await api.models()) as { models?: { name?: unknown; tasks?: unknown }[] };
      const list = Array.isArray(data.models) ? data.models : [];
      this.ctx.models.set(
        list
          .filter((m) => typeof m.name === 'string')
          .map((m) => ({ name: m.name as string, tasks: Array.isArray(m.tasks) ? m.tasks.map(String) : [] })),
      );
    } catch {
      /* models are optional for the editor */
    }
  }

  // ---- messages and dialogs ----

  toast(kind: Toast['kind'], text: string, ms = kind === 'error' || kind === 'refused' ? 6000 : 3000): void {
    const id = ++this.toastId;
    this.toasts.update((list) => [...list.slice(-4), { id, kind, text }]);
    setTimeout(() => this.dismissToast(id), ms);
  }

  dismissToast(id: number): void {
    this.toasts.update((list) => list.filter((t) => t.id !== id));
  }

  confirm(message: string, confirmLabel = 'Discard changes'): Promise<boolean> {
    return new Promise((resolve) => {
      this.dialog.set({
        kind: 'confirm',
        message,
        confirmLabel,
        resolve: (ok) => {
          this.dialog.set(null);
          resolve(ok);
        },
      });
    });
  }

  private async confirmDiscard(): Promise<boolean> {
    if (!this.dirty.get()) return true;
    return this.confirm(`"${this.doc.get().name}" has unsaved changes. Discard them?`);
  }

  // ---- dirty tracking ----

  private snapshotKey(): string {
    if (!this.canvas) return '';
    return stableStringify(this.workflow());
  }

  /** The canvas as workflow JSON v1, under the document's name. */
  workflow(): Workflow {
    const { name, description } = this.doc.get();
    return this.canvas!.toWorkflow({ name, description });
  }

  scheduleDirtyCheck(): void {
    if (this.dirtyTimer) return;
    this.dirtyTimer = setTimeout(() => {
      this.dirtyTimer = null;
      this.dirty.set(this.snapshotKey() !== this.savedSnapshot);
    }, 120);
  }

  private markClean(): void {
    if (this.dirtyTimer) clearTimeout(this.dirtyTimer);
    this.dirtyTimer = null;
    this.savedSnapshot = this.snapshotKey();
    this.dirty.set(false);
  }

  private setUrl(id: string | null): void {
    const url = new URL(location.href);
    if (id) url.searchParams.set('workflow', id);
    else url.searchParams.delete('workflow');
    history.replaceState(null, '', url);
  }

  // ---- workflows ----

  private async show(workflow: Workflow, doc: DocState, clean: boolean): Promise<void> {
    this.stopRunWatch();
    this.currentRun.set(null);
    this.shownRun.set(null);
    this.workflowIssues.set([]);
    this.doc.set(doc);
    await this.canvas!.load(workflow);
    performance.mark('picflow:loaded');
    if (clean) this.markClean();
    else {
      this.savedSnapshot = '';
      this.dirty.set(true);
    }
    this.addOffset = 0;
    this.localRuns = [];
    this.setUrl(doc.id);
    void this.refreshHistory();
  }

  /**
   * A request to show another document claims the canvas; the check it returns says whether it still
   * holds it, so that one asked for earlier but answered later gives way.
   */
  private claimShow(): () => boolean {
    const request = ++this.showRequests;
    return () => request === this.showRequests;
  }

  async newWorkflow(): Promise<void> {
    if (!(await this.confirmDiscard())) return;
    this.claimShow();
    await this.show({ version: 1, nodes: {} }, { id: null, name: UNTITLED }, true);
  }

  /** Opens a saved workflow; `fetching` is its request when already under way. */
  async open(id: string, options: { force?: boolean; fetching?: Promise<SavedWorkflow> } = {}): Promise<void> {
    if (!options.force && !(await this.confirmDiscard())) return;
    const current = this.claimShow();
    let saved: SavedWorkflow;
    try {
      saved = await (options.fetching ?? api.getWorkflow(id));
      performance.mark('picflow:fetched');
    } catch (err) {
      if (!current()) return;
      this.toast('error', `Cannot open the workflow: ${(err as Error).message}`);
      if (options.force) this.setUrl(null);
      return;
    }
    if (!current()) return;
    this.dialog.set(null);
    await this.show(saved.workflow, { id: saved.id, name: saved.name, description: saved.workflow.description, trigger: saved.trigger ?? null }, true);
    this.toast('info', `Opened "${saved.name}"`);
  }

  async save(): Promise<boolean> {
    const doc = this.doc.get();
    if (!doc.id) {
      this.dialog.set({ kind: 'save-as' });
      return false;
    }
    return this.persist(doc.id, doc.name);
  }

  async saveAs(name: string): Promise<boolean> {
    return this.persist(null, name.trim() || UNTITLED);
  }

  private async persist(id: string | null, name: string): Promise<boolean> {
    this.doc.update((d) => ({ ...d, name }));
    const workflow = this.workflow();
    try {
      const saved = id ? await api.updateWorkflow(id, workflow) : await api.createWorkflow(workflow);
      this.doc.set({ ...this.doc.get(), id: saved.id, name: saved.name, trigger: saved.trigger ?? this.doc.get().trigger ?? null });
      this.setIssues([]);
      this.markClean();
      this.setUrl(saved.id);
      this.dialog.set(null);
      this.toast('success', `Saved "${saved.name}"`);
      if (!id) void this.refreshHistory();
      return true;
    } catch (err) {
      this.reportError('Cannot save', err);
      return false;
    }
  }

  rename(name: string): void {
    const trimmed = name.trim() || UNTITLED;
    if (trimmed === this.doc.get().name) return;
    this.doc.update((d) => ({ ...d, name: trimmed }));
    this.scheduleDirtyCheck();
  }

  async deleteWorkflow(id: string, name: string): Promise<boolean> {
    if (!(await this.confirm(`Delete "${name}" from the server? Its runs stay in the history.`, 'Delete'))) return false;
    try {
      await api.deleteWorkflow(id);
    } catch (err) {
      this.reportError('Cannot delete', err);
      return false;
    }
    if (this.doc.get().id === id) {
      // The canvas keeps the graph as an unsaved workflow.
      this.doc.update((d) => ({ ...d, id: null, trigger: null }));
      this.savedSnapshot = '';
      this.dirty.set(true);
      this.setUrl(null);
    }
    this.toast('info', `Deleted "${name}"`);
    return true;
  }

  async importText(text: string, fileName = 'file'): Promise<boolean> {
    let workflow: Workflow;
    try {
      workflow = parseWorkflow(JSON.parse(text));
    } catch (err) {
      const reason = err instanceof WorkflowFileError ? err.message : `not JSON (${(err as Error).message})`;
      this.toast('error', `Cannot import ${fileName}: ${reason}`);
      return false;
    }
    if (!(await this.confirmDiscard())) return false;
    this.claimShow();
    const name = workflow.name ?? fileName.replace(/\.json$/i, '');
    await this.show(workflow, { id: null, name, description: workflow.description }, false);
    this.toast('info', `Imported "${name}" (not saved yet)`);
    return true;
  }

  async importFile(file: File): Promise<boolean> {
    return this.importText(await file.text(), file.name);
  }

  exportFile(): void {
    const workflow = this.workflow();
    const blob = new Blob([`${JSON.stringify(workflow, null, 2)}\n`], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${(workflow.name ?? 'workflow').replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'workflow'}.json`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }

  async useTemplate(template: TemplateEntry): Promise<void> {
    if (!(await this.confirmDiscard())) return;
    this.dialog.set(null);
    const current = this.claimShow();
    const workflow = await template.load();
    if (!current()) return;
    await this.show(workflow, { id: null, name: workflow.name ?? template.name, description: workflow.description }, false);
    if ((await this.canvas!.spreadOverlaps()) > 0) await this.canvas!.fit();
    this.toast('info', `Template "${template.name}" loaded (not saved yet)`);
  }

  async setTrigger(trigger: { slug: string; mode: 'sync' | 'async'; token?: string }): Promise<boolean> {
    const id = this.doc.get().id;
    if (!id) return false;
    try {
      await api.setTrigger(id, trigger);
    } catch (err) {
      this.reportError('Cannot set the trigger', err);
      return false;
    }
    this.doc.update((d) => ({ ...d, trigger: { slug: trigger.slug, mode: trigger.mode, hasToken: Boolean(trigger.token), url: `/hooks/${trigger.slug}` } }));
    this.toast('success', `Trigger /hooks/${trigger.slug} saved`);
    return true;
  }

  // ---- errors ----

  private reportError(what: string, err: unknown): void {
    if (err instanceof ApiError && err.issues.length > 0) {
      this.setIssues(err.issues);
      this.toast('error', `${what}: ${err.issues.length === 1 ? describeIssue(err.issues[0]) : `${err.issues.length} problems, shown on the nodes`}`);
    } else this.toast('error', `${what}: ${(err as Error).message}`);
  }

  /** Shows the server's validation problems on the nodes (and the workflow-wide ones in the panel). */
  setIssues(issues: WorkflowIssue[]): void {
    this.ctx.issues.clear();
    const byNode = new Map<string, WorkflowIssue[]>();
    const general: WorkflowIssue[] = [];
    for (const issue of issues) {
      if (issue.node && this.canvas?.editor.getNode(issue.node)) byNode.set(issue.node, [...(byNode.get(issue.node) ?? []), issue]);
      else general.push(issue);
    }
    for (const [node, list] of byNode) this.ctx.issues.set(node, list);
    this.workflowIssues.set(general);
    const first = [...byNode.keys()][0];
    if (first) void this.canvas?.reveal(first);
  }

  // ---- runs ----

  async run(): Promise<void> {
    if (!this.canvas) return;
    const current = this.currentRun.get();
    if (current && (current.status === 'queued' || current.status === 'running')) {
      this.toast('info', 'A run is already in progress; cancel it first or wait.');
      return;
    }
    this.setIssues([]);
    // A saved, unchanged workflow runs by id, so the run is recorded in that workflow's history;
    // otherwise the canvas runs as it is (and the run is listed here for this page).
    const { id } = this.doc.get();
    const body = id && !this.dirty.get() && !this.dirtyTimer ? { workflowId: id } : { workflow: this.workflow() };
    let runId: string;
    try {
      runId = await api.startRun(body);
    } catch (err) {
      this.reportError('Cannot run', err);
      return;
    }
    this.localRuns.unshift(runId);
    this.currentRun.set({ id: runId, status: 'queued' });
    this.history.update((list) => [{ id: runId, status: 'queued', createdAt: Date.now(), local: true, workflowId: this.doc.get().id }, ...list.filter((r) => r.id !== runId)]);
    this.watchRun(runId);
  }

  private watchRun(runId: string): void {
    this.stopRunWatch();
    const nodeIds = () => this.canvas?.nodes().map((n) => n.id) ?? [];
    this.stopWatching = runFeed.watch(runId, (message) => {
      if (this.currentRun.get()?.id !== runId) return;
      applyRunMessage(this.ctx.runStates, message, nodeIds);
      if (message.type === 'run:state') {
        // Watching began after the run moved on (or even finished): its state so far stands in for the missed events.
        const { run } = message;
        this.currentRun.update((r) => (r ? { ...r, status: run.status } : r));
        if (run.status !== 'queued' && run.status !== 'running') {
          this.onOwnRunMessage({ type: 'run:finished', runId: run.id, status: run.status, ms: run.ms, error: typeof run.error === 'string' ? { node: null, message: run.error } : run.error });
        }
        return;
      }
      this.onOwnRunMessage(message);
    });
  }

  private stopRunWatch(): void {
    this.stopWatching?.();
    this.stopWatching = null;
  }

  private onOwnRunMessage(message: RunMessage): void {
    const status: RunStatus | null =
      message.type === 'run:started' ? 'running' : message.type === 'run:finished' ? message.status : null;
    if (status) this.currentRun.update((r) => (r ? { ...r, status } : r));
    if (message.type === 'run:finished') {
      if (this.finished.has(message.runId)) return;
      this.finished.add(message.runId);
      this.stopRunWatch();
      if (message.status === 'succeeded') this.toast('success', `Run finished in ${formatDuration(message.ms)}`);
      else if (message.status === 'cancelled') this.toast('info', 'Run cancelled');
      else this.toast('error', `Run ${message.status}${message.error ? `: ${message.error.message}` : ''}`);
      void this.refreshHistory();
      void this.settleRun(message.runId);
    }
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
    this.shownRun.set(run);
    if (this.canvas && this.currentRun.get()?.id === id) {
      applyRunRecord(this.ctx.runStates, run, this.canvas.nodes().map((n) => n.id), true);
    }
  }

  async cancel(): Promise<void> {
    const run = this.currentRun.get();
    if (!run || (run.status !== 'queued' && run.status !== 'running')) return;
    try {
      await api.cancelRun(run.id);
      this.toast('info', 'Cancelling…');
    } catch (err) {
      this.reportError('Cannot cancel', err);
    }
  }

  async cancelRun(id: string): Promise<void> {
    try {
      await api.cancelRun(id);
    } catch (err) {
      this.reportError('Cannot cancel', err);
    }
  }

  private onFeedMessage(message: RunMessage): void {
    const status: RunStatus | null =
      message.type === 'run:queued' ? 'queued' : message.type === 'run:started' ? 'running' : message.type === 'run:finished' ? message.status : null;
    if (!status) return;
    this.queue.update((list) => {
      const rest = list.filter((r) => r.id !== message.runId);
      if (status !== 'queued' && status !== 'running') return rest;
      const existing = list.find((r) => r.id === message.runId);
      return [...rest, { ...(existing ?? { createdAt: Date.now() }), id: message.runId, status }].sort(byCreated);
    });
    this.history.update((list) => list.map((r) => (r.id === message.runId ? { ...r, status } : r)));
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
    const id = this.doc.get().id;
    try {
      const saved = id ? await api.listRuns({ workflowId: id, limit: 30 }) : [];
      const known = new Set(saved.map((r) => r.id));
      const local = await Promise.all(
        this.localRuns
          .filter((r) => !known.has(r))
          .slice(0, 20)
          .map((r) => api.getRun(r).then((d): RunEntry => ({ ...d, local: true }), () => null)),
      );
      const merged = [...saved, ...local.filter((r): r is RunEntry => r !== null)].sort((a, b) => -byCreated(a, b));
      this.history.set(merged);
    } catch {
      /* keep what is shown */
    }
  }

  /** Shows a run's outputs in the side panel (and, when asked, its node states on the canvas). */
  async showRun(id: string, options: { applyToCanvas: boolean } = { applyToCanvas: true }): Promise<void> {
    let run: RunDetail;
    try {
      run = await api.getRun(id);
    } catch (err) {
      this.reportError('Cannot load the run', err);
      return;
    }
    this.shownRun.set(run);
    if (options.applyToCanvas && this.canvas && this.currentRun.get()?.id !== id) {
      this.stopRunWatch();
      this.currentRun.set({ id, status: run.status });
      applyRunRecord(this.ctx.runStates, run, this.canvas.nodes().map((n) => n.id));
    }
  }

  // ---- editing ----

  async addNode(type: string, at?: { x: number; y: number }): Promise<void> {
    if (!this.canvas) return;
    let position = at;
    if (!position) {
      // Nodes added from the palette without a place cascade instead of piling up.
      const c = this.canvas.viewportCenter();
      position = { x: c.x + (this.addOffset % 8) * 28, y: c.y + (this.addOffset % 8) * 28 };
      this.addOffset++;
    }
    const id = await this.canvas.addNode(type, position);
    if (!id) this.toast('error', `Unknown node type '${type}'`);
  }

  async copy(): Promise<boolean> {
    const fragment = this.canvas?.copySelection();
    if (!fragment) return false;
    this.clipboard = fragment;
    try {
      await navigator.clipboard?.writeText(JSON.stringify(fragment));
    } catch {
      /* the in-page clipboard still works */
    }
    this.toast('info', `Copied ${Object.keys(fragment.nodes).length} node(s)`);
    return true;
  }

  async cut(): Promise<void> {
    if (await this.copy()) await this.canvas?.deleteSelected();
  }

  async paste(at?: { x: number; y: number }): Promise<void> {
    let fragment = this.clipboard;
    try {
      const text = await navigator.clipboard?.readText();
      if (text) fragment = parseWorkflow(JSON.parse(text));
    } catch {
      /* not a workflow on the system clipboard, or no permission: use the in-page one */
    }
    if (!fragment || !this.canvas) return;
    await this.canvas.paste(fragment, at);
  }

  async duplicate(): Promise<void> {
    const fragment = this.canvas?.copySelection();
    if (fragment) await this.canvas!.paste(fragment);
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

export function describeIssue(issue: WorkflowIssue): string {
  return issue.node ? `${issue.node} ${issue.field}: ${issue.message}` : `${issue.field}: ${issue.message}`;
}
