// The sqlite wrapper's group commit: writes waiting together commit together (in one trip when none wants a result), each with its own outcome.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { Database, inlined, isUniqueViolation } from '../server/db';

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

  test('writes that want no result commit as one script: hostile values come back exactly as bound', async () => {
    await db.exec('CREATE TABLE v (id TEXT PRIMARY KEY, text TEXT, number REAL, absent TEXT)');
    const values = [
      ["it's", "'); DROP TABLE t; --", 1.5],
      ['?', 'a ? b ?? c', -0.000123],
      ['big', 'line\nbreak', 2 ** 53],
      ['unicode', 'é 🚀 \u2028 "quoted" \\ backslash', 1e21],
      ['empty', '', 0],
    ] as const;
    const blocker = db.run('INSERT INTO t VALUES (?, ?)', ['z', 'keeps the connection busy']);
    await Promise.all([blocker, ...values.map(([id, text, number]) => db.write('INSERT INTO v VALUES (?, ?, ?, ?)', [id, text, number, null]))]);
    const stored = await db.all<{ id: string; text: string; number: number; absent: null }>('SELECT * FROM v');
    expect(new Map(stored.map((row) => [row.id, row]))).toEqual(new Map(values.map(([id, text, number]) => [id, { id, text, number, absent: null }])));
    expect((await rows()).map((row) => row.id)).toEqual(['z']);
  });

  test('values no SQL literal can hold are bound: a NUL inside a text, a non-finite number', async () => {
    expect(inlined('INSERT INTO t VALUES (?, ?)', ["it's", 1.5])).toBe("INSERT INTO t VALUES ('it''s', 1.5)");
    expect(inlined('INSERT INTO t VALUES (?, ?)', ['a\0b', 1])).toBeUndefined();
    expect(inlined('INSERT INTO t VALUES (?, ?)', ['a', Number.NaN])).toBeUndefined();
    const blocker = db.run('INSERT INTO t VALUES (?, ?)', ['z', 'keeps the connection busy']);
    await Promise.all([blocker, db.write('INSERT INTO t VALUES (?, ?)', ['a', 'before\0after']), db.write('INSERT INTO t VALUES (?, ?)', ['b', 'plain'])]);
    expect(await rows()).toEqual([
      { id: 'a', value: 'before\0after' },
      { id: 'b', value: 'plain' },
      { id: 'z', value: 'keeps the connection busy' },
    ]);
  });

  test('a failing write in a batch of writes that want no result fails alone; the others are committed', async () => {
    await db.run('INSERT INTO t VALUES (?, ?)', ['a', 'first']);
    const blocker = db.run('INSERT INTO t VALUES (?, ?)', ['z', 'keeps the connection busy']);
    const outcomes = await Promise.allSettled([
      db.write('INSERT INTO t VALUES (?, ?)', ['b', 'one']),
      db.write('INSERT INTO t VALUES (?, ?)', ['a', 'duplicate']),
      db.write('UPDATE t SET value = ? WHERE id = ?', ['changed', 'z'], 'row:z'),
    ]);
    await blocker;
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(isUniqueViolation((outcomes[1] as PromiseRejectedResult).reason)).toBe(true);
    expect(await rows()).toEqual([
      { id: 'a', value: 'first' },
      { id: 'b', value: 'one' },
      { id: 'z', value: 'changed' },
    ]);
  });

  test('values given as a function are made when the commit begins: a replaced write never makes them; a throwing one fails alone', async () => {
    const blocker = db.run('INSERT INTO t VALUES (?, ?)', ['z', 'keeps the connection busy']);
    const made: string[] = [];
    const state = { value: 'queued' };
    const valuesOf = (name: string) => () => (made.push(name), ['a', state.value]);
    const upsert = 'INSERT INTO t VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET value = excluded.value';
    const queued = db.write(upsert, valuesOf('queued'), 'row:a');
    const ended = db.write(upsert, valuesOf('ended'), 'row:a');
    const broken = db
      .write('INSERT INTO t VALUES (?, ?)', () => {
        throw new Error('no values');
      })
      .then(() => 'written', (err: Error) => err.message);
    const other = db.write('INSERT INTO t VALUES (?, ?)', () => ['b', 'other']);
    state.value = 'succeeded'; // after the calls, before the commit: what is written is the state then
    await blocker;
    expect(await broken).toBe('no values');
    await Promise.all([queued, ended, other]);
    expect(made).toEqual(['ended']);
    expect(await rows()).toEqual([
      { id: 'a', value: 'succeeded' },
      { id: 'b', value: 'other' },
      { id: 'z', value: 'keeps the connection busy' },
    ]);
  });
});
