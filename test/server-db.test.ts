// The sqlite wrapper's group commit: writes waiting together commit together, each with its own outcome.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { Database, isUniqueViolation } from '../server/db';

let dir: string;
let db: Database;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'picflow-db-'));
  db = await Database.open(join(dir, 'test.db'));
  await db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, value TEXT)');
});
afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const rows = () => db.all<{ id: string; value: string }>('SELECT id, value FROM t ORDER BY id');

describe('group commit', () => {
  test('a failing write in a batch fails alone; the others are committed', async () => {
    await db.run('INSERT INTO t VALUES (?, ?)', ['a', 'first']);
    const outcomes = await Promise.allSettled([
      db.run('INSERT INTO t VALUES (?, ?)', ['b', 'one']),
      db.run('INSERT INTO t VALUES (?, ?)', ['a', 'duplicate']),
      db.run('INSERT INTO t VALUES (?, ?)', ['c', 'two']),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(isUniqueViolation((outcomes[1] as PromiseRejectedResult).reason)).toBe(true);
    expect((outcomes[0] as PromiseFulfilledResult<{ changes: number }>).value.changes).toBe(1);
    expect(await rows()).toEqual([
      { id: 'a', value: 'first' },
      { id: 'b', value: 'one' },
      { id: 'c', value: 'two' },
    ]);
  });

  test('a keyed write replaces an uncommitted one with its key; both callers see it committed', async () => {
    await db.run('INSERT INTO t VALUES (?, ?)', ['a', 'queued']);
    const blocker = db.run('INSERT INTO t VALUES (?, ?)', ['z', 'keeps the connection busy']);
    const earlier = db.run('UPDATE t SET value = ? WHERE id = ?', ['running', 'a'], 'run:a');
    const later = db.run('UPDATE t SET value = ? WHERE id = ?', ['succeeded', 'a'], 'run:a');
    const other = db.run('UPDATE t SET value = ? WHERE id = ?', ['other key', 'z'], 'run:z');
    await Promise.all([blocker, earlier, later, other]);
    expect(await earlier).toEqual(await later);
    expect(await rows()).toEqual([
      { id: 'a', value: 'succeeded' },
      { id: 'z', value: 'other key' },
    ]);
  });

  test('writes keep their call order around a transaction', async () => {
    const before = db.run('INSERT INTO t VALUES (?, ?)', ['a', 'before']);
    const tx = db.transaction(async (q) => {
      const row = await q.get<{ value: string }>('SELECT value FROM t WHERE id = ?', ['a']);
      await q.run('INSERT INTO t VALUES (?, ?)', ['b', `saw ${row?.value}`]);
    });
    const after = db.run('UPDATE t SET value = ? WHERE id = ?', ['after', 'b']);
    await Promise.all([before, tx, after]);
    expect(await rows()).toEqual([
      { id: 'a', value: 'before' },
      { id: 'b', value: 'after' },
    ]);
  });
});
