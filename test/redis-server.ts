import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface RedisServer {
  url: string;
  port: number;
  /** Stops it (SIGTERM; SIGKILL with `kill`); with no persistence, one started again on its port is empty. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A port nothing listens on now (for servers started as child processes). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A throwaway redis-server (no persistence, its own temp folder) for tests and benchmarks; on a free port unless given one. */
export async function startRedis(port?: number): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'picflow-redis-'));
  port ??= await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('Ready to accept connections')) resolve();
    });
    child.once('error', (err) => reject(new Error(`cannot start redis-server (is it installed? scripts/setup.sh installs it): ${err.message}`)));
    void exited.then((code) => reject(new Error(`redis-server exited (${code}) before it was ready`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal);
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
