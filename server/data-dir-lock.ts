/**
 * One server per data dir: a lock file, created exclusively (O_EXCL) before the database is opened,
 * naming the process that holds it. A lock left by a process that no longer runs (SIGKILL, a crash)
 * is taken over; one held by a live process refuses the start with a message naming it.
 */
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

const LOCK_FILE = 'picflow.lock';

interface Holder {
  pid: number;
  host: string;
  since: number;
}

export interface DataDirLock {
  release(): Promise<void>;
}

/** The data dir is in use by another picflow process. */
export class DataDirLockedError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it just is not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(file: string): Promise<{ text: string; holder: Holder | undefined } | undefined> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text === undefined) return undefined;
  try {
    return { text, holder: JSON.parse(text) as Holder };
  } catch {
    // Half written by a process killed while creating it: nobody holds it.
    return { text, holder: undefined };
  }
}

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const file = join(dataDir, LOCK_FILE);
  const mine: Holder = { pid: process.pid, host: hostname(), since: Date.now() };
  const text = JSON.stringify(mine);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(file, text, { flag: 'wx' });
      return {
        release: async () => {
          // Only our own lock is removed (never one another process took over).
          if ((await readHolder(file))?.text === text) await unlink(file);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const found = await readHolder(file);
    if (!found) continue;
    const { holder } = found;
    if (holder && (holder.host !== mine.host || alive(holder.pid))) {
      const who = holder.host === mine.host ? `process ${holder.pid}` : `process ${holder.pid} on ${holder.host}`;
      throw new DataDirLockedError(
        `the data dir ${dataDir} is in use by another picflow server (${who}, since ${new Date(holder.since).toISOString()}); ` +
          `stop it, or delete ${file} if that process is gone`,
      );
    }
    // Left by a process that is gone: take it over, unless someone else just did.
    if ((await readHolder(file))?.text === found.text) await unlink(file).catch(() => undefined);
  }
  throw new DataDirLockedError(`could not lock the data dir ${dataDir}: another process keeps taking ${file}`);
}
