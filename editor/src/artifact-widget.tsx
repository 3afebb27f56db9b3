// An image param's widget: a drop zone (or click to pick a file) that uploads, the artifact id it
// got, and a thumbnail.

import { useState } from 'react';
import { AuthorizedImage } from './authorized-image';
import type { Common, WidgetProps } from './widget-props';

/** An image param: a drop zone (or click to pick a file) that uploads, the id it got, and a thumbnail. */
export function ArtifactWidget(props: WidgetProps & { common: Common }) {
  const { shown, onChange, common, upload } = props;
  const [state, setState] = useState<string | null>(null);
  const [over, setOver] = useState(false);
  const artifact = typeof shown === 'string' && shown ? shown : null;
  const send = async (file: File | undefined) => {
    if (!file || !upload) return;
    setState('uploading…');
    try {
      const result = await upload(file);
      setState(null);
      onChange(result.artifact);
    } catch (err) {
      setState((err as Error).message);
    }
  };
  return (
    <div className="artifact-row">
      {upload && (
        <label
          className={`drop-zone${over ? ' over' : ''}`}
          data-testid={`${props.testId}-drop`}
          onDragOver={(e) => {
            if (!e.dataTransfer.types.includes('Files')) return;
            e.preventDefault();
            e.stopPropagation();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={(e) => {
            if (!e.dataTransfer.files.length) return;
            e.preventDefault();
            e.stopPropagation();
            setOver(false);
            void send(e.dataTransfer.files[0]);
          }}
        >
          {artifact ? (
            <AuthorizedImage className="pixelated thumb" alt={`uploaded image ${artifact}`} src={`/api/artifacts/${encodeURIComponent(artifact)}`} />
          ) : (
            <span>Drop an image here, or click to upload</span>
          )}
          <input
            type="file"
            accept="image/*"
            data-testid={`${props.testId}-upload`}
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              void send(file);
            }}
          />
        </label>
      )}
      <input {...common} type="text" placeholder="artifact id" value={artifact ?? ''} onChange={(e) => onChange(e.target.value || undefined)} />
      {state && <div className="field-issue">{state}</div>}
    </div>
  );
}
