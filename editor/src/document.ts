// The open document: which workflow the canvas shows (saved or not, under which name and trigger),
// whether it has unsaved changes, and its lifecycle: new, open, save, save as, rename, delete, a
// template, the trigger. Shows one document at a time; a later request wins over an earlier one.

import { api, type SavedWorkflow, type TriggerInfo, type TriggerSettings } from './api';
import type { Canvas } from './canvas/canvas';
import type { Notices } from './notices';
import type { Problems } from './problems';
import type { RunView } from './run-view';
import type { Runs } from './runs';
import { stableStringify } from './serialize';
import { Observable } from './store';
import { attachTemplateImages, type TemplateEntry } from './templates';
import type { Workflow } from '../../engine/contract';

export interface DocState {
  /** The saved workflow's id; null for a workflow never saved. */
  id: string | null;
  name: string;
  description?: string;
  trigger?: TriggerInfo | null;
}

const UNTITLED = 'untitled';

/** The parts the document resets when it shows another workflow, and reports through. */
export interface DocumentParts {
  canvas(): Canvas | null;
  notices: Notices;
  problems: Problems;
  runs(): Runs;
  runView(): RunView;
  /** A workflow was shown (the palette's cascade of added nodes starts again). */
  shown(): void;
}

export class WorkflowDocument {
  readonly state = new Observable<DocState>({ id: null, name: UNTITLED });
  readonly dirty = new Observable(false);

  private savedSnapshot = '';
  private dirtyTimer: ReturnType<typeof setTimeout> | null = null;
  /** Counts requests to show another document (see claimShow). */
  private showRequests = 0;

  constructor(private readonly parts: DocumentParts) {}

  private get notices(): Notices {
    return this.parts.notices;
  }

  /** The canvas as workflow JSON v1, under the document's name. */
  workflow(): Workflow {
    const { name, description } = this.state.get();
    return this.parts.canvas()!.toWorkflow({ name, description });
  }

  /** The saved workflow's id when the canvas is that workflow unchanged; else null. */
  savedUnchanged(): string | null {
    const { id } = this.state.get();
    return id && !this.dirty.get() && !this.dirtyTimer ? id : null;
  }

  // ---- dirty tracking ----

  private snapshotKey(): string {
    if (!this.parts.canvas()) return '';
    return stableStringify(this.workflow());
  }

  /** Takes the canvas as it is now as the saved state (at start-up, with an empty graph). */
  markClean(): void {
    if (this.dirtyTimer) clearTimeout(this.dirtyTimer);
    this.dirtyTimer = null;
    this.savedSnapshot = this.snapshotKey();
    this.dirty.set(false);
  }

  scheduleDirtyCheck(): void {
    // A viewed run's graph is not the document's: the document stays as it was.
    if (this.dirtyTimer || this.parts.runView().viewing.get()) return;
    this.dirtyTimer = setTimeout(() => {
      this.dirtyTimer = null;
      this.dirty.set(this.snapshotKey() !== this.savedSnapshot);
    }, 120);
  }

  /** Marks the canvas as a workflow not saved (imported, or deleted from the server). */
  private markUnsaved(): void {
    this.savedSnapshot = '';
    this.dirty.set(true);
  }

  async confirmDiscard(): Promise<boolean> {
    if (!this.dirty.get()) return true;
    return this.notices.confirm(`"${this.state.get().name}" has unsaved changes. Discard them?`);
  }

  private setUrl(id: string | null): void {
    const url = new URL(location.href);
    if (id) url.searchParams.set('workflow', id);
    else url.searchParams.delete('workflow');
    history.replaceState(null, '', url);
  }

  // ---- showing a workflow ----

  /** Shows a workflow as the document; `clean`: as saved (else as changes not saved yet). */
  async show(workflow: Workflow, doc: DocState, clean: boolean): Promise<void> {
    this.state.set(doc);
    this.parts.runView().reset();
    this.parts.runs().reset();
    this.parts.problems.general.set([]);
    await this.parts.canvas()!.load(workflow);
    performance.mark('picflow:loaded');
    if (clean) this.markClean();
    else this.markUnsaved();
    this.parts.shown();
    this.setUrl(doc.id);
  }

