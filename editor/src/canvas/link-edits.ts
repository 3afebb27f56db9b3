// Undoable edits of links made from menus and dialogs (dragging has the connection plugin): link two
// sockets with the same checks as a drag, unlink an input, remove a link. Each is one undo step.

import type { NodeEditor } from 'rete';
import type { HistoryPlugin } from 'rete-history-plugin';
import { linkRefusal, orderEnds, type LinkEnd } from './connect-rules';
import { Link, type Schemes } from './node';

export class LinkEdits {
  constructor(
    private readonly editor: NodeEditor<Schemes>,
    private readonly history: HistoryPlugin<Schemes>,
  ) {}

  /** Links an output to an input (replacing the input's link); returns the refusal reason if any. */
  async connect(output: LinkEnd, input: LinkEnd): Promise<string | null> {
    const ends = orderEnds(output, input);
    if (!ends) return 'pick an output and an input';
    const reason = linkRefusal(this.editor, ends[0], ends[1]);
    if (reason) return reason;
    const source = this.editor.getNode(ends[0].nodeId)!;
    const target = this.editor.getNode(ends[1].nodeId)!;
    this.history.separate();
    await this.unlink(target.id, ends[1].key);
    await this.editor.addConnection(new Link(source, ends[0].key, target, ends[1].key));
    return null;
  }

  async disconnectInput(nodeId: string, input: string): Promise<void> {
    this.history.separate();
    await this.unlink(nodeId, input);
  }

  async remove(id: string): Promise<void> {
    this.history.separate();
    await this.editor.removeConnection(id);
  }

  private async unlink(nodeId: string, input: string): Promise<void> {
    for (const c of this.editor.getConnections()) {
      if (c.target === nodeId && c.targetInput === input) await this.editor.removeConnection(c.id);
    }
  }
}
