// sqlite access: one promisified connection whose writes take turns (transactions included).
import sqlite3 from 'sqlite3';

export type SqlValue = string | number | null;

/** The statements a store issues; inside a transaction they run on the transaction's turn. */
export interface Queries {
  run(sql: string, params?: SqlValue[]): Promise<{ changes: number; lastID: number }>;
  get<T>(sql: string, params?: SqlValue[]): Promise<T | undefined>;
  all<T>(sql: string, params?: SqlValue[]): Promise<T[]>;
}

/** A write waiting for its group commit, and who waits for it (more than one once it replaced an earlier write). */
interface QueuedWrite {
  sql: string;
  /** Made when the write's commit begins, where given as a function (see `write`). */
  params: SqlValue[] | (() => SqlValue[]);
  key?: string;
  superseded?: boolean;
  /** Whether a waiter reads `changes`/`lastID`: such a write goes through its own prepared statement. */
  wantsResult: boolean;
  waiters: { resolve(result: { changes: number; lastID: number }): void; reject(err: unknown): void }[];
}

/** A write whose values are made, as its commit begins. */
type ReadyWrite = QueuedWrite & { params: SqlValue[] };

/** What a write without a wanted result settles with. */
const NO_RESULT = { changes: Number.NaN, lastID: Number.NaN };

/** A store's statements are a handful of constant texts: each is split at its `?` once. */
const placeholderSplits = new Map<string, string[]>();

function splitAtPlaceholders(sql: string): string[] {
  const parts = sql.split('?');
  if (placeholderSplits.size < 256) placeholderSplits.set(sql, parts);
  return parts;
}

/**
 * `sql` with its `?` replaced by `params` as SQL literals, or undefined when one cannot be written as one
 * (a NUL would end the script, a non-finite number has no literal): that batch goes statement by statement.
 * SQLite's string literals have one escape, a doubled quote, so a quoted value can never end its literal early.
 */
export function inlined(sql: string, params: SqlValue[]): string | undefined {
  const parts = placeholderSplits.get(sql) ?? splitAtPlaceholders(sql);
  if (parts.length !== params.length + 1) return undefined;
  let text = parts[0];
  for (let i = 0; i < params.length; i++) {
    const value = params[i];
    if (value === null) text += 'NULL';
    else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return undefined;
      text += String(value);
    } else {
      if (value.includes('\0')) return undefined;
      text += `'${value.replaceAll("'", "''")}'`;
    }
    text += parts[i + 1];
  }
  return text;
}

/**
 * One sqlite3 connection, promisified. Writes take turns: a transaction holds the turn from BEGIN to
 * COMMIT, so a write from another request can never land inside it (and be rolled back with it).
 * Plain writes are group-committed: those that arrive while the connection is busy, or in the same
 * event-loop turn, wait together and go in one transaction on the next turn, each promise settling (with
 * its own result or error) only once that transaction is committed. A commit per write was most of a
 * busy trigger server's sqlite time.
 */
export class Database implements Queries {
  private turn: Promise<unknown> = Promise.resolve();
  /** Turns taken and not yet over (a commit under way, batches and transactions waiting). */
  private pending = 0;
  /** The batch that new writes join; sealed when it starts, or when a transaction queues behind it (order stays call order). */
  private open: QueuedWrite[] | undefined;
  private readonly keyed = new Map<string, QueuedWrite>();
  private readonly raw: Queries;
  /** Prepared once per SQL text: preparing costs as much as running these small statements. */
  private readonly statements = new Map<string, Promise<sqlite3.Statement>>();

  private constructor(private readonly db: sqlite3.Database) {
    this.raw = {
      run: async (sql, params = []) => {
        const statement = await this.prepare(sql);
        return new Promise((resolve, reject) =>
          statement.run(params, function (err) {
            if (err) reject(err);
            else resolve({ changes: this.changes, lastID: this.lastID });
          }),
        );
      },
      // `all` steps to the end and resets the statement, so no cached statement holds a read open.
      get: async <T>(sql: string, params: SqlValue[] = []) => (await this.raw.all<T>(sql, params))[0],
      all: async <T>(sql: string, params: SqlValue[] = []) => {
        const statement = await this.prepare(sql);
        return new Promise<T[]>((resolve, reject) => statement.all<T>(params, (err, rows) => (err ? reject(err) : resolve(rows))));
      },
    };
  }

