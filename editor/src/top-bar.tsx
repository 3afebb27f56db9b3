// The top bar: the workflow's name (renamed in place), the document and file buttons, the run button
// and the server's connection state.

import { useRef, useState } from 'react';
import type { Controller } from './controller';
import { useValue } from './store';

export function TopBar({ controller }: { controller: Controller }) {
  const doc = useValue(controller.document.state);
  const dirty = useValue(controller.document.dirty);
  const run = useValue(controller.runs.current);
  const connected = useValue(controller.connected);
  const fileInput = useRef<HTMLInputElement>(null);
  const [draftName, setDraftName] = useState<string | null>(null);
  const active = run && (run.status === 'queued' || run.status === 'running');

  return (
    <header className="top-bar" role="toolbar" aria-label="workflow">
      <span className="brand">picflow</span>
      <span className="doc-name">
        <input
          className="name-input"
          data-testid="workflow-name"
          aria-label="workflow name"
          value={draftName ?? doc.name}
          onChange={(e) => setDraftName(e.target.value)}
          onBlur={() => {
            if (draftName !== null) controller.document.rename(draftName);
            setDraftName(null);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter') e.currentTarget.blur();
          }}
        />
        <span className={`dirty-dot${dirty ? ' on' : ''}`} data-testid="dirty-indicator" data-dirty={dirty ? 'true' : 'false'} title={dirty ? 'unsaved changes' : 'saved'} aria-label={dirty ? 'unsaved changes' : 'all changes saved'}>
          {dirty ? '● unsaved' : doc.id ? 'saved' : ''}
        </span>
      </span>
      <nav className="file-actions">
        <button type="button" onClick={() => void controller.document.newWorkflow()} data-testid="new-button">
          New
        </button>
        <button type="button" onClick={() => controller.notices.dialog.set({ kind: 'open' })} data-testid="open-button" title="Ctrl+O">
          Open
        </button>
        <button type="button" onClick={() => void controller.document.save()} data-testid="save-button" title="Ctrl+S">
          Save
        </button>
        <button type="button" onClick={() => controller.notices.dialog.set({ kind: 'save-as' })} data-testid="save-as-button" title="Ctrl+Shift+S">
          Save as
        </button>
        <button type="button" onClick={() => controller.notices.dialog.set({ kind: 'templates' })} data-testid="templates-button">
          Templates
        </button>
        <button type="button" onClick={() => fileInput.current?.click()} data-testid="import-button">
          Import
        </button>
        <input
          ref={fileInput}
          type="file"
          accept="application/json,.json,image/png,.png"
          hidden
          data-testid="import-file"
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = '';
            if (file) void controller.files.importFile(file);
          }}
        />
        <button type="button" onClick={() => controller.files.exportFile()} data-testid="export-button">
          Export
        </button>
        <button type="button" onClick={() => controller.files.exportApiFile()} data-testid="export-api-button" title="the workflow in ComfyUI's API format, for ComfyUI clients">
          Export (API)
        </button>
        <button type="button" onClick={() => controller.notices.dialog.set({ kind: 'trigger' })} data-testid="trigger-button">
          Trigger
        </button>
      </nav>
      <span className="spacer" />
      <span className={`conn${connected ? ' on' : ''}`} title={connected ? 'live events connected' : 'live events disconnected'} data-testid="socket-state">
        {connected ? 'live' : 'offline'}
      </span>
      <button type="button" onClick={() => controller.notices.dialog.set({ kind: 'help' })} aria-label="keyboard shortcuts" data-testid="help-button" title="?">
        ?
      </button>
      {active && (
        <button type="button" className="danger" onClick={() => void controller.runs.cancel()} data-testid="cancel-button" title="Ctrl+.">
          Cancel
        </button>
      )}
      <button type="button" className="primary run-button" onClick={() => void controller.runs.run()} data-testid="run-button" title="Ctrl+Enter" disabled={Boolean(active)}>
        {active ? (run!.status === 'queued' ? 'Queued…' : 'Running…') : 'Run'}
      </button>
    </header>
  );
}
