// The dialogs the notices open, one at a time: open, save as, templates, confirm and keyboard help
// here; trigger, gallery, node search and links in files of their own.

import { useEffect, useState } from 'react';
import { api, type SavedWorkflowSummary } from './api';
import type { Controller } from './controller';
import type { Dialog } from './notices';
import { GalleryDialog } from './gallery-dialog';
import { LinkDialog } from './link-dialog';
import { NodeSearch } from './node-search';
import { DialogActions, Modal } from './modal';
import { SHORTCUTS } from './shortcuts';
import { useValue } from './store';
import { TriggerDialog } from './trigger-dialog';

export function Dialogs({ controller }: { controller: Controller }) {
  const dialog = useValue(controller.notices.dialog);
  if (!dialog) return null;
  const close = () => controller.notices.dialog.set(null);
  switch (dialog.kind) {
    case 'open':
      return <OpenDialog controller={controller} onClose={close} />;
    case 'save-as':
      return <SaveAsDialog controller={controller} onClose={close} />;
    case 'templates':
      return <TemplatesDialog controller={controller} onClose={close} />;
    case 'trigger':
      return <TriggerDialog controller={controller} onClose={close} />;
    case 'help':
      return <HelpOverlay onClose={close} />;
    case 'gallery':
      return <GalleryDialog controller={controller} onClose={close} />;
    case 'node-search':
      return <NodeSearch controller={controller} request={dialog} onClose={close} />;
    case 'link':
      return <LinkDialog controller={controller} nodeId={dialog.nodeId} onClose={close} />;
    case 'confirm':
      return <ConfirmDialog dialog={dialog} />;
  }
}

function OpenDialog({ controller, onClose }: { controller: Controller; onClose(): void }) {
  const [list, setList] = useState<SavedWorkflowSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);
  const current = useValue(controller.document.state).id;

  const refresh = () =>
    api.listWorkflows().then(
      (l) => setList(l),
      (err: Error) => setError(err.message),
    );
  useEffect(() => {
    void refresh();
  }, []);

  const rename = async (w: SavedWorkflowSummary, name: string) => {
    setRenaming(null);
    const trimmed = name.trim();
    if (!trimmed || trimmed === w.name) return;
    if (w.id === current) {
      // The open workflow: rename it on the canvas and save, so unsaved edits are not lost or overwritten.
      controller.document.rename(trimmed);
      await controller.document.save();
    } else {
      try {
        const saved = await api.getWorkflow(w.id);
        await api.updateWorkflow(w.id, { ...saved.workflow, name: trimmed });
      } catch (err) {
        setError((err as Error).message);
      }
    }
    await refresh();
  };

  return (
    <Modal title="Open a workflow" onClose={onClose} testId="open-dialog" wide>
      {error && <p className="error-text">{error}</p>}
      {!list && !error && <p className="muted">Loading…</p>}
      {list && list.length === 0 && <p className="muted">No saved workflows yet. Save one with Ctrl+S.</p>}
      {list && list.length > 0 && (
        <ul className="workflow-list">
          {list.map((w) => (
            <li key={w.id} data-testid={`saved-${w.id}`} className={w.id === current ? 'current' : undefined}>
              {renaming === w.id ? (
                <input
                  autoFocus
                  aria-label="new name"
                  defaultValue={w.name}
                  data-testid="rename-input"
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') void rename(w, e.currentTarget.value);
                    if (e.key === 'Escape') {
                      e.stopPropagation();
                      setRenaming(null);
                    }
                  }}
                  onBlur={(e) => void rename(w, e.currentTarget.value)}
                />
              ) : (
                <button type="button" className="link-button workflow-name" data-testid="open-workflow" onClick={() => void controller.document.open(w.id)}>
                  {w.name}
                </button>
              )}
              <span className="muted small">{w.updatedAt ? new Date(w.updatedAt).toLocaleString() : ''}</span>
              <span className="row-actions">
                <button type="button" className="small" onClick={() => setRenaming(w.id)}>
                  Rename
                </button>
                <button
                  type="button"
                  className="small danger"
                  data-testid="delete-workflow"
                  onClick={async () => {
                    // The confirm question took this dialog's place: come back to the list either way.
                    await controller.document.deleteWorkflow(w.id, w.name);
                    controller.notices.dialog.set({ kind: 'open' });
                  }}
                >
                  Delete
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
    </Modal>
  );
}

function SaveAsDialog({ controller, onClose }: { controller: Controller; onClose(): void }) {
  const doc = useValue(controller.document.state);
  const [name, setName] = useState(doc.id ? `${doc.name} copy` : doc.name === 'untitled' ? '' : doc.name);
  return (
    <Modal title="Save as" onClose={onClose} testId="save-as-dialog">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void controller.document.saveAs(name);
        }}
      >
        <label className="stack">
          Name
          <input autoFocus data-testid="save-as-name" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} placeholder="my workflow" />
        </label>
        <DialogActions onCancel={onClose} label="Save" testId="save-as-confirm" />
      </form>
    </Modal>
  );
}

function TemplatesDialog({ controller, onClose }: { controller: Controller; onClose(): void }) {
  const templates = useValue(controller.templates);
  return (
    <Modal title="Templates" onClose={onClose} testId="templates-dialog" wide>
      {templates.length === 0 && <p className="muted">No templates found.</p>}
      <ul className="template-list">
        {templates.map((t) => (
          <li key={t.id}>
            <button type="button" className="template" data-testid={`template-${t.id}`} onClick={() => void controller.document.useTemplate(t)}>
              <strong>{t.name}</strong>
              {t.description && <span className="muted">{t.description}</span>}
            </button>
          </li>
        ))}
      </ul>
    </Modal>
  );
}

function ConfirmDialog({ dialog }: { dialog: Extract<Dialog, { kind: 'confirm' }> }) {
  return (
    <Modal title="Are you sure?" onClose={() => dialog.resolve(false)} testId="confirm-dialog">
      <p>{dialog.message}</p>
      <DialogActions onCancel={() => dialog.resolve(false)} label={dialog.confirmLabel} testId="confirm-ok" onConfirm={() => dialog.resolve(true)} danger autoFocus />
    </Modal>
  );
}

function HelpOverlay({ onClose }: { onClose(): void }) {
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose} testId="help-overlay" wide>
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.keys}>
              <td>
                <kbd>{s.keys}</kbd>
              </td>
              <td>{s.does}</td>
            </tr>
          ))}
          <tr>
            <td>
              <kbd>Tab</kbd>
            </td>
            <td>Move between buttons, the palette and each node’s fields</td>
          </tr>
        </tbody>
      </table>
      <h3>With the pointer</h3>
      <ul className="tips">
        <li>Drag from an output socket to an input socket to link them; drag a link off an input to remove it.</li>
        <li>Drag the background to pan, the wheel to zoom; Ctrl/Shift-click adds a node to the selection; Shift-drag on the background selects a box.</li>
        <li>Right-click the canvas to add a node there; right-click a node or link for more.</li>
        <li>Double-click a node’s title to rename it.</li>
      </ul>
    </Modal>
  );
}