  static async open(file: string): Promise<Database> {
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const handle = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(handle)));
    });
    const database = new Database(db);
    db.configure('busyTimeout', 5_000);
    // WAL: readers never wait for the writer; NORMAL sync is durable across process crashes in WAL mode.
    try {
      await database.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
      await database.assertWritable();
    } catch (err) {
      await database.close().catch(() => undefined);
      throw err;
    }
    return database;
  }

  /**
   * sqlite opens a file it may not write read-only without a word; every write would then fail later
   * (a server whose runs are all 500s). A write that is rolled back finds out at once (SQLITE_READONLY).
   */
  private async assertWritable(): Promise<void> {
    try {
      await this.exec('BEGIN IMMEDIATE; CREATE TABLE picflow_write_probe (x); ROLLBACK;');
    } catch (err) {
      await this.exec('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /**
   * A write, committed with the others waiting for the same turn. A write given a `key` replaces an earlier
   * one with that key that has not been committed yet (a run's 'running' mark, overtaken by its end record):
   * only the later statement runs, and both callers learn its outcome.
   */
  run(sql: string, params: SqlValue[] = [], key?: string): Promise<{ changes: number; lastID: number }> {
    return this.queueWrite(sql, params, key, true);
  }

  /**
   * A write like `run` whose caller needs no `changes`/`lastID`: a batch of such writes is committed in ONE
   * trip to sqlite's thread (BEGIN, the statements with their values inlined, COMMIT, as one script) instead
   * of a trip per statement, which was a busy trigger server's main sqlite cost. Its SQL uses `?` only as
   * placeholders (never inside a quoted literal). `params` may be a function, called when the write's commit
   * begins: a keyed write that a later one replaces never makes its values (a run's record as JSON, say), and
   * one that is written reads what it writes as it is then.
   */
  async write(sql: string, params: SqlValue[] | (() => SqlValue[]) = [], key?: string): Promise<void> {
    await this.queueWrite(sql, params, key, false);
  }

  private queueWrite(sql: string, params: QueuedWrite['params'], key: string | undefined, wantsResult: boolean): Promise<{ changes: number; lastID: number }> {
    return new Promise((resolve, reject) => {
      const write: QueuedWrite = { sql, params, key, wantsResult, waiters: [{ resolve, reject }] };
      if (key !== undefined) {
        const earlier = this.keyed.get(key);
        if (earlier) {
          earlier.superseded = true;
          write.waiters.push(...earlier.waiters);
          write.wantsResult ||= earlier.wantsResult;
        }
        this.keyed.set(key, write);
      }
      if (!this.open) {
        const batch: QueuedWrite[] = (this.open = []);
        const behind = this.pending > 0;
        void this.exclusive(async () => {
          // Open until the end of this event-loop turn: the writes a turn makes share a trip, and a write replaced
          // within it (a run's start, by its end) is never made. A batch that waited behind a commit has gathered
          // all that while: it goes at once, so sqlite's thread works on it while this one answers the last
          // batch's writers (waiting a turn more left that thread idle between commits under load).
          if (!behind) await new Promise((resolve) => setImmediate(resolve));
          return this.commitBatch(batch);
        });
      }
      this.open.push(write);
    });
  }

  get<T>(sql: string, params?: SqlValue[]) {
    return this.raw.get<T>(sql, params);
  }

  all<T>(sql: string, params?: SqlValue[]) {
    return this.raw.all<T>(sql, params);
  }

  exec(sql: string): Promise<void> {
    this.open = undefined;
    return this.exclusive(() => this.execNow(sql));
  }

  /** Runs `fn` between BEGIN IMMEDIATE and COMMIT, rolling back when it throws. */
  transaction<T>(fn: (tx: Queries) => Promise<T>): Promise<T> {
    this.open = undefined;
    return this.exclusive(async () => {
      await this.raw.run('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.raw);
        await this.raw.run('COMMIT');
        return result;
      } catch (err) {
        await this.raw.run('ROLLBACK');
        throw err;
      }
    });
  }

  /** Waits for pending writes, then closes the connection (checkpointing the WAL). */
  async close(): Promise<void> {
    await this.turn.catch(() => undefined);
    const statements = await Promise.allSettled(this.statements.values());
    this.statements.clear();
    for (const s of statements) if (s.status === 'fulfilled') await new Promise<void>((resolve) => s.value.finalize(() => resolve()));
    await new Promise<void>((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }

  /** Runs a batch of writes in one transaction (a lone write alone); each waiter settles after the commit. */
  private async commitBatch(queued: QueuedWrite[]): Promise<void> {
    if (this.open === queued) this.open = undefined;
    const settle = (w: QueuedWrite, outcome: { ok: true; result: { changes: number; lastID: number } } | { ok: false; error: unknown }) => {
      for (const waiter of w.waiters) {
        if (outcome.ok) waiter.resolve(outcome.result);
        else waiter.reject(outcome.error);
      }
    };
    const batch: ReadyWrite[] = [];
    for (const w of queued) {
      if (w.superseded) continue;
      if (w.key !== undefined && this.keyed.get(w.key) === w) this.keyed.delete(w.key);
      try {
        if (typeof w.params === 'function') w.params = w.params();
        batch.push(w as ReadyWrite);
      } catch (error) {
        settle(w, { ok: false, error }); // its values could not be made: that write fails alone
      }
    }
    if (batch.length === 0) return;
    const attempt = (w: ReadyWrite) =>
      this.raw.run(w.sql, w.params).then(
        (result) => ({ ok: true as const, result }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    if (batch.length === 1) {
      settle(batch[0], await attempt(batch[0]));
      return;
    }
    if (await this.commitAsScript(batch)) {
      for (const w of batch) settle(w, { ok: true, result: NO_RESULT });
      return;
    }
    try {
      await this.raw.run('BEGIN IMMEDIATE');
      // A failing statement (a constraint) undoes itself only; the others still commit.
      const outcomes: Awaited<ReturnType<typeof attempt>>[] = [];
      for (const w of batch) outcomes.push(await attempt(w));
      await this.raw.run('COMMIT');
      batch.forEach((w, i) => settle(w, outcomes[i]));
    } catch (error) {
      await this.raw.run('ROLLBACK').catch(() => undefined);
      for (const w of batch) settle(w, { ok: false, error });
    }
  }

  /**
   * Commits a batch of writes that want no result as one script, in one trip; false (nothing written) when one
   * cannot be inlined or the script fails: then the batch goes statement by statement, which says whose write failed.
   */
  private async commitAsScript(batch: ReadyWrite[]): Promise<boolean> {
    const statements: string[] = [];
    for (const w of batch) {
      const statement = !w.wantsResult && inlined(w.sql, w.params);
      if (!statement) return false;
      statements.push(statement);
    }
    try {
      await this.execNow(`BEGIN IMMEDIATE;\n${statements.join(';\n')};\nCOMMIT`);
      return true;
    } catch {
      await this.execNow('ROLLBACK').catch(() => undefined);
      return false;
    }
  }

  private execNow(sql: string): Promise<void> {
    return new Promise<void>((resolve, reject) => this.db.exec(sql, (err) => (err ? reject(err) : resolve())));
  }

  private prepare(sql: string): Promise<sqlite3.Statement> {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = new Promise((resolve, reject) => {
        const prepared = this.db.prepare(sql, (err) => (err ? reject(err) : resolve(prepared)));
      });
      // A statement that fails to prepare is not kept: the next call reports its error again.
      statement.catch(() => this.statements.delete(sql));
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.turn.then(fn, fn);
    this.turn = result.catch(() => undefined);
    void this.turn.then(() => this.pending--);
    return result;
  }
}

/** Whether an error is sqlite's UNIQUE/PRIMARY KEY violation. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === 'SQLITE_CONSTRAINT' && /UNIQUE|PRIMARY KEY/.test((err as Error).message);
}

/**
 * Counts a store's finished writes (committed or not). A reader that notes `generation` before reading may
 * keep what it read for as long as the count stays the same: nothing it read has been written since.
 */
export class WriteCounter {
  generation = 0;

  async count<T>(write: Promise<T>): Promise<T> {
    try {
      return await write;
    } finally {
      this.generation++;
    }
  }
}
