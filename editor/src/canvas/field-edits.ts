// Undoable edits of a node's params and title: one history step per field typed into (not one per
// key), undone and redone without recording again.

import type { NodeEditor } from 'rete';
import type { HistoryAction, HistoryPlugin } from 'rete-history-plugin';
import type { Schemes } from './node';
import { bump, type ViewContext } from './view-context';

type FieldKind = 'param' | 'title';

/** Typing into one field within this many ms of the last key is one undo step. */
const MERGE_MS = 1500;

class FieldAction implements HistoryAction {
  constructor(
    private readonly edits: FieldEdits,
    readonly nodeId: string,
    readonly field: string,
    readonly before: unknown,
    public after: unknown,
    readonly kind: FieldKind,
  ) {}
  undo() {
    this.edits.apply(this.nodeId, this.field, this.before, this.kind);
  }
  redo() {
    this.edits.apply(this.nodeId, this.field, this.after, this.kind);
  }
}

export class FieldEdits {
  private last: { action: FieldAction; time: number } | null = null;

  constructor(
    private readonly editor: NodeEditor<Schemes>,
    private readonly history: HistoryPlugin<Schemes>,
    private readonly ctx: ViewContext,
    private readonly changed: () => void,
  ) {}

  /** The next edit starts a step of its own (after undo, redo or a load). */
  breakStep(): void {
    this.last = null;
  }

  setParam(nodeId: string, name: string, value: unknown): void {
    this.record(nodeId, name, value, 'param');
  }

  rename(nodeId: string, title: string): void {
    const node = this.editor.getNode(nodeId);
    if (!node) return;
    const next = title.trim() === '' || title.trim() === node.nodeType ? undefined : title.trim();
    if (next === node.title) return;
    this.record(nodeId, 'title', next, 'title');
  }

  private record(nodeId: string, field: string, value: unknown, kind: FieldKind): void {
    const node = this.editor.getNode(nodeId);
    if (!node) return;
    const before = kind === 'title' ? node.title : node.params[field];
    this.apply(nodeId, field, value, kind);
    const last = this.last;
    const now = Date.now();
    const recent = this.history.getRecent(MERGE_MS);
    if (last && now - last.time < MERGE_MS && last.action.nodeId === nodeId && last.action.field === field && recent.some((r) => r.action === last.action)) {
      last.action.after = value;
      last.time = now;
      return;
    }
    const action = new FieldAction(this, nodeId, field, before, value, kind);
    this.history.separate();
    this.history.add(action);
    this.last = { action, time: now };
  }

  /** Sets a param or title without recording history (used by undo/redo). */
  apply(nodeId: string, field: string, value: unknown, kind: FieldKind): void {
    const node = this.editor.getNode(nodeId);
    if (!node) return;
    if (kind === 'title') {
      node.title = value as string | undefined;
      node.label = node.title || node.nodeType;
    } else if (value === undefined) delete node.params[field];
    else node.params[field] = value;
    // An edited node's last result no longer matches it.
    this.ctx.runStates.set(nodeId, undefined);
    // A field the user touched no longer carries the server's complaint about it.
    const issues = this.ctx.issues.get(nodeId);
    if (issues) {
      const left = issues.filter((i) => i.field !== `params.${field}`);
      this.ctx.issues.set(nodeId, left.length ? left : undefined);
    }
    bump(this.ctx.versions, nodeId);
    this.changed();
  }
}
