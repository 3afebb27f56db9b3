// Renders run results: images upscaled without blurring, texts and numbers as text (React escapes
// them; nothing here ever sets HTML), lists as grids.

import { useAuthorizedUrl } from './authorized-image';
import { isImageRef } from './types';

export function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) < 1 ? 4 : 3);
}

export function ValueView({ value, label, testId }: { value: unknown; label: string; testId?: string }) {
  if (isImageRef(value)) return <ImageValue url={value.url} label={label} testId={testId} />;
  if (Array.isArray(value)) {
    return (
      <div className={`value-list${value.some(isImageRef) ? ' image-grid' : ''}`} data-testid={testId && `${testId}-list`}>
        {value.map((item, i) => (
          <ValueView key={i} value={item} label={`${label} ${i + 1}`} testId={testId && `${testId}-${i}`} />
        ))}
      </div>
    );
  }
  if (typeof value === 'string') {
    return (
      <p className="text-result" data-testid={testId && `${testId}-text`}>
        {value}
      </p>
    );
  }
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

function ImageValue({ url, label, testId }: { url: string; label: string; testId?: string }) {
  const shown = useAuthorizedUrl(url);
  return (
    <a href={shown} target="_blank" rel="noreferrer" className="image-link" title="open full size">
      <img className="pixelated result-image" src={shown} alt={label} data-testid={testId && `${testId}-image`} draggable={false} />
    </a>
  );
}

/** All outputs of one node, each under its name when there are several. */
export function OutputsView({ outputs, nodeId }: { outputs: Record<string, unknown>; nodeId: string }) {
  const entries = Object.entries(outputs);
  if (entries.length === 0) return null;
  return (
    <div className="outputs" data-testid={`outputs-${nodeId}`}>
      {entries.map(([name, value]) => (
        <div key={name} className="output-value" data-output={name}>
          {entries.length > 1 && <div className="output-name">{name}</div>}
          <ValueView value={value} label={`${nodeId} ${name}`} testId={`output-${nodeId}-${name}`} />
        </div>
      ))}
    </div>
  );
}
