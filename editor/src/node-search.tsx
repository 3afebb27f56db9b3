// The node search that opens where a link was let go on empty canvas: the palette, narrowed to the
// node types with a port that fits the link's socket; the chosen one is added there and linked.

import { useMemo } from 'react';
import { compatiblePort } from './canvas/connect-rules';
import type { Controller } from './controller';
import type { Dialog } from './notices';
import { Palette } from './palette';
import { useValue } from './store';

type Request = Extract<Dialog, { kind: 'node-search' }>;

export function NodeSearch({ controller, request, onClose }: { controller: Controller; request: Request; onClose(): void }) {
  const catalog = useValue(controller.catalog);
  const fromType = useMemo(() => {
    const node = controller.canvas?.editor.getNode(request.from.nodeId);
    return request.from.side === 'output' ? node?.outputType(request.from.key) : node?.inputType(request.from.key);
  }, [controller, request]);
  const fitting = useMemo(
    () => (fromType ? catalog.filter((entry) => compatiblePort(entry, request.from.side, fromType) !== undefined) : []),
    [catalog, fromType, request],
  );
  const left = Math.min(request.clientX, window.innerWidth - 320);
  const top = Math.min(request.clientY, window.innerHeight - 380);
  return (
    <div className="node-search-backdrop" onPointerDown={onClose} data-testid="node-search-backdrop">
      <div className="node-search" style={{ left, top }} onPointerDown={(e) => e.stopPropagation()} role="dialog" aria-label={`add a node for ${fromType ?? 'this link'}`}>
        <div className="node-search-title muted small">
          {request.from.side === 'output' ? 'takes' : 'gives'} <code>{fromType}</code>
        </div>
        <Palette
          catalog={fitting}
          autoFocus
          testId="node-search"
          onEscape={onClose}
          onAdd={(type) => {
            onClose();
            void controller.addLinkedNode(type, request.at, request.from);
          }}
        />
      </div>
    </div>
  );
}
