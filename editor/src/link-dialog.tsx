// Linking without a pointer: for each input of a node, pick the output that feeds it.

import { useReducer, useState } from 'react';
import { linkRefusal } from './canvas/connect-rules';
import type { Controller } from './controller';
import { Modal } from './modal';

export function LinkDialog({ controller, nodeId, onClose }: { controller: Controller; nodeId: string; onClose(): void }) {
  const canvas = controller.canvas;
  const [, refresh] = useReducer((n: number) => n + 1, 0);
  const [message, setMessage] = useState<string | null>(null);
  const node = canvas?.editor.getNode(nodeId);
  if (!canvas || !node) return null;
  const editor = canvas.editor;
  const links = editor.getConnections().filter((c) => c.target === nodeId);

  return (
    <Modal title={`Connect the inputs of ${node.label}`} onClose={onClose} testId="link-dialog">
      {node.ports.inputs.length === 0 && <p className="muted">This node has no inputs.</p>}
      {node.ports.inputs.map((port) => {
        const current = links.find((c) => c.targetInput === port.name);
        const value = current ? `${current.source}\u0000${String(current.sourceOutput)}` : '';
        const options = editor
          .getNodes()
          .filter((n) => n.id !== nodeId)
          .flatMap((n) =>
            n.ports.outputs
              .filter((o) => !linkRefusal(editor, { nodeId: n.id, side: 'output', key: o.name }, { nodeId, side: 'input', key: port.name }))
              .map((o) => ({ value: `${n.id}\u0000${o.name}`, label: `${n.label} #${n.id} → ${o.name} (${o.type})` })),
          );
        return (
          <label key={port.name} className="stack">
            <span>
              {port.name} <span className="muted">({port.type}{port.optional ? ', optional' : ''})</span>
            </span>
            <select
              data-testid={`link-select-${port.name}`}
              value={value}
              onChange={async (e) => {
                const [source, output] = e.target.value.split('\u0000');
                const problem = e.target.value
                  ? await canvas.links.connect({ nodeId: source, side: 'output', key: output }, { nodeId, side: 'input', key: port.name })
                  : (await canvas.links.disconnectInput(nodeId, port.name), null);
                setMessage(problem);
                refresh();
              }}
            >
              <option value="">— not connected —</option>
              {options.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
        );
      })}
      {message && <p className="error-text">{message}</p>}
      <div className="dialog-actions">
        <button type="button" className="primary" onClick={onClose}>
          Done
        </button>
      </div>
    </Modal>
  );
}
