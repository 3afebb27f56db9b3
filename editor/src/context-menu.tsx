// The right-click menu: on the canvas, a searchable list of nodes to add there; on a node or a
// link, what can be done to it.

import { useEffect, useRef } from 'react';
import type { Controller } from './controller';
import { Palette } from './palette';
import { useValue } from './store';

export function ContextMenu({ controller }: { controller: Controller }) {
  const request = useValue(controller.contextMenu);
  const catalog = useValue(controller.catalog);
  const ref = useRef<HTMLDivElement>(null);
  const close = () => controller.contextMenu.set(null);

  useEffect(() => {
    if (!request) return;
    const onDown = (e: PointerEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) close();
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') close();
    };
    window.addEventListener('pointerdown', onDown, true);
    window.addEventListener('keydown', onKey);
    // Focus the first item so the menu works from the keyboard.
    ref.current?.querySelector<HTMLElement>('input, button')?.focus();
    return () => {
      window.removeEventListener('pointerdown', onDown, true);
      window.removeEventListener('keydown', onKey);
    };
  }, [request]);

  if (!request) return null;
  const canvas = controller.canvas;
  const style = {
    left: Math.min(request.clientX, window.innerWidth - 300),
    top: Math.min(request.clientY, window.innerHeight - (request.kind === 'root' ? 420 : 200)),
  };
  const act = (fn: () => unknown) => () => {
    close();
    void fn();
  };

  return (
    <div className="context-menu" style={style} ref={ref} data-testid="context-menu" role="menu">
      {request.kind === 'root' && (
        <>
          <div className="menu-title">Add node here</div>
          <Palette catalog={catalog} testId="menu-palette" autoFocus onEscape={close} onAdd={(type) => act(() => controller.addNode(type, request.at))()} />
          <div className="menu-row">
            <button type="button" role="menuitem" onClick={act(() => controller.clipboard.paste(request.at))}>
              Paste
            </button>
            <button type="button" role="menuitem" onClick={act(() => canvas?.selection.selectAll())}>
              Select all
            </button>
            <button type="button" role="menuitem" onClick={act(() => canvas?.camera.fit())}>
              Fit view
            </button>
          </div>
        </>
      )}
      {request.kind === 'node' && request.id && (
        <>
          <div className="menu-title">{request.id}</div>
          <button type="button" role="menuitem" data-testid="menu-link" onClick={act(() => controller.notices.dialog.set({ kind: 'link', nodeId: request.id! }))}>
            Connect inputs…
          </button>
          <button type="button" role="menuitem" data-testid="menu-duplicate" onClick={act(() => controller.clipboard.duplicate())}>
            Duplicate
          </button>
          <button type="button" role="menuitem" data-testid="menu-copy" onClick={act(() => controller.clipboard.copy())}>
            Copy
          </button>
          <button type="button" role="menuitem" data-testid="menu-delete" className="danger" onClick={act(() => canvas?.deleteSelected())}>
            Delete
          </button>
        </>
      )}
      {request.kind === 'link' && request.id && (
        <button type="button" role="menuitem" data-testid="menu-delete-link" className="danger" onClick={act(() => canvas?.links.remove(request.id!))}>
          Delete link
        </button>
      )}
    </div>
  );
}
