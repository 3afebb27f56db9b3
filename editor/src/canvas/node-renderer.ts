// Draws the area's nodes: each node's frame as plain DOM (node-shell.ts) and, while nodes are shown
// in full, its widgets with React (node-body.tsx). A React root per node costs React's ~145
// delegated listeners, so roots are made only for nodes shown in full, a batch at a time: each batch
// renders synchronously, so the browser lays it out once.

import type { ReactNode } from 'react';
import { flushSync } from 'react-dom';
import { createRoot, type Root } from 'react-dom/client';
import type { BaseAreaPlugin } from 'rete-area-plugin';
import type { PicNode, Schemes } from './node';
import { NodeShell, type Emit } from './node-shell';
import { hasBody } from './node-state';
import type { ViewContext } from './view-context';

type NodeSignal =
  | { type: 'render'; data: { type?: string; element: HTMLElement; payload: PicNode } }
  | { type: 'unmount'; data: { element: HTMLElement } };

export interface NodeRendering {
  /** The element the area is in: the nodes' double-click listener sits on it. */
  container: HTMLElement;
  ctx: ViewContext;
  /** A node's React widgets. */
  body: (node: PicNode) => ReactNode;
  /**
   * Takes the sockets' render and unmount signals: only the connection plugin uses them (it picks
   * links from them), so they go to it straight rather than through every plugin of the area.
   */
  announce: Emit;
  /** How far a node is from the visible part of the canvas (0 when in view), in screen pixels. */
  distanceFromView(node: PicNode): number;
}

export interface NodeRenderer {
  /** Swaps a node's title for a text field; false when the node is not drawn. */
  editTitle(nodeId: string): boolean;
  dispose(): void;
}

/**
 * Widget roots mounted per frame, nearest the view first: zooming in on a large graph shows widgets
 * where the user looks at once, and the rest follow without one long freeze.
 */
const MOUNT_PER_FRAME = 40;

export function renderNodes(
  area: BaseAreaPlugin<Schemes, unknown>,
  { container, ctx, body, announce, distanceFromView }: NodeRendering,
): NodeRenderer {
  /** By the element Rete gives each node (the frame's parent). */
  const shells = new Map<Element, NodeShell>();
  const roots = new Map<NodeShell, Root>();
  const waiting = new Set<NodeShell>();
  let scheduled = false;

  // One observer for all nodes keeps their heights current for the minimap, fitting and arranging;
  // it reports after layout, so mounting many nodes never forces a layout per node.
  const sizes = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const shell = shells.get(entry.target);
      const height = entry.borderBoxSize?.[0]?.blockSize;
      if (shell && height !== undefined && height !== shell.node.height) {
        shell.node.height = height;
        ctx.resized(shell.node.id);
      }
    }
  });

  const mountBodies = () => {
    scheduled = false;
    if (ctx.lite.get()) {
      waiting.clear();
      return;
    }
    const batch = [...waiting].sort((a, b) => distanceFromView(a.node) - distanceFromView(b.node)).slice(0, MOUNT_PER_FRAME);
    for (const shell of batch) waiting.delete(shell);
    flushSync(() => {
      for (const shell of batch) {
        const root = createRoot(shell.body!);
        roots.set(shell, root);
        root.render(body(shell.node));
      }
    });
    if (waiting.size > 0) schedule(requestAnimationFrame);
  };
  const schedule = (when: (run: () => void) => unknown) => {
    if (scheduled) return;
    scheduled = true;
    when(mountBodies);
  };
  const wantBody = (shell: NodeShell) => {
    if (!shell.body || roots.has(shell) || ctx.lite.get()) return;
    waiting.add(shell);
    schedule((run) => setTimeout(run, 0));
  };
  const stopLite = ctx.lite.subscribe(() => {
    for (const shell of shells.values()) wantBody(shell);
  });

  // One listener for all nodes' titles rather than one per node.
  const shellAt = (target: EventTarget | null) => {
    const host = target instanceof Element ? target.closest('.pf-node')?.parentElement : null;
    return host ? shells.get(host) : undefined;
  };
  // Captured, so that the area's own double-click (zoom) does not see a rename.
  const onDoubleClick = (e: MouseEvent) => {
    const shell = e.target instanceof Element && e.target.closest('.pf-node-title') ? shellAt(e.target) : undefined;
    if (!shell) return;
    e.stopPropagation();
    shell.editTitle();
  };
  container.addEventListener('dblclick', onDoubleClick, true);

  area.addPipe((context) => {
    const c = context as NodeSignal;
    if (c.type === 'render' && c.data.type === 'node') {
      let shell = shells.get(c.data.element);
      if (shell) shell.refresh();
      else {
        shell = new NodeShell(c.data.element, c.data.payload, ctx, announce, hasBody(c.data.payload));
        shells.set(c.data.element, shell);
        sizes.observe(c.data.element);
        wantBody(shell);
      }
    } else if (c.type === 'unmount') {
      const shell = shells.get(c.data.element);
      if (shell) {
        shells.delete(c.data.element);
        sizes.unobserve(c.data.element);
        waiting.delete(shell);
        roots.get(shell)?.unmount();
        roots.delete(shell);
        shell.destroy();
      }
    }
    return context;
  });

  return {
    editTitle(nodeId) {
      const shell = [...shells.values()].find((s) => s.node.id === nodeId);
      shell?.editTitle();
      return Boolean(shell);
    },
    dispose() {
      stopLite();
      container.removeEventListener('dblclick', onDoubleClick, true);
      sizes.disconnect();
    },
  };
}
