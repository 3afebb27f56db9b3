import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { BundleError, type GraphSpec, type UnifiedArManifest } from './manifest';
import type { Loader, SessionManager } from './sessions';

export type GraphName = keyof UnifiedArManifest['graphs'];
export type Sessions = Record<GraphName, ort.InferenceSession>;

/** A unified-AR bundle as the registry found it: validated manifest, not loaded yet. */
export interface BundleRef {
  name: string;
  dir: string;
  manifest: UnifiedArManifest;
}

/** Loads a unified-AR bundle's graphs as the manifest declares them, checking their I/O names. */
export function bundleLoader(bundle: BundleRef, manager: SessionManager): Loader<Sessions> {
  return {
    name: bundle.name,
    async load(onLoad) {
      const names = Object.keys(bundle.manifest.graphs) as GraphName[];
      const sessions: Partial<Sessions> = {};
      try {
        for (const [i, graph] of names.entries()) {
          sessions[graph] = await createSession(bundle, graph, bundle.manifest.graphs[graph], manager);
          onLoad?.(i + 1, names.length);
        }
      } catch (err) {
        await Promise.all(Object.values(sessions).map((s) => s.release()));
        throw err;
      }
      return sessions as Sessions;
    },
    async release(sessions) {
      await Promise.all(Object.values(sessions).map((s) => s.release()));
    },
    // the graph files' size, doubled for the runtime's own copies and arenas
    async bytes() {
      const graphs = Object.values(bundle.manifest.graphs);
      const sizes = await Promise.all(graphs.map((g) => stat(join(bundle.dir, g.file)).then((s) => s.size)));
      return 2 * sizes.reduce((a, b) => a + b, 0);
    },
  };
}

/** Every graph of a bundle that is missing, does not load or does not match the manifest (one message each). */
export async function inspectBundle(bundle: BundleRef, manager: SessionManager): Promise<string[]> {
  const problems: string[] = [];
  for (const [graph, spec] of Object.entries(bundle.manifest.graphs) as [GraphName, GraphSpec][]) {
    try {
      await (await createSession(bundle, graph, spec, manager, false)).release();
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return problems;
}

async function createSession(
  bundle: BundleRef,
  graph: GraphName,
  spec: GraphSpec,
  manager: SessionManager,
  counted = true,
): Promise<ort.InferenceSession> {
  const file = join(bundle.dir, spec.file);
  await stat(file).catch(() => {
    throw new BundleError(bundle.dir, `missing graph file ${spec.file} (${graph})`);
  });
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, manager.sessionOptions());
  } catch (err) {
    throw new BundleError(bundle.dir, `cannot load ${spec.file}: ${(err as Error).message}`);
  }
  if (counted) manager.countCreated(bundle.name, graph);
  try {
    checkNames(bundle.dir, spec, 'input', spec.inputs.map((t) => t.name), session.inputNames);
    checkNames(bundle.dir, spec, 'output', spec.outputs.map((t) => t.name), session.outputNames);
  } catch (err) {
    await session.release();
    throw err;
  }
  return session;
}

function checkNames(dir: string, spec: GraphSpec, kind: string, declared: string[], actual: readonly string[]): void {
  const a = [...declared].sort().join(', ');
  const b = [...actual].sort().join(', ');
  if (a !== b) {
    throw new BundleError(dir, `${spec.file}: the manifest's ${kind} names [${a}] do not match the graph's [${b}]`);
  }
}
