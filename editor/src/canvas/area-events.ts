// What the area reports, handed on: pans and zooms to the minimap and the level of detail, node moves
// to the document's changes, picks to the selection (the picked node comes to the front), and
// right-clicks to the context menu with what was clicked.

import type { AreaPlugin } from 'rete-area-plugin';
import type { Camera } from './camera';
import { PicNode, type Schemes } from './node';
import type { Selection } from './selection';

export interface ContextMenuRequest {
  kind: 'root' | 'node' | 'link';
  id?: string;
  clientX: number;
  clientY: number;
  /** Where on the canvas (graph coordinates) the menu was opened. */
  at: { x: number; y: number };
}

export interface AreaHandlers {
  /** A node moved: the document changed. */
  moved(): void;
  /** What the minimap draws changed. */
  viewChanged(): void;
  onSelectionChange?(): void;
  onContextMenu(request: ContextMenuRequest): void;
}

export function routeAreaEvents(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  area: AreaPlugin<Schemes, any>,
  camera: Camera,
  selection: Selection,
  handlers: AreaHandlers,
): void {
  area.addPipe((context) => {
    if (context.type === 'translated' || context.type === 'zoomed' || context.type === 'resized') handlers.viewChanged();
    if (context.type === 'zoomed') camera.setDetail(area.area.transform.k);
    if (context.type === 'nodetranslated') {
      handlers.moved();
      handlers.viewChanged();
    }
    if (context.type === 'nodepicked') queueMicrotask(() => handlers.onSelectionChange?.());
    if (context.type === 'contextmenu') {
      const { event, context: target } = context.data;
      event.preventDefault();
      event.stopPropagation();
      area.area.setPointerFrom(event);
      const at = { ...area.area.pointer };
      const where = { clientX: event.clientX, clientY: event.clientY, at };
      if (target === 'root') handlers.onContextMenu({ kind: 'root', ...where });
      else if (target instanceof PicNode) {
        if (!target.selected) void selection.select(target.id, false);
        handlers.onContextMenu({ kind: 'node', id: target.id, ...where });
      } else handlers.onContextMenu({ kind: 'link', id: (target as Schemes['Connection']).id, ...where });
      return undefined;
    }
    return context;
  });
}

/**
 * A picked node comes to the front (links stay under all nodes by their z-index). Its element moves
 * only when another is in front of it: moving it on every press (as Rete's simpleNodesOrder does)
 * takes it out of the page between the two clicks of a double-click, and the browser then sees no
 * double-click.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function bringPickedToFront(area: AreaPlugin<Schemes, any>): void {
  const content = area.area.content;
  area.addPipe((context) => {
    if (context.type === 'nodepicked') {
      const element = area.nodeViews.get(context.data.id)?.element;
      if (element && content.holder.lastElementChild !== element) void content.reorder(element, null);
    }
    return context;
  });
}
