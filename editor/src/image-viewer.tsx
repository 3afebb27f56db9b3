// The full-size image viewer: opened from a list of images (a node's grid, the gallery), it shows
// one at a time; arrow keys step through, Escape closes.

import { AuthorizedImage } from './authorized-image';
import { useEffect } from 'react';
import { Observable, useValue } from './store';
import type { ImageRef } from '../../engine/contract';

export interface ViewerImage extends ImageRef {
  /** What the image is (output name, run), shown under it. */
  label?: string;
}

const shown = new Observable<{ images: ViewerImage[]; index: number } | null>(null);

export function openViewer(images: ViewerImage[], index = 0): void {
  if (images.length > 0) shown.set({ images, index: Math.max(0, Math.min(index, images.length - 1)) });
}

export function ImageViewer() {
  const state = useValue(shown);
  useEffect(() => {
    if (!state) return;
    const onKey = (e: KeyboardEvent) => {
      const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
      if (e.key === 'Escape') shown.set(null);
      else if (step) shown.set({ ...state, index: (state.index + step + state.images.length) % state.images.length });
      else return;
      e.preventDefault();
      e.stopPropagation();
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [state]);
  if (!state) return null;
  const image = state.images[state.index];
  return (
    <div className="image-viewer" role="dialog" aria-label="image viewer" data-testid="image-viewer" onClick={() => shown.set(null)}>
      <figure onClick={(e) => e.stopPropagation()}>
        <AuthorizedImage className="pixelated" src={image.url} alt={image.label ?? `image ${state.index + 1}`} data-testid="viewer-image" />
        <figcaption>
          <span data-testid="viewer-position">
            {state.index + 1} / {state.images.length}
          </span>
          {image.label && <span className="muted"> · {image.label}</span>}
          <span className="muted">
            {image.width && image.height ? ` · ${image.width}×${image.height}` : ''} · ← → to step, Esc to close
          </span>
          <a href={image.url} download className="button small">
            download
          </a>
        </figcaption>
      </figure>
    </div>
  );
}
