// What validation, planning and execution read of a node definition's ports for every node, worked out
// once per definition: listing and spreading the same port records per node was a good part of the
// engine's per-node cost on large workflows.
import type { SocketType } from './contract';
import type { AnyNodeDefinition } from './node';

export interface DefinitionPorts {
  /** Input names in the definition's order. */
  readonly inputs: readonly string[];
  /** The inputs a node must have connected. */
  readonly required: readonly string[];
  /** Every output's declared type, before `outputTypes(params)` and generic resolution. */
  readonly outputTypes: readonly (readonly [string, SocketType])[];
}

const known = new WeakMap<AnyNodeDefinition, DefinitionPorts>();

export function portsOf(definition: AnyNodeDefinition): DefinitionPorts {
  let ports = known.get(definition);
  if (!ports) {
    const inputs = Object.keys(definition.inputs);
    ports = {
      inputs,
      required: inputs.filter((input) => !definition.inputs[input].optional),
      outputTypes: Object.entries(definition.outputs).map(([output, port]) => [output, port.type] as const),
    };
    known.set(definition, ports);
  }
  return ports;
}
