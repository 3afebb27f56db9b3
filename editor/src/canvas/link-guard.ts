// Dragging a link: the connection plugin's flow, with the link rules checked at the drop. A refused
// link is reported and let go of, rather than left in the user's hand.

import type { NodeEditor } from 'rete';
import { ClassicFlow, getSourceTarget, type ConnectionPlugin } from 'rete-connection-plugin';
import { linkRefusal, type LinkEnd } from './connect-rules';
import type { LinkReleaseWatch } from './link-release';
import type { Schemes } from './node';

export function guardLinks(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  connection: ConnectionPlugin<Schemes, any>,
  editor: NodeEditor<Schemes>,
  release: LinkReleaseWatch,
  onRefused: (reason: string) => void,
): void {
  connection.addPreset(
    () =>
      new ClassicFlow<Schemes, never[]>({
        canMakeConnection: (from, to) => {
          const ends = getSourceTarget(from, to);
          if (!ends) return false;
          const [output, input] = ends as unknown as [LinkEnd, LinkEnd];
          const reason = linkRefusal(editor, output, input);
          if (!reason) return true;
          release.refused();
          onRefused(reason);
          // Let go of the picked socket: a refused drop ends the drag instead of leaving a link in hand.
          setTimeout(() => connection.drop(), 0);
          return false;
        },
      }),
  );
}
