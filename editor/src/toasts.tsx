// The toasts at the bottom of the page: short notices that go away after a while, or with their ×.

import type { Controller } from './controller';
import { useValue } from './store';

export function Toasts({ controller }: { controller: Controller }) {
  const toasts = useValue(controller.notices.toasts);
  return (
    <div className="toasts" aria-live="polite" data-testid="toasts">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`} role={t.kind === 'error' || t.kind === 'refused' ? 'alert' : 'status'} data-testid={`toast-${t.kind}`}>
          <span>{t.text}</span>
          <button type="button" className="icon-button" aria-label="dismiss" onClick={() => controller.notices.dismissToast(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
