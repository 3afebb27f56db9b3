// Keyboard shortcuts: one table drives both the handler and the help overlay.

import type { Controller } from './controller';

export interface Shortcut {
  keys: string;
  does: string;
  /** Also fires while typing in a field. */
  inFields?: boolean;
  match(e: KeyboardEvent): boolean;
  run(c: Controller, e: KeyboardEvent): unknown;
}

const mod = (e: KeyboardEvent) => e.ctrlKey || e.metaKey;
const plain = (e: KeyboardEvent) => !e.ctrlKey && !e.metaKey && !e.altKey;

export const SHORTCUTS: Shortcut[] = [
  { keys: 'Ctrl+Enter', does: 'Run the workflow', inFields: true, match: (e) => mod(e) && e.key === 'Enter', run: (c) => c.runs.run() },
  { keys: 'Ctrl+.', does: 'Cancel the run', inFields: true, match: (e) => mod(e) && e.key === '.', run: (c) => c.runs.cancel() },
  { keys: 'Ctrl+S', does: 'Save', inFields: true, match: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 's', run: (c) => c.document.save() },
  { keys: 'Ctrl+Shift+S', does: 'Save as…', inFields: true, match: (e) => mod(e) && e.shiftKey && e.key.toLowerCase() === 's', run: (c) => c.notices.dialog.set({ kind: 'save-as' }) },
  { keys: 'Ctrl+O', does: 'Open a saved workflow', inFields: true, match: (e) => mod(e) && e.key.toLowerCase() === 'o', run: (c) => c.notices.dialog.set({ kind: 'open' }) },
  { keys: 'Ctrl+Z', does: 'Undo', match: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'z', run: (c) => c.canvas?.undo() },
  { keys: 'Ctrl+Shift+Z / Ctrl+Y', does: 'Redo', match: (e) => mod(e) && ((e.shiftKey && e.key.toLowerCase() === 'z') || e.key.toLowerCase() === 'y'), run: (c) => c.canvas?.redo() },
  { keys: 'Ctrl+C', does: 'Copy the selected nodes', match: (e) => mod(e) && e.key.toLowerCase() === 'c', run: (c) => c.clipboard.copy() },
  { keys: 'Ctrl+X', does: 'Cut the selected nodes', match: (e) => mod(e) && e.key.toLowerCase() === 'x', run: (c) => c.clipboard.cut() },
  { keys: 'Ctrl+V', does: 'Paste', match: (e) => mod(e) && e.key.toLowerCase() === 'v', run: (c) => c.clipboard.paste() },
  { keys: 'Ctrl+D', does: 'Duplicate the selected nodes', match: (e) => mod(e) && e.key.toLowerCase() === 'd', run: (c) => c.clipboard.duplicate() },
  { keys: 'Ctrl+A', does: 'Select all nodes', match: (e) => mod(e) && e.key.toLowerCase() === 'a', run: (c) => c.canvas?.selection.selectAll() },
  { keys: 'Delete / Backspace', does: 'Delete the selected nodes', match: (e) => plain(e) && (e.key === 'Delete' || e.key === 'Backspace'), run: (c) => c.canvas?.deleteSelected() },
  { keys: 'A or /', does: 'Add a node (search the palette)', match: (e) => plain(e) && (e.key === 'a' || e.key === '/'), run: () => focusPalette() },
  { keys: 'F2', does: 'Rename the selected node', match: (e) => plain(e) && e.key === 'F2', run: (c) => c.canvas?.renameSelected() },
  { keys: 'L', does: 'Connect the selected node’s inputs', match: (e) => plain(e) && e.key === 'l', run: (c) => openLinkDialog(c) },
  { keys: 'N / Shift+N', does: 'Select the next / previous node', match: (e) => plain(e) && e.key.toLowerCase() === 'n', run: (c, e) => c.canvas?.selection.cycleSelection(e.shiftKey ? -1 : 1) },
  { keys: 'Arrow keys', does: 'Move the selected nodes (Shift: further); pan when none is selected', match: (e) => !mod(e) && e.key.startsWith('Arrow'), run: (c, e) => arrows(c, e) },
  { keys: 'F', does: 'Fit the graph to the view', match: (e) => plain(e) && e.key.toLowerCase() === 'f', run: (c) => c.canvas?.camera.fit() },
  { keys: '0', does: 'Zoom to 100%', match: (e) => plain(e) && e.key === '0', run: (c) => c.canvas?.camera.zoomTo(1) },
  { keys: '+ / −', does: 'Zoom in / out', match: (e) => plain(e) && (e.key === '+' || e.key === '=' || e.key === '-'), run: (c, e) => c.canvas?.camera.zoomBy(e.key === '-' ? 1 / 1.2 : 1.2) },
  { keys: 'Shift+L', does: 'Auto-arrange the graph', match: (e) => !mod(e) && e.shiftKey && e.key === 'L', run: (c) => c.canvas?.arrange() },
  { keys: '?', does: 'Show this help', match: (e) => e.key === '?', run: (c) => c.notices.dialog.set({ kind: 'help' }) },
  { keys: 'Escape', does: 'Close a dialog or menu; clear the selection', inFields: true, match: (e) => e.key === 'Escape', run: (c) => escape(c) },
];

