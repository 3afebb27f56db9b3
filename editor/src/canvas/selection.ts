// Which nodes are selected: click (Ctrl/Cmd/Shift-click adds), select all, a box drawn on screen,
// keyboard stepping from node to node, and nudging the selected nodes.

import type { NodeEditor } from 'rete';
import { AreaExtensions, type AreaPlugin } from 'rete-area-plugin';
import type { PicNode, Schemes } from './node';

export interface SelectionHost {
  position(id: string): { x: number; y: number };
  reveal(id: string): Promise<void>;
  onChange(): void;
}

export class Selection {
  private readonly selector = AreaExtensions.selector();
  private readonly selectable: ReturnType<typeof AreaExtensions.selectableNodes>;
  private modifierHeld = false;
  private readonly onPointer = (e: PointerEvent) => {
    this.modifierHeld = e.ctrlKey || e.metaKey || e.shiftKey;
  };

  constructor(
    private readonly editor: NodeEditor<Schemes>,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private readonly area: AreaPlugin<Schemes, any>,
    private readonly host: SelectionHost,
  ) {
    // Ctrl/Cmd/Shift-click adds to the selection; read from the pointer event itself so it also
    // works when the key went down outside the page.
    window.addEventListener('pointerdown', this.onPointer, true);
    this.selectable = AreaExtensions.selectableNodes(this.area, this.selector, { accumulating: { active: () => this.modifierHeld } });
  }

  dispose(): void {
    window.removeEventListener('pointerdown', this.onPointer, true);
  }

  selected(): PicNode[] {
    return this.editor.getNodes().filter((n) => n.selected);
  }

  async select(id: string, accumulate: boolean): Promise<void> {
    await this.selectable.select(id, accumulate);
    this.host.onChange();
  }

  async selectAll(): Promise<void> {
    const nodes = this.editor.getNodes();
    for (const n of nodes) await this.selectable.select(n.id, true);
    this.host.onChange();
  }

  async unselectAll(): Promise<void> {
    await this.selector.unselectAll();
    this.host.onChange();
  }

  /** Forgets a node about to be removed, without telling anyone yet. */
  async forget(id: string): Promise<void> {
    await this.selector.remove({ id, label: 'node' });
  }

  /** Clears the selection without telling anyone (a load or a paste that selects anew). */
  async clearQuietly(): Promise<void> {
    await this.selector.unselectAll();
  }

  /** Selects the nodes whose boxes meet a rectangle given in client (screen) coordinates. */
  async selectInRect(rect: { left: number; top: number; right: number; bottom: number }, accumulate: boolean): Promise<void> {
    if (!accumulate) await this.selector.unselectAll();
    for (const n of this.editor.getNodes()) {
      const el = this.area.nodeViews.get(n.id)?.element;
      if (!el) continue;
      const box = el.getBoundingClientRect();
      if (box.right >= rect.left && box.left <= rect.right && box.bottom >= rect.top && box.top <= rect.bottom) {
        await this.selectable.select(n.id, true);
      }
    }
    this.host.onChange();
  }

  /** Moves the selected nodes by dx, dy graph units (keyboard nudging). */
  async nudgeSelected(dx: number, dy: number): Promise<void> {
    for (const n of this.selected()) {
      const p = this.host.position(n.id);
      await this.area.translate(n.id, { x: p.x + dx, y: p.y + dy });
    }
  }

  /** Selects the next (or previous) node in reading order: keyboard navigation between nodes. */
  async cycleSelection(step: 1 | -1): Promise<string | null> {
    const nodes = this.editor.getNodes().map((n) => ({ id: n.id, ...this.host.position(n.id) }));
    if (nodes.length === 0) return null;
    nodes.sort((a, b) => a.x - b.x || a.y - b.y);
    const current = this.selected()[0];
    const index = current ? nodes.findIndex((n) => n.id === current.id) : -1;
    const next = nodes[(index + step + nodes.length) % nodes.length];
    await this.select(next.id, false);
    await this.host.reveal(next.id);
    return next.id;
  }
}
