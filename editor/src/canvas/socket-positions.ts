// Where links attach to sockets, computed from the node's place and the socket's fixed offset.

import type { NodeEditor, Scope } from 'rete';
import { BaseAreaPlugin } from 'rete-area-plugin';
import type { SocketPositionWatcher } from 'rete-render-utils';
import { socketOffset } from './layout';
import type { Schemes } from './node';

type Change = (position: { x: number; y: number }) => void;

/**
 * Where links attach: the node's position plus the socket's fixed offset (see layout.ts). Rete's
 * DOM-based watcher measures every socket element as it mounts, which forces a layout per socket.
 */
export class FixedSocketPositions implements SocketPositionWatcher<Scope<never, [unknown]>> {
  private readonly listeners = new Map<string, Set<() => void>>();

  constructor(
    private readonly editor: NodeEditor<Schemes>,
    private readonly area: BaseAreaPlugin<Schemes, unknown>,
  ) {
    area.addPipe((context) => {
      const c = context as { type?: string; data?: { id?: string } };
      if ((c.type === 'nodetranslated' || c.type === 'noderesized') && c.data?.id) this.notify(c.data.id);
      return context;
    });
  }

  /** Part of Rete's watcher contract; this watcher listens to the area it was made with. */
  attach(_scope: Scope<never, [unknown]>): void {}

  private notify(nodeId: string): void {
    for (const listener of this.listeners.get(nodeId) ?? []) listener();
  }

  private position(nodeId: string, side: 'input' | 'output', key: string): { x: number; y: number } | null {
    const node = this.editor.getNode(nodeId);
    const view = this.area.nodeViews.get(nodeId);
    if (!node || !view) return null;
    const ports = side === 'input' ? node.ports.inputs : node.ports.outputs;
    const index = ports.findIndex((p) => p.name === key);
    if (index < 0) return null;
    const offset = socketOffset(side, index);
    return { x: view.position.x + offset.x, y: view.position.y + offset.y };
  }

  listen(nodeId: string, side: 'input' | 'output', key: string, change: Change): () => void {
    const update = () => {
      const p = this.position(nodeId, side, key);
      if (p) change(p);
    };
    let set = this.listeners.get(nodeId);
    if (!set) this.listeners.set(nodeId, (set = new Set()));
    set.add(update);
    update();
    return () => {
      set.delete(update);
      if (set.size === 0) this.listeners.delete(nodeId);
    };
  }
}