function focusPalette(): void {
  const search = document.querySelector<HTMLInputElement>('[data-testid="palette-search"]');
  search?.focus();
  // What was searched last is replaced by what is typed now.
  search?.select();
}

function openLinkDialog(c: Controller): void {
  const node = c.canvas?.selection.selected()[0];
  if (node) c.notices.dialog.set({ kind: 'link', nodeId: node.id });
  else c.notices.toast('info', 'Select a node first (N selects the next one)');
}

async function arrows(c: Controller, e: KeyboardEvent): Promise<void> {
  const step = e.shiftKey ? 100 : 20;
  const dx = e.key === 'ArrowLeft' ? -step : e.key === 'ArrowRight' ? step : 0;
  const dy = e.key === 'ArrowUp' ? -step : e.key === 'ArrowDown' ? step : 0;
  if (!c.canvas) return;
  if (c.canvas.selection.selected().length > 0) await c.canvas.selection.nudgeSelected(dx, dy);
  else await c.canvas.camera.pan(-dx * 2, -dy * 2);
}

function escape(c: Controller): void {
  if (c.contextMenu.get()) return c.contextMenu.set(null);
  const dialog = c.notices.dialog.get();
  if (dialog) {
    if (dialog.kind === 'confirm') dialog.resolve(false);
    else c.notices.dialog.set(null);
    return;
  }
  const active = document.activeElement as HTMLElement | null;
  if (active && isField(active)) return active.blur();
  void c.canvas?.selection.unselectAll();
}

export function isField(el: Element | null): boolean {
  if (!el) return false;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') return !['button', 'checkbox', 'radio', 'range', 'file', 'submit', 'reset'].includes((el as HTMLInputElement).type);
  return (el as HTMLElement).isContentEditable;
}

/** Installs the handler; returns its removal. Shortcuts wait while a dialog is open (except Escape). */
export function installShortcuts(c: Controller): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (e.defaultPrevented || e.isComposing) return;
    const inField = isField(e.target as Element);
    const dialogOpen = c.notices.dialog.get() !== null || c.contextMenu.get() !== null;
    for (const s of SHORTCUTS) {
      if (!s.match(e)) continue;
      if (inField && !s.inFields) return;
      if (dialogOpen && s.keys !== 'Escape') return;
      // Inside a focused button or link, Enter and Space keep their meaning.
      e.preventDefault();
      void s.run(c, e);
      return;
    }
  };
  window.addEventListener('keydown', onKey);
  return () => window.removeEventListener('keydown', onKey);
}
