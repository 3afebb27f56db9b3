// The editor's page: the top bar, the palette, the canvas with its zoom controls, selection box and
// file drop, the side panel, and the overlays (menus, dialogs, toasts); it starts the controller.

import { useEffect, useLayoutEffect, useRef, useState, type DragEvent, type PointerEvent as ReactPointerEvent } from 'react';
import { Minimap } from './canvas/minimap';
import { SOCKET_LEGEND, socketColour } from './canvas/socket-colors';
import { ContextMenu } from './context-menu';
import type { Controller } from './controller';
import { Dialogs } from './dialogs';
import { ImageViewer } from './image-viewer';
import { NODE_DRAG_TYPE, Palette } from './palette';
import { installShortcuts } from './shortcuts';
import { SidePanel } from './side-panel';
import { useValue } from './store';
import { Toasts } from './toasts';
import { TokenDialog } from './token-dialog';
import { TopBar } from './top-bar';

export function App({ controller }: { controller: Controller }) {
  const container = useRef<HTMLDivElement>(null);
  const started = useRef(false);
  const catalog = useValue(controller.catalog);
  const ready = useValue(controller.ready);
  const loadError = useValue(controller.loadError);
  const dirty = useValue(controller.document.dirty);

  // Started before the first paint, so that a workflow named in the URL can be in it.
  useLayoutEffect(() => {
    if (started.current || !container.current) return;
    started.current = true;
    void controller.start(container.current);
  }, [controller]);

  useEffect(() => installShortcuts(controller), [controller]);

  // Leaving with unsaved changes asks first.
  useEffect(() => {
    if (!dirty) return;
    const onLeave = (e: BeforeUnloadEvent) => {
      e.preventDefault();
    };
    window.addEventListener('beforeunload', onLeave);
    return () => window.removeEventListener('beforeunload', onLeave);
  }, [dirty]);

  return (
    <div className="app" data-testid="app" data-ready={ready ? 'true' : 'false'}>
      <TopBar controller={controller} />
      <div className="workspace">
        <aside className="left-panel" aria-label="node palette">
          <Palette catalog={catalog} onAdd={(type) => void controller.addNode(type)} />
          <div className="legend" aria-label="socket colours">
            {SOCKET_LEGEND.map((t) => (
              <span key={t} className="legend-item">
                <span className="dot" style={{ background: socketColour(t) }} />
                {t}
              </span>
            ))}
          </div>
        </aside>
        <CanvasArea controller={controller} containerRef={container} />
        <SidePanel controller={controller} />
      </div>
      {loadError && (
        <div className="fatal" role="alert" data-testid="load-error">
          {loadError}
        </div>
      )}
      <ContextMenu controller={controller} />
      <Dialogs controller={controller} />
      <Toasts controller={controller} />
      <TokenDialog />
      <ImageViewer />
    </div>
  );
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function CanvasArea({ controller, containerRef }: { controller: Controller; containerRef: React.RefObject<HTMLDivElement | null> }) {
  const [box, setBox] = useState<Box | null>(null);
  const boxRef = useRef<Box | null>(null);
  const [dropping, setDropping] = useState(false);
  const selected = useValue(controller.selectionCount);
  const ready = useValue(controller.ready);
  const zoomedOut = useValue(controller.ctx.lite);
  const viewing = useValue(controller.runView.viewing);

  // Shift-drag on the background draws a selection box instead of panning.
  const onPointerDownCapture = (e: ReactPointerEvent<HTMLDivElement>) => {
    if (!e.shiftKey || e.button !== 0) return;
    const target = e.target as HTMLElement;
    if (target.closest('.pf-node, .zoom-controls, .minimap, [data-testid="minimap"]')) return;
    e.stopPropagation();
    e.preventDefault();
    const start = { x0: e.clientX, y0: e.clientY, x1: e.clientX, y1: e.clientY };
    boxRef.current = start;
    setBox(start);
    const move = (ev: PointerEvent) => {
      boxRef.current = { ...boxRef.current!, x1: ev.clientX, y1: ev.clientY };
      setBox(boxRef.current);
    };
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      const b = boxRef.current!;
      boxRef.current = null;
      setBox(null);
      void controller.canvas?.selection.selectInRect(
        { left: Math.min(b.x0, b.x1), right: Math.max(b.x0, b.x1), top: Math.min(b.y0, b.y1), bottom: Math.max(b.y0, b.y1) },
        true,
      );
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  };

  // A node from the palette lands centred where it is let go; a workflow JSON or a PNG that carries
  // its workflow opens.
  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    setDropping(false);
    const file = e.dataTransfer.files[0];
    if (file) {
      e.preventDefault();
      void controller.files.importFile(file);
      return;
    }
    const type = e.dataTransfer.getData(NODE_DRAG_TYPE);
    if (!type || !controller.canvas) return;
    e.preventDefault();
    void controller.addNode(type, controller.canvas.camera.clientToGraph(e.clientX, e.clientY));
  };

  return (
    <main
      className={`canvas-wrap${dropping ? ' dropping' : ''}${viewing ? ' viewing' : ''}`}
      onPointerDownCapture={onPointerDownCapture}
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes(NODE_DRAG_TYPE) || e.dataTransfer.types.includes('Files')) {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
          setDropping(true);
        }
      }}
      onDragLeave={() => setDropping(false)}
      onDrop={onDrop}
    >
      <div className="canvas" ref={containerRef} data-testid="canvas" tabIndex={-1} aria-label="workflow canvas" />
      <div className="zoom-controls" role="toolbar" aria-label="view">
        <button type="button" aria-label="zoom in" onClick={() => void controller.canvas?.camera.zoomBy(1.2)}>
          +
        </button>
        <button type="button" aria-label="zoom out" onClick={() => void controller.canvas?.camera.zoomBy(1 / 1.2)}>
          −
        </button>
        <button type="button" onClick={() => void controller.canvas?.camera.fit()} data-testid="fit-button" title="F">
          Fit
        </button>
        <button type="button" onClick={() => void controller.canvas?.camera.zoomTo(1)} data-testid="zoom-100" title="0">
          100%
        </button>
        <button type="button" onClick={() => void controller.canvas?.arrange()} data-testid="arrange-button" title="Shift+L">
          Arrange
        </button>
        <button type="button" onClick={() => void controller.canvas?.undo()} aria-label="undo" title="Ctrl+Z">
          ↶
        </button>
        <button type="button" onClick={() => void controller.canvas?.redo()} aria-label="redo" title="Ctrl+Shift+Z">
          ↷
        </button>
        {zoomedOut && (
          <span className="zoom-hint" data-testid="zoom-hint">
            zoomed out: widgets hidden
          </span>
        )}
        {selected > 0 && (
          <button type="button" className="danger" onClick={() => void controller.canvas?.deleteSelected()} data-testid="delete-selected">
            Delete {selected}
          </button>
        )}
      </div>
      {viewing && (
        <div className="viewing-banner" role="status" data-testid="viewing-banner">
          <span>
            Run <code>{viewing.id.slice(0, 8)}</code>
            {viewing.createdAt ? ` of ${new Date(viewing.createdAt).toLocaleString()}` : ''}: its own graph, read-only
          </span>
          <button type="button" className="primary small" onClick={() => void controller.runView.restore()} data-testid="restore-version">
            Restore this version
          </button>
          <button type="button" className="small" onClick={() => void controller.runView.leave()} data-testid="leave-view">
            Back to current
          </button>
        </div>
      )}
      {ready && controller.canvas && <Minimap canvas={controller.canvas} />}
      {box && (
        <div
          className="select-box"
          style={{
            left: Math.min(box.x0, box.x1),
            top: Math.min(box.y0, box.y1),
            width: Math.abs(box.x1 - box.x0),
            height: Math.abs(box.y1 - box.y0),
          }}
        />
      )}
    </main>
  );
}
