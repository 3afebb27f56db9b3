// An operator starting `picflow serve` on a data dir or port it cannot use: each refusal names the problem and
// what to do, leaves the data as it found it, and frees the data dir for the next try.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TokenStore } from '../server/auth/token-store';
import { Database } from '../server/db';
import { createLogger } from '../server/logger';
import { migrate } from '../server/migrations';
import { databasePath, startServer } from '../server/start';
import { testCatalog } from './server-harness';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const sha = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'picflow-ops '));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

const start = (dir: string, options: { port?: number; host?: string } = {}) =>
  startServer({ port: 0, dataDir: dir, catalog: testCatalog, logger: createLogger('silent'), ...options });

/** A data dir holding `bytes` as its database. */
async function dirWithDatabase(name: string, bytes: Uint8Array): Promise<string> {
  const dir = join(dataDir, name);
  await mkdir(dir, { recursive: true });
  await writeFile(databasePath(dir), bytes);
  return dir;
}

describe('a database picflow cannot use', () => {
  test('a damaged or foreign file is named, left as it is, and the data dir stays free', async () => {
    const valid = join(dataDir, 'valid');
    await (await start(valid)).close();
    const whole = await readFile(databasePath(valid));
    for (const [name, bytes] of [
      ['truncated', whole.subarray(0, 20_000)],
      ['not sqlite', Buffer.from('these are my notes, not a database\n'.repeat(200))],
    ] as const) {
      const dir = await dirWithDatabase(name, bytes);
      const before = await sha(databasePath(dir));
      for (let attempt = 0; attempt < 2; attempt++) {
        await expect(start(dir)).rejects.toThrow(
          /^the database .*picflow\.db is damaged or not a picflow database \(SQLITE_(CORRUPT|NOTADB): .*\); it was left as it is: restore it from a backup, or move it aside/,
        );
      }
      expect(await sha(databasePath(dir))).toBe(before);
    }
  });

  test('one from a newer picflow is refused with what to do, byte for byte untouched', async () => {
    const dir = join(dataDir, 'newer');
    await (await start(dir)).close();
    const db = await Database.open(databasePath(dir));
    await db.exec('CREATE TABLE from_the_future (x); PRAGMA user_version = 99;');
    await db.close();
    const before = await sha(databasePath(dir));
    await expect(start(dir)).rejects.toThrow(/schema version 99, newer than this picflow knows .*: a newer picflow wrote it\. It was left as it is; run that newer picflow/);
    expect(await sha(databasePath(dir))).toBe(before);
  });

  test('a database file the server may not write refuses the start instead of failing every run later', async () => {
    const dir = join(dataDir, 'read-only db');
    await (await start(dir)).close();
    // As root, permissions do not bind: the server then runs as nobody.
    const asSomeoneElse = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    await chmod(dataDir, 0o755);
    await chmod(dir, 0o777);
    await chmod(databasePath(dir), 0o444);
    const outcome = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(ROOT, 'bin', 'picflow.js'), 'serve', '--port', '0', '--data', dir], { ...asSomeoneElse, timeout: 20_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
    expect(outcome.stdout).not.toMatch(/picflow serving on/);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/^picflow: the database .*picflow\.db is read-only for (user|uid) .*: picflow records every run in it; give that user write access to the file and its folder, or start with another --data/m);
  });
});

describe('a port or host picflow cannot listen on', () => {
  let taken: Server;
  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  test('a port in use says so and how to pick another; the data dir is free again', async () => {
    const port = (taken.address() as { port: number }).port;
    const dir = join(dataDir, 'port');
    await expect(start(dir, { port })).rejects.toThrow(
      `port ${port} on 127.0.0.1 is already in use (another picflow, or another program): stop it, or pick another port with --port (0 picks a free one)`,
    );
    await (await start(dir)).close();
  });

  test('a --host that is no address of this machine, or no name at all, says what to bind instead', async () => {
    const dir = join(dataDir, 'host');
    await (await start(dir)).close();
    const db = await Database.open(databasePath(dir));
    await migrate(db);
    await new TokenStore(db).create({ scope: 'admin', name: 'ops' });
    await db.close();
    // 192.0.2.1 is TEST-NET-1: documentation only, never a machine's own address.
    await expect(start(dir, { host: '192.0.2.1' })).rejects.toThrow(/^--host 192\.0\.2\.1 is not an address of this machine: bind one of its addresses, 0\.0\.0\.0/);
    await expect(start(dir, { host: 'no-such-host.invalid' })).rejects.toThrow(/^--host no-such-host\.invalid is neither an IP address nor a name this machine resolves/);
  });
});
