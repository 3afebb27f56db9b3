// A link let go on empty canvas: ComfyUI's quick way to add the next node. A new link dragged from a
// socket and dropped on no socket and no node is reported with its socket and the drop point; a link
// detached from an input (dragged off to remove it) and a refused link are not.

import type { NodeEditor } from 'rete';
import type { ConnectionPlugin } from 'rete-connection-plugin';
import type { LinkEnd } from './connect-rules';
import type { Schemes } from './node';

export interface LinkRelease {
  from: LinkEnd;
  clientX: number;
  clientY: number;
}

export interface LinkReleaseWatch {
  /** The link in hand was refused: its drop is no release. */
  refused(): void;
  dispose(): void;
}

export function watchLinkRelease(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  connection: ConnectionPlugin<Schemes, any>,
  editor: NodeEditor<Schemes>,
  container: HTMLElement,
  onRelease: (release: LinkRelease) => void,
): LinkReleaseWatch {
  let picked: { end: LinkEnd; detached: boolean; refused: boolean } | null = null;
  let lastUp: { target: EventTarget | null; clientX: number; clientY: number } | null = null;
  const onUp = (e: PointerEvent) => {
    lastUp = { target: e.target, clientX: e.clientX, clientY: e.clientY };
  };
  window.addEventListener('pointerup', onUp, true);

  connection.addPipe((context) => {
    if (context.type === 'connectionpick') {
      const { nodeId, side, key } = context.data.socket;
      picked = { end: { nodeId, side, key }, detached: false, refused: false };
    } else if (context.type === 'connectiondrop') {
      const { socket, created } = context.data;
      const up = lastUp;
      const wasPicked = picked;
      picked = null;
      if (!wasPicked || wasPicked.detached || wasPicked.refused || created || socket || !up) return context;
      const target = up.target instanceof Element ? up.target : null;
      if (!target || !container.contains(target) || target.closest('.pf-node')) return context;
      onRelease({ from: wasPicked.end, clientX: up.clientX, clientY: up.clientY });
    }
    return context;
  });
  // Picking a linked input takes the link off it (Rete removes it right after the pick).
  editor.addPipe((context) => {
    if (context.type === 'connectionremoved' && picked && !picked.detached) {
      const c = context.data;
      if (c.source === picked.end.nodeId && String(c.sourceOutput) === picked.end.key && picked.end.side === 'output') picked.detached = true;
    }
    return context;
  });

  return {
    refused: () => {
      if (picked) picked.refused = true;
    },
    dispose: () => window.removeEventListener('pointerup', onUp, true),
  };
}