  /**
   * A request to show another document claims the canvas; the check it returns says whether it still
   * holds it, so that one asked for earlier but answered later gives way.
   */
  claimShow(): () => boolean {
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
      this.notices.toast('error', `Cannot open the workflow: ${(err as Error).message}`);
      if (options.force) this.setUrl(null);
      return;
    }
    if (!current()) return;
    this.notices.dialog.set(null);
    await this.show(saved.workflow, { id: saved.id, name: saved.name, description: saved.workflow.description, trigger: saved.trigger ?? null }, true);
    this.notices.toast('info', `Opened "${saved.name}"`);
  }

  /** Opens a template as a new, unsaved workflow that is not yet changed (switching away asks nothing). */
  async useTemplate(template: TemplateEntry): Promise<void> {
    if (!(await this.confirmDiscard())) return;
    this.notices.dialog.set(null);
    const current = this.claimShow();
    const workflow = await template.load();
    const missing = await attachTemplateImages(workflow, (file) => api.upload(file));
    if (!current()) return;
    await this.show(workflow, { id: null, name: workflow.name ?? template.name, description: workflow.description }, true);
    // Templates laid out for smaller nodes are spread out, then framed again as any graph opened.
    const canvas = this.parts.canvas()!;
    await canvas.spreadOverlaps();
    await canvas.camera.frameOpened();
    this.markClean();
    if (missing.length > 0) this.notices.toast('error', `Template "${template.name}": cannot upload ${missing.join(', ')}; set the image on its node`);
    else this.notices.toast('info', `Template "${template.name}" loaded`);
  }

  // ---- saving ----

  async save(): Promise<boolean> {
    const doc = this.state.get();
    if (!doc.id) {
      this.notices.dialog.set({ kind: 'save-as' });
      return false;
    }
    return this.persist(doc.id, doc.name);
  }

  async saveAs(name: string): Promise<boolean> {
    return this.persist(null, name.trim() || UNTITLED);
  }

  private async persist(id: string | null, name: string): Promise<boolean> {
    if (this.parts.runView().viewing.get()) {
      this.notices.toast('info', 'This is an older run’s graph: restore this version (or go back) before saving.');
      this.notices.dialog.set(null);
      return false;
    }
    this.state.update((d) => ({ ...d, name }));
    const workflow = this.workflow();
    try {
      const saved = id ? await api.updateWorkflow(id, workflow) : await api.createWorkflow(workflow);
      this.state.set({ ...this.state.get(), id: saved.id, name: saved.name, trigger: saved.trigger ?? this.state.get().trigger ?? null });
      this.parts.problems.set([]);
      this.markClean();
      this.setUrl(saved.id);
      this.notices.dialog.set(null);
      const broken = saved.triggerIssues ?? [];
      if (broken.length === 0) this.notices.toast('success', `Saved "${saved.name}"`);
      // Saved all the same: the trigger's owner (this user) fixes its inputs in the Trigger dialog.
      else this.notices.toast('error', `Saved "${saved.name}", but its trigger no longer fits: ${broken.map((issue) => issue.message).join('; ')}. Update its inputs (Trigger).`, 10_000);
      if (!id) void this.parts.runs().refreshHistory();
      return true;
    } catch (err) {
      this.parts.problems.report('Cannot save', err);
      return false;
    }
  }

  rename(name: string): void {
    const trimmed = name.trim() || UNTITLED;
    if (trimmed === this.state.get().name) return;
    this.state.update((d) => ({ ...d, name: trimmed }));
    this.scheduleDirtyCheck();
  }

  async deleteWorkflow(id: string, name: string): Promise<boolean> {
    if (!(await this.notices.confirm(`Delete "${name}" from the server? Its runs stay in the history.`, 'Delete'))) return false;
    try {
      await api.deleteWorkflow(id);
    } catch (err) {
      this.parts.problems.report('Cannot delete', err);
      return false;
    }
    if (this.state.get().id === id) {
      // The canvas keeps the graph as an unsaved workflow.
      this.state.update((d) => ({ ...d, id: null, trigger: null }));
      this.markUnsaved();
      this.setUrl(null);
    }
    this.notices.toast('info', `Deleted "${name}"`);
    return true;
  }

  async setTrigger(trigger: TriggerSettings): Promise<boolean> {
    const id = this.state.get().id;
    if (!id) return false;
    let saved: TriggerInfo;
    try {
      saved = await api.setTrigger(id, trigger);
    } catch (err) {
      this.parts.problems.report('Cannot set the trigger', err);
      return false;
    }
    // As the server has it: a save without a token keeps the one set before.
    this.state.update((d) => ({ ...d, trigger: { slug: saved.slug, mode: saved.mode, hasToken: saved.hasToken, url: `/hooks/${saved.slug}` } }));
    this.notices.toast('success', `Trigger /hooks/${trigger.slug} saved`);
    return true;
  }
}
