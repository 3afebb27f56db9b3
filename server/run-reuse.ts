/**
 * Resuming an interrupted run: which of its finished nodes' outputs can stand in for running them
 * again (JSON that round-trips to the declared socket types), and turning that JSON back into
 * engine values (images read from their artifacts).
 */
import type { Graph } from '../engine/graph';
import { decodeImage } from '../engine/image';
import type { PortValues } from '../engine/node';
import type { ArtifactReader } from '../engine/services';
import { baseOf, isList, type SocketType } from '../engine/contract';
import { imageRefsIn, isImageRef, type JsonValue } from './json-values';
import type { ReusedOutputs } from './run-queue';
import type { NodeState } from './store/runs';

/** Whether a stored JSON value is a faithful copy of a value of this socket type (`any`: never sure). */
function fits(value: JsonValue, type: SocketType): boolean {
  if (isList(type)) return Array.isArray(value) && value.every((item) => fits(item, baseOf(type)));
  switch (type) {
    case 'text':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'image':
      return isImageRef(value);
    default:
      return false;
  }
}

/** The outputs of the nodes an interrupted run finished that the resumed run can take as they are. */
export function reusableOutputs(graph: Graph, nodes: Record<string, NodeState>): ReusedOutputs {
  const reuse: ReusedOutputs = Object.create(null);
  for (const [id, state] of Object.entries(nodes)) {
    const node = graph.nodes.get(id);
    // Output nodes pass their input on (and may save it): they run again, cheaply, from their reused sources.
    if (!node || node.definition.output || (state.status !== 'succeeded' && state.status !== 'cached') || !state.outputs) continue;
    const ports = Object.entries(node.outputTypes);
    const outputs = new Map(Object.entries(state.outputs));
    if (ports.every(([port, type]) => outputs.has(port) && fits(outputs.get(port)!, type))) {
      reuse[id] = Object.fromEntries(ports.map(([port]) => [port, outputs.get(port)!]));
    }
  }
  return reuse;
}

/** The artifacts reused outputs name (to ship to a worker with the job). */
export function reusedArtifacts(reuse: ReusedOutputs): string[] {
  return imageRefsIn(Object.values(reuse).flatMap((ports) => Object.values(ports))).map((ref) => ref.artifact);
}

async function revive(value: JsonValue, artifacts: ArtifactReader): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((item) => revive(item, artifacts)));
  if (isImageRef(value)) return decodeImage(await artifacts.read(value.artifact));
  return value;
}

/** Engine values of reused outputs; a node whose artifacts are gone is left out (it runs again), reported to `skipped`. */
export async function reviveOutputs(
  reuse: ReusedOutputs,
  artifacts: ArtifactReader,
  skipped: (nodeId: string, err: Error) => void,
): Promise<Map<string, PortValues>> {
  const values = new Map<string, PortValues>();
  for (const [id, ports] of Object.entries(reuse)) {
    try {
      const entries = await Promise.all(Object.entries(ports).map(async ([port, value]) => [port, await revive(value, artifacts)] as const));
      values.set(id, Object.fromEntries(entries));
    } catch (err) {
      skipped(id, err as Error);
    }
  }
  return values;
}
