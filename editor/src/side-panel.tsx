// The side panel: the server's run queue, this workflow's run history (each row its source, prompts,
// thumbnail, duration and status; a click shows that run on its own graph), and the outputs of the
// run picked there.

import { AuthorizedImage } from './authorized-image';
import type { Controller } from './controller';
import { ValueView } from './outputs-view';
import { formatIssue } from '../../engine/contract';
import { formatDuration, type RunEntry } from './runs';
import { useValue } from './store';
import type { ImageRef } from '../../engine/contract';
import { isImageRef } from './types';

function when(t: string | number | null | undefined): string {
  if (t === null || t === undefined) return '';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString();
}

/** The first image among a run's outputs, for its row's thumbnail. */
function firstImage(outputs: RunEntry['outputs']): ImageRef | null {
  for (const output of Object.values(outputs ?? {})) {
    const value = typeof output === 'object' && output !== null && 'value' in output ? (output as { value: unknown }).value : output;
    const image = [value].flat().find(isImageRef);
    if (image) return image;
  }
  return null;
}

/** A run row; `list` prefixes its test ids, as a running run is in both the queue and the history. */
function RunRow({ run, list, controller, shown }: { run: RunEntry; list: 'queue' | 'history'; controller: Controller; shown: boolean }) {
  const active = run.status === 'queued' || run.status === 'running';
  const thumb = firstImage(run.outputs);
  const prompts = run.prompts ?? [];
  return (
    <li className={`run-row status-${run.status}${shown ? ' shown' : ''}`} data-testid={`${list}-run-${run.id}`} data-status={run.status}>
      <button type="button" className="link-button run-open" onClick={() => void controller.runView.open(run.id)} title="show this run: its graph and outputs">
        {thumb ? <AuthorizedImage className="pixelated run-thumb" src={thumb.url} alt="" loading="lazy" /> : <span className="run-thumb empty" />}
        <span className="run-text">
          <span className="run-meta">
            <span className={`badge status-${run.status}`}>{run.status}</span>
            <span className="run-source" data-testid={`${list}-run-source-${run.id}`}>
              {run.source ?? (run.local ? 'editor' : '')}
            </span>
            <span className="run-when">{when(run.createdAt)}</span>
            <span className="run-ms">{run.ms !== undefined && run.ms !== null ? formatDuration(run.ms) : ''}</span>
          </span>
          {prompts.length > 0 && (
            <span className="run-prompts" title={prompts.join('\n')} data-testid={`${list}-run-prompts-${run.id}`}>
              {prompts.join(' · ')}
            </span>
          )}
        </span>
      </button>
      {active && (
        <button type="button" className="small" onClick={() => void controller.runs.cancelRun(run.id)} aria-label="cancel this run">
          cancel
        </button>
      )}
    </li>
  );
}

export function SidePanel({ controller }: { controller: Controller }) {
  const queue = useValue(controller.runs.queue);
  const history = useValue(controller.runs.history);
  const shown = useValue(controller.runs.shown);
  const issues = useValue(controller.problems.general);
  const doc = useValue(controller.document.state);

  const outputs = shown ? Object.entries((shown.outputs ?? {}) as Record<string, { value?: unknown; node?: string } | unknown>) : [];

  return (
    <aside className="side-panel" data-testid="side-panel" aria-label="runs">
      {issues.length > 0 && (
        <section className="panel-section issues" data-testid="workflow-issues" role="alert">
          <h3>Problems</h3>
          <ul>
            {issues.map((issue, i) => (
              <li key={i}>{formatIssue(issue)}</li>
            ))}
          </ul>
        </section>
      )}
      <section className="panel-section">
        <h3>Queue</h3>
        {queue.length === 0 ? (
          <p className="muted small">Nothing queued or running.</p>
        ) : (
          <ul className="run-list" data-testid="queue-list">
            {queue.map((r) => (
              <RunRow key={r.id} run={r} list="queue" controller={controller} shown={shown?.id === r.id} />
            ))}
          </ul>
        )}
      </section>
      <section className="panel-section">
        <h3 className="history-head">
          History <span className="muted small">{doc.id ? 'of this workflow' : 'of this page (save to keep it)'}</span>
          <button type="button" className="link-button small gallery-open" onClick={() => controller.notices.dialog.set({ kind: 'gallery' })} data-testid="gallery-button">
            gallery
          </button>
        </h3>
        {history.length === 0 ? (
          <p className="muted small">No runs yet. Press Run or Ctrl+Enter.</p>
        ) : (
          <ul className="run-list" data-testid="history-list">
            {history.map((r) => (
              <RunRow key={r.id} run={r} list="history" controller={controller} shown={shown?.id === r.id} />
            ))}
          </ul>
        )}
      </section>
      {shown && (
        <section className="panel-section run-outputs" data-testid="run-outputs">
          <h3>
            Run <code title={shown.id}>{shown.id.slice(0, 8)}</code> <span className={`badge status-${shown.status}`}>{shown.status}</span>
          </h3>
          {shown.error && <p className="error-text">{typeof shown.error === 'string' ? shown.error : shown.error.message}</p>}
          {outputs.length === 0 && <p className="muted small">No outputs.</p>}
          {outputs.map(([name, output]) => {
            const value = typeof output === 'object' && output !== null && 'value' in output ? (output as { value: unknown }).value : output;
            return (
              <figure key={name} className="run-output" data-testid={`run-output-${name}`}>
                <figcaption>{name}</figcaption>
                <ValueView value={value} label={name} testId={`run-output-${name}`} runId={shown.id} />
              </figure>
            );
          })}
        </section>
      )}
    </aside>
  );
}
