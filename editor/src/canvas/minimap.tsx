// The minimap: every node as a box and the visible part of the graph as a frame; click or drag in it
// to move the view. It redraws at most once a frame, from the canvas's `view` signal. A button shows
// or hides it; in a small canvas it starts hidden, as it would cover nodes there.

import { useRef, useState, type PointerEvent } from 'react';
import { useValue } from '../store';
import type { Box } from './camera';
import type { Canvas } from './canvas';

const WIDTH = 180;
const HEIGHT = 120;
const PAD = 40;
/** Below this canvas size (px) the minimap starts hidden: it would take a fifth or more of the view. */
const ROOMY = { width: 720, height: 480 };

/** The nodes' boxes and the visible part of the graph, in graph coordinates. */
function minimapData(canvas: Canvas): { nodes: (Box & { id: string; selected: boolean })[]; viewport: Box } {
  const nodes = canvas.nodes().map((n) => ({ id: n.id, ...canvas.box(n), selected: Boolean(n.selected) }));
  return { nodes, viewport: canvas.camera.viewport() };
}

export function Minimap({ canvas }: { canvas: Canvas }) {
  useValue(canvas.view);
  /** The user's choice; until one is made, shown when the canvas has room for it. */
  const [chosen, choose] = useState<boolean | null>(null);
  if (canvas.nodes().length === 0) return null;
  const size = canvas.camera.viewSize();
  const open = chosen ?? (size.width >= ROOMY.width && size.height >= ROOMY.height);
  return (
    <div className="minimap-dock">
      {open && <MinimapView canvas={canvas} />}
      <button
        type="button"
        className="small minimap-toggle"
        data-testid="minimap-toggle"
        aria-pressed={open}
        title={open ? 'hide the minimap' : 'show the minimap'}
        onClick={() => choose(!open)}
      >
        {open ? 'hide map' : 'map'}
      </button>
    </div>
  );
}

function MinimapView({ canvas }: { canvas: Canvas }) {
  const svg = useRef<SVGSVGElement>(null);
  const { nodes, viewport } = minimapData(canvas);

  let left = viewport.x;
  let top = viewport.y;
  let right = viewport.x + viewport.w;
  let bottom = viewport.y + viewport.h;
  for (const n of nodes) {
    left = Math.min(left, n.x);
    top = Math.min(top, n.y);
    right = Math.max(right, n.x + n.w);
    bottom = Math.max(bottom, n.y + n.h);
  }
  left -= PAD;
  top -= PAD;
  right += PAD;
  bottom += PAD;
  const scale = Math.min(WIDTH / (right - left), HEIGHT / (bottom - top));

  const moveTo = (e: PointerEvent<SVGSVGElement>) => {
    const box = svg.current!.getBoundingClientRect();
    void canvas.camera.centreOn({ x: left + (e.clientX - box.left) / scale, y: top + (e.clientY - box.top) / scale });
  };

  return (
    <svg
      ref={svg}
      className="minimap"
      data-testid="minimap"
      width={WIDTH}
      height={HEIGHT}
      role="img"
      aria-label="minimap: click to move the view"
      onPointerDown={(e) => {
        e.stopPropagation();
        e.currentTarget.setPointerCapture(e.pointerId);
        moveTo(e);
      }}
      onPointerMove={(e) => {
        if (e.currentTarget.hasPointerCapture(e.pointerId)) moveTo(e);
      }}
    >
      <g transform={`scale(${scale}) translate(${-left} ${-top})`}>
        {nodes.map((n) => (
          <rect key={n.id} className={n.selected ? 'mini-node selected' : 'mini-node'} x={n.x} y={n.y} width={n.w} height={n.h} rx={6} />
        ))}
        <rect className="mini-viewport" x={viewport.x} y={viewport.y} width={viewport.w} height={viewport.h} vectorEffect="non-scaling-stroke" />
      </g>
    </svg>
  );
}
