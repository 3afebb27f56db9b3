// The real server (with the tests' catalog) as a child process, for tests that kill it or restart it.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { request } from './server-harness';

export interface Child {
  process: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  api: (method: string, path: string, body?: unknown) => ReturnType<typeof request<any>>;
}

const children: ChildProcess[] = [];

/** Kills what spawnServer started and is still running (afterAll). */
export function killSpawnedServers(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** The real server as a child process on `dataDir`; resolves once it prints its URL. */
export async function spawnServer(dataDir: string, env: Record<string, string> = {}): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'server-entry.ts'), dataDir], {
    env: { ...process.env, PICFLOW_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith('{"url"')) resolve(JSON.parse(line).url);
    });
    void exited.then(({ code }) => reject(new Error(`the server exited (${code}) before it listened`)));
  });
  return { process: child, url, exited, api: (method, path, body) => request(url, method, path, body) };
}
