// Renders each node's view with React into the element Rete gives it. One root per node (Rete owns
// the elements), but the roots render together: renders asked for while the graph is being built
// wait for the end of the task and then run in one synchronous batch, so the browser lays the graph
// out once. Links and sockets are not React roots (see link-renderer.ts and SocketRef).

import type { ReactNode } from 'react';
import { flushSync } from 'react-dom';
import { createRoot, type Root } from 'react-dom/client';
import type { BaseAreaPlugin } from 'rete-area-plugin';
import type { PicNode, Schemes } from './node';

export type Emit = (signal: unknown) => void;

export function renderNodes(area: BaseAreaPlugin<Schemes, unknown>, view: (node: PicNode, emit: Emit) => ReactNode): void {
  const roots = new Map<HTMLElement, Root>();
  const pending = new Map<Root, ReactNode>();
  let scheduled = false;
  const emit: Emit = (signal) => void area.emit(signal as never);

  const flush = () => {
    scheduled = false;
    const batch = [...pending];
    pending.clear();
    flushSync(() => {
      for (const [root, element] of batch) root.render(element);
    });
  };

  area.addPipe((context) => {
    const c = context as { type: string; data: { type?: string; element: HTMLElement; payload?: PicNode } };
    if (c.type === 'render' && c.data.type === 'node') {
      let root = roots.get(c.data.element);
      if (!root) roots.set(c.data.element, (root = createRoot(c.data.element)));
      pending.set(root, view(c.data.payload!, emit));
      if (!scheduled) {
        scheduled = true;
        setTimeout(flush, 0);
      }
    } else if (c.type === 'unmount') {
      const root = roots.get(c.data.element);
      if (root) {
        pending.delete(root);
        roots.delete(c.data.element);
        root.unmount();
      }
    }
    return context;
  });
}
