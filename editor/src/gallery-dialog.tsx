// The gallery: images of runs across all workflows, newest first, filtered by workflow, status and
// date, a page at a time; thumbnails load as they scroll into view, a click opens the viewer.

import { AuthorizedImage } from './authorized-image';
import { useEffect, useState } from 'react';
import { api, type GalleryItem, type RunFilter } from './api';
import type { Controller } from './controller';
import { openViewer } from './image-viewer';
import { Modal } from './modal';
import { useValue } from './store';
import type { RunState } from '../../engine/contract';

const PAGE = 24;
const STATUSES: RunState[] = ['succeeded', 'failed', 'cancelled'];

export function GalleryDialog({ controller, onClose }: { controller: Controller; onClose(): void }) {
  const doc = useValue(controller.document.state);
  const [onlyThis, setOnlyThis] = useState(Boolean(doc.id));
  const [status, setStatus] = useState<RunState | ''>('');
  const [since, setSince] = useState('');
  const [items, setItems] = useState<GalleryItem[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  const filter = (): RunFilter => ({
    workflowId: onlyThis && doc.id ? doc.id : undefined,
    status: status || undefined,
    since: since ? new Date(`${since}T00:00:00`).getTime() : undefined,
    limit: PAGE,
  });
  const load = async (before?: number) => {
    try {
      const page = await api.gallery({ ...filter(), before });
      setItems((list) => (before ? [...list, ...page.items] : page.items));
      setNext(page.next);
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  useEffect(() => {
    void load();
  }, [onlyThis, status, since]);

  const view = (index: number) =>
    openViewer(
      items.map((item) => ({ ...item, url: `${item.url}?run=${encodeURIComponent(item.runId)}`, label: `${item.output} · run ${item.runId.slice(0, 8)} · ${new Date(item.createdAt).toLocaleString()}` })),
      index,
    );

  return (
    <Modal title="Gallery" onClose={onClose} testId="gallery-dialog" wide>
      <div className="gallery-filters">
        {doc.id && (
          <label>
            <input type="checkbox" checked={onlyThis} onChange={(e) => setOnlyThis(e.target.checked)} data-testid="gallery-this-workflow" /> this workflow only
          </label>
        )}
        <label>
          status{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value as RunState | '')} data-testid="gallery-status">
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          since <input type="date" value={since} onChange={(e) => setSince(e.target.value)} data-testid="gallery-since" />
        </label>
      </div>
      {error && <p className="error-text">{error}</p>}
      {!error && items.length === 0 && <p className="muted">No images yet.</p>}
      <div className="gallery-grid" data-testid="gallery-grid">
        {items.map((item, i) => (
          <button type="button" key={`${item.runId}-${item.output}-${i}`} onClick={() => view(i)} title={`${item.output} · ${item.source}`}>
            <AuthorizedImage className="pixelated" src={item.url} alt={`${item.output} of run ${item.runId.slice(0, 8)}`} loading="lazy" />
          </button>
        ))}
      </div>
      {next !== null && (
        <button type="button" onClick={() => void load(next)} data-testid="gallery-more">
          More
        </button>
      )}
    </Modal>
  );
}
