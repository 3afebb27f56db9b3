// What validation, planning and execution read of a node definition's ports for every node, worked out
// once per definition: listing and spreading the same port records per node was a good part of the
// engine's per-node cost on large workflows.
import { baseOf, type SocketType } from './contract';
import type { AnyNodeDefinition } from './node';

export interface DefinitionPorts {
  /** Input names in the definition's order. */
  readonly inputs: readonly string[];
  /** The inputs a node must have connected. */
  readonly required: readonly string[];
  /** Every output's declared type, before `outputTypes(params)` and generic resolution. */
  readonly outputTypes: readonly (readonly [string, SocketType])[];
  /** The same as a frozen record: the output types of every node of this type that resolves none. */
  readonly declaredTypes: Readonly<Record<string, SocketType>>;
  /** Whether an output is of a generic (`any`) type, resolved from the node's inputs. */
  readonly genericOutputs: boolean;
}

const known = new WeakMap<AnyNodeDefinition, DefinitionPorts>();

export function portsOf(definition: AnyNodeDefinition): DefinitionPorts {
  let ports = known.get(definition);
  if (!ports) {
    const inputs = Object.keys(definition.inputs);
    const outputTypes = Object.entries(definition.outputs).map(([output, port]) => [output, port.type] as const);
    ports = {
      inputs,
      required: inputs.filter((input) => !definition.inputs[input].optional),
      outputTypes,
      declaredTypes: Object.freeze(Object.fromEntries(outputTypes)),
      genericOutputs: outputTypes.some(([, type]) => baseOf(type) === 'any'),
    };
    known.set(definition, ports);
  }
  return ports;
}
