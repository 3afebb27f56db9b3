// The frame every dialog of the editor shares: a labelled modal over the page, and its row of
// Cancel and confirm buttons.

import { useEffect, useRef, type ReactNode } from 'react';

/** A dialog over the editor: labelled, closes on Escape (handled by the shortcuts) or the backdrop. */
export function Modal({ title, onClose, children, testId, wide }: { title: string; onClose(): void; children: ReactNode; testId: string; wide?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const first = ref.current?.querySelector<HTMLElement>('[autofocus], input, select, textarea, button:not(.modal-close)');
    first?.focus();
    return () => previous?.focus?.();
  }, []);
  return (
    <div className="modal-backdrop" onPointerDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className={`modal${wide ? ' wide' : ''}`} role="dialog" aria-modal="true" aria-label={title} data-testid={testId} ref={ref}>
        <header>
          <h2>{title}</h2>
          <button type="button" className="modal-close icon-button" aria-label="close" onClick={onClose}>
            ×
          </button>
        </header>
        <div className="modal-body">{children}</div>
      </div>
    </div>
  );
}

/**
 * A dialog's Cancel button and its primary one: the submit button of the form it sits in, or, given
 * `onConfirm`, a button of its own.
 */
export function DialogActions(props: { onCancel(): void; label: ReactNode; testId: string; onConfirm?(): void; danger?: boolean; autoFocus?: boolean }) {
  return (
    <div className="dialog-actions">
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
      <button
        type={props.onConfirm ? 'button' : 'submit'}
        className={props.danger ? 'primary danger' : 'primary'}
        data-testid={props.testId}
        autoFocus={props.autoFocus}
        onClick={props.onConfirm}
      >
        {props.label}
      </button>
    </div>
  );
}
