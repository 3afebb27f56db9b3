// `picflow worker` child processes for the scale-out suites (test/worker-entry.ts: the tests' catalog).
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** A `picflow worker` child process with the tests' catalog; `took` fills from its log as it takes runs. */
export interface WorkerProcess {
  process: ChildProcess;
  took: Set<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Says `took` with a run id when any worker's log says it took that run. */
export const taken = new EventEmitter();

// Short stall and shutdown timeouts, so that a killed or stopping worker shows within a test.
const WORKER_ENV = { PICFLOW_LOG_LEVEL: 'info', PICFLOW_STALL_MS: '2000', PICFLOW_SHUTDOWN_MS: '500' };

export async function spawnWorker(redisUrl: string): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'worker-entry.ts'), redisUrl], {
    env: { ...process.env, ...WORKER_ENV },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const took = new Set<string>();
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line);
      if (entry.msg === 'worker ready') resolve();
      if (entry.msg === 'run taken') {
        took.add(entry.runId);
        taken.emit('took', entry.runId);
      }
    });
    void exited.then(({ code }) => reject(new Error(`the worker exited (${code}) before it was ready`)));
  });
  return { process: child, took, exited };
}
