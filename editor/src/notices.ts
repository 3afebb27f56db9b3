// Notices: the toasts at the bottom, and the one dialog open at a time (a confirm question among them).

import { Observable } from './store';

export interface Toast {
  id: number;
  kind: 'info' | 'error' | 'refused' | 'success';
  text: string;
}

export type Dialog =
  | { kind: 'open' }
  | { kind: 'save-as' }
  | { kind: 'templates' }
  | { kind: 'trigger' }
  | { kind: 'help' }
  | { kind: 'gallery' }
  | { kind: 'node-search'; from: { nodeId: string; side: 'input' | 'output'; key: string }; at: { x: number; y: number }; clientX: number; clientY: number }
  | { kind: 'link'; nodeId: string }
  | { kind: 'confirm'; message: string; confirmLabel: string; resolve(ok: boolean): void };

export class Notices {
  readonly toasts = new Observable<Toast[]>([]);
  readonly dialog = new Observable<Dialog | null>(null);
  private toastId = 0;

  toast(kind: Toast['kind'], text: string, ms = kind === 'error' || kind === 'refused' ? 6000 : 3000): void {
    const id = ++this.toastId;
    this.toasts.update((list) => [...list.slice(-4), { id, kind, text }]);
    setTimeout(() => this.dismissToast(id), ms);
  }

  dismissToast(id: number): void {
    this.toasts.update((list) => list.filter((t) => t.id !== id));
  }

  confirm(message: string, confirmLabel = 'Discard changes'): Promise<boolean> {
    return new Promise((resolve) => {
      this.dialog.set({
        kind: 'confirm',
        message,
        confirmLabel,
        resolve: (ok) => {
          this.dialog.set(null);
          resolve(ok);
        },
      });
    });
  }
}
