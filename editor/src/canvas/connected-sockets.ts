// Which sockets have a link, kept from the editor's link events, so a node draws its sockets filled
// or hollow; a node whose links change redraws at once, or once at the end of a quiet batch (a load).

import type { NodeEditor } from 'rete';
import type { KeyedStore } from '../store';
import type { Schemes } from './node';
import { bump } from './view-context';

export class ConnectedSockets {
  /** `${nodeId}:${side}:${key}` of every linked socket. */
  private readonly keys = new Set<string>();
  /** Nodes whose links changed while quiet; they redraw once at the end (see flush). */
  private readonly pending = new Set<string>();

  constructor(
    editor: NodeEditor<Schemes>,
    private readonly versions: KeyedStore<number>,
    private readonly quiet: () => boolean,
    onLinkChange: () => void,
  ) {
    editor.addPipe((context) => {
      if (context.type !== 'connectioncreated' && context.type !== 'connectionremoved') return context;
      const c = context.data;
      for (const key of [`${c.target}:input:${c.targetInput}`, `${c.source}:output:${c.sourceOutput}`]) {
        if (context.type === 'connectioncreated') this.keys.add(key);
        else this.keys.delete(key);
      }
      for (const id of [c.target, c.source]) {
        if (this.quiet()) this.pending.add(id);
        else bump(this.versions, id);
      }
      onLinkChange();
      return context;
    });
  }

  has(nodeId: string, side: 'input' | 'output', key: string): boolean {
    return this.keys.has(`${nodeId}:${side}:${key}`);
  }

  clear(): void {
    this.keys.clear();
  }

  /** Redraws the nodes whose links changed during a quiet batch. */
  flush(): void {
    for (const id of this.pending) bump(this.versions, id);
    this.pending.clear();
  }
}
