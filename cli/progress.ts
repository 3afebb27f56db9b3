import cliProgress from 'cli-progress';
import type { RunEvent } from '../engine';

/** Renders a run's events: a progress bar per running node on a TTY, one plain line per event otherwise. */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr): { listener: (e: RunEvent) => void; stop(): void } {
  if (!stream.isTTY) {
    return {
      listener: (e) => {
        const line = plainLine(e);
        if (line) stream.write(line + '\n');
      },
      stop: () => {},
    };
  }
  const bars = new cliProgress.MultiBar(
    { stream, format: ' {node} |{bar}| {value}/{total} {state}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const byNode = new Map<string, cliProgress.SingleBar>();
  const bar = (node: string) => {
    let b = byNode.get(node);
    if (!b) byNode.set(node, (b = bars.create(1, 0, { node: node.padEnd(12), state: '' })));
    return b;
  };
  return {
    listener: (e) => {
      switch (e.type) {
        case 'node:started':
          bar(e.nodeId).update(0, { state: 'running' });
          break;
        case 'node:progress':
          bar(e.nodeId).setTotal(e.total);
          bar(e.nodeId).update(e.step, { state: 'running' });
          break;
        case 'node:cached':
          bar(e.nodeId).update(1, { state: 'cached' });
          break;
        case 'node:finished': {
          const b = bar(e.nodeId);
          b.update(b.getTotal(), { state: `done ${e.ms.toFixed(0)} ms` });
          break;
        }
        case 'node:error':
          bar(e.nodeId).update({ state: `error: ${e.message}` });
          break;
      }
    },
    stop: () => bars.stop(),
  };
}

function plainLine(e: RunEvent): string | undefined {
  switch (e.type) {
    case 'run:started':
      return `run ${e.runId} started (${e.nodes.length} nodes)`;
    case 'node:started':
      return `${e.nodeId}: started`;
    case 'node:cached':
      return `${e.nodeId}: cached`;
    case 'node:finished':
      return `${e.nodeId}: done in ${e.ms.toFixed(1)} ms`;
    case 'node:error':
      return `${e.nodeId}: error: ${e.message}`;
    case 'run:finished':
      return `run ${e.status} in ${e.ms.toFixed(1)} ms`;
    default:
      return undefined; // step-by-step progress would flood a log
  }
}
