// Looking at an older run: the run's own graph (its snapshot) and results on the canvas, read-only,
// with "Restore this version" (the snapshot becomes the document's graph, unsaved) or "Back" (the
// graph as it was). A run of the graph on the canvas just shows its results on the nodes.

import type { RunDetail } from './api';
import type { Canvas } from './canvas/canvas';
import type { Notices } from './notices';
import type { Runs } from './runs';
import { stableStringify } from './serialize';
import { Observable } from './store';
import type { Workflow } from '../../engine/contract';

export interface RunViewHost {
  canvas(): Canvas | null;
  /** The canvas as the document's workflow. */
  workflow(): Workflow;
  /** The document's graph changed (dirty tracking looks again). */
  changed(): void;
}

/** What makes two graphs run the same: types, params and links (not places, names or titles). */
function graphKey(workflow: Workflow): string {
  const nodes = Object.entries(workflow.nodes).map(([id, n]) => [id, n.type, n.params ?? {}, n.inputs ?? {}]);
  return stableStringify(nodes.sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
}

export class RunView {
  /** The run whose graph the canvas shows instead of the document's; null when showing the document. */
  readonly viewing = new Observable<RunDetail | null>(null);
  /** The document's graph, kept while a run's graph is shown. */
  private kept: Workflow | null = null;

  constructor(
    private readonly host: RunViewHost,
    private readonly runs: Runs,
    private readonly notices: Notices,
  ) {}

  /** Shows a history row's run: its results, on its own graph when that differs from the document's. */
  async open(id: string): Promise<void> {
    const run = await this.runs.show(id);
    const canvas = this.host.canvas();
    if (!run || !canvas) return;
    const documentGraph = this.kept ?? this.host.workflow();
    if (!run.workflow || graphKey(run.workflow) === graphKey(documentGraph)) {
      if (this.kept) await this.leave();
      this.runs.applyToCanvas(run);
      return;
    }
    this.kept ??= documentGraph;
    this.viewing.set(run);
    await canvas.load(run.workflow);
    this.runs.applyToCanvas(run);
  }

  /** The viewed run's graph becomes the document's (unsaved until saved). */
  async restore(): Promise<void> {
    const run = this.viewing.get();
    if (!run) return;
    this.kept = null;
    this.viewing.set(null);
    this.host.changed();
    this.notices.toast('info', `Restored the graph of run ${run.id.slice(0, 8)} (not saved yet)`);
  }

  /** Back to the document's graph as it was. */
  async leave(): Promise<void> {
    const kept = this.kept;
    if (!kept) return;
    this.kept = null;
    this.viewing.set(null);
    await this.host.canvas()?.load(kept);
    this.host.changed();
  }

  /** Another document is shown: nothing kept from the last one. */
  reset(): void {
    this.kept = null;
    this.viewing.set(null);
  }
}
