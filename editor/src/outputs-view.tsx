// Renders run results: images upscaled without blurring, texts and numbers as text (React escapes
// them; nothing here ever sets HTML). A list of images is a compact grid with its count, opening
// the full-size viewer; long text folds under "more". Inside a node all of it stays in the frame.

import { useState } from 'react';
import { AuthorizedImage, useAuthorizedUrl } from './authorized-image';
import { openViewer } from './image-viewer';
import type { ImageRef } from '../../engine/contract';
import { isImageRef } from './types';

/** Texts longer than this fold to a few lines until "more" is pressed. */
const FOLD_CHARS = 180;

export function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) < 1 ? 4 : 3);
}

/** An artifact URL that, downloaded, carries the run's workflow in its PNG chunks. */
function withRun(url: string, runId?: string): string {
  return runId ? `${url}${url.includes('?') ? '&' : '?'}run=${encodeURIComponent(runId)}` : url;
}

function ImageGrid({ images, label, testId, runId }: { images: ImageRef[]; label: string; testId?: string; runId?: string }) {
  const open = (index: number) => openViewer(images.map((image, i) => ({ ...image, url: withRun(image.url, runId), label: `${label} ${i + 1}` })), index);
  return (
    <div className="image-grid-wrap" data-testid={testId && `${testId}-list`}>
      <button type="button" className="link-button grid-count" onClick={() => open(0)} data-testid={testId && `${testId}-count`}>
        {images.length} images ⤢
      </button>
      <div className={`image-grid cols-${Math.min(4, Math.ceil(Math.sqrt(images.length)))}`}>
        {images.map((image, i) => (
          <button type="button" key={i} className="grid-cell" onClick={() => open(i)} title={`open ${label} ${i + 1}`}>
            <AuthorizedImage className="pixelated" src={image.url} alt={`${label} ${i + 1}`} loading="lazy" draggable={false} data-testid={testId && `${testId}-${i}-image`} />
          </button>
        ))}
      </div>
    </div>
  );
}

function TextView({ value, testId }: { value: string; testId?: string }) {
  const [open, setOpen] = useState(false);
  const long = value.length > FOLD_CHARS;
  return (
    <div className={`text-result${long && !open ? ' folded' : ''}`}>
      <p data-testid={testId && `${testId}-text`}>{value}</p>
      {long && (
        <button type="button" className="link-button" onClick={() => setOpen(!open)} data-testid={testId && `${testId}-more`}>
          {open ? 'less' : 'more'}
        </button>
      )}
    </div>
  );
}

export function ValueView({ value, label, testId, runId }: { value: unknown; label: string; testId?: string; runId?: string }) {
  if (isImageRef(value)) return <ImageValue url={value.url} label={label} testId={testId} runId={runId} />;
  if (Array.isArray(value)) {
    if (value.length > 1 && value.every(isImageRef)) return <ImageGrid images={value} label={label} testId={testId} runId={runId} />;
    return (
      <div className="value-list" data-testid={testId && `${testId}-list`}>
        {value.map((item, i) => (
          <ValueView key={i} value={item} label={`${label} ${i + 1}`} testId={testId && `${testId}-${i}`} runId={runId} />
        ))}
      </div>
    );
  }
  if (typeof value === 'string') return <TextView value={value} testId={testId} />;
  if (typeof value === 'number') {
    return (
      <p className="number-result" data-testid={testId && `${testId}-number`}>
        {formatNumber(value)}
      </p>
    );
  }
  if (typeof value === 'boolean' || value === null || value === undefined) {
    return <p className="number-result">{String(value)}</p>;
  }
  return <pre className="json-result">{JSON.stringify(value, null, 1)}</pre>;
}

/** One image, linked full size (through the token when the API needs one: an <img> sends no header). */
function ImageValue({ url, label, testId, runId }: { url: string; label: string; testId?: string; runId?: string }) {
  const shown = useAuthorizedUrl(url);
  const full = useAuthorizedUrl(withRun(url, runId));
  return (
    <a href={full} target="_blank" rel="noreferrer" className="image-link" title="open full size">
      <img className="pixelated result-image" src={shown} alt={label} data-testid={testId && `${testId}-image`} draggable={false} />
    </a>
  );
}

/** All outputs of one node, each under its name when there are several. */
export function OutputsView({ outputs, nodeId, runId }: { outputs: Record<string, unknown>; nodeId: string; runId?: string }) {
  const entries = Object.entries(outputs);
  if (entries.length === 0) return null;
  return (
    <div className="outputs" data-testid={`outputs-${nodeId}`}>
      {entries.map(([name, value]) => (
        <div key={name} className="output-value" data-output={name}>
          {entries.length > 1 && <div className="output-name">{name}</div>}
          <ValueView value={value} label={`${nodeId} ${name}`} testId={`output-${nodeId}-${name}`} runId={runId} />
        </div>
      ))}
    </div>
  );
}
