// The canvas's node, socket and link classes (Rete's classic preset), built from catalog entries.

import { ClassicPreset, type GetSchemes } from 'rete';
import type { CatalogEntry, PortEntry, SocketType } from '../../../engine/contract';
import { bareHeight, NODE_WIDTH } from './layout';

/** A socket named by its type (`image`, `text[]`), so links can be checked and sockets coloured. */
export class TypedSocket extends ClassicPreset.Socket {
  constructor(readonly type: SocketType) {
    super(type);
  }
}

/**
 * One workflow node on the canvas. Its id is the workflow's node id; `params` holds the values set
 * explicitly (defaults come from the catalog's schema and are not written out).
 */
export class PicNode extends ClassicPreset.Node {
  width = NODE_WIDTH;
  /** Measured once drawn; until then the height without widgets. */
  height: number;
  ports: { inputs: PortEntry[]; outputs: PortEntry[] };

  constructor(
    id: string,
    readonly nodeType: string,
    /** Null when the server's catalog does not know the type: the node keeps its data and shows the problem. */
    readonly spec: CatalogEntry | null,
    public params: Record<string, unknown> = {},
    public title?: string,
    /** For unknown types: the ports its links name, so the links survive until the type exists. */
    fallbackPorts: { inputs: string[]; outputs: string[] } = { inputs: [], outputs: [] },
    /** Extra `ui` fields from the file (kept on save). */
    public uiExtra: Record<string, unknown> = {},
  ) {
    super(title || nodeType);
    this.id = id;
    this.ports = spec
      ? { inputs: spec.inputs, outputs: spec.outputs }
      : {
          inputs: fallbackPorts.inputs.map((name) => ({ name, type: 'any', optional: true })),
          outputs: fallbackPorts.outputs.map((name) => ({ name, type: 'any' })),
        };
    this.height = bareHeight(this.ports.inputs.length, this.ports.outputs.length);
    for (const port of this.ports.inputs) {
      this.addInput(port.name, new ClassicPreset.Input(new TypedSocket(port.type), port.name, false));
    }
    for (const port of this.ports.outputs) {
      this.addOutput(port.name, new ClassicPreset.Output(new TypedSocket(port.type), port.name, true));
    }
  }

  inputType(name: string): SocketType | undefined {
    return this.ports.inputs.find((p) => p.name === name)?.type;
  }

  outputType(name: string): SocketType | undefined {
    return this.ports.outputs.find((p) => p.name === name)?.type;
  }
}

export class Link extends ClassicPreset.Connection<PicNode, PicNode> {}

export type Schemes = GetSchemes<PicNode, Link & { isPseudo?: boolean }>;
