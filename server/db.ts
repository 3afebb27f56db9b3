import sqlite3 from 'sqlite3';

export type SqlValue = string | number | null;

/** The statements a store issues; inside a transaction they run on the transaction's turn. */
export interface Queries {
  run(sql: string, params?: SqlValue[]): Promise<{ changes: number; lastID: number }>;
  get<T>(sql: string, params?: SqlValue[]): Promise<T | undefined>;
  all<T>(sql: string, params?: SqlValue[]): Promise<T[]>;
}

/**
 * One sqlite3 connection, promisified. Writes take turns: a transaction holds the turn from BEGIN to
 * COMMIT, so a write from another request can never land inside it (and be rolled back with it).
 */
export class Database implements Queries {
  private turn: Promise<unknown> = Promise.resolve();
  private readonly raw: Queries;

  private constructor(private readonly db: sqlite3.Database) {
    this.raw = {
      run: (sql, params = []) =>
        new Promise((resolve, reject) =>
          db.run(sql, params, function (err) {
            if (err) reject(err);
            else resolve({ changes: this.changes, lastID: this.lastID });
          }),
        ),
      get: <T>(sql: string, params: SqlValue[] = []) =>
        new Promise<T | undefined>((resolve, reject) => db.get<T>(sql, params, (err, row) => (err ? reject(err) : resolve(row)))),
      all: <T>(sql: string, params: SqlValue[] = []) =>
        new Promise<T[]>((resolve, reject) => db.all<T>(sql, params, (err, rows) => (err ? reject(err) : resolve(rows)))),
    };
  }

  static async open(file: string): Promise<Database> {
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const handle = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(handle)));
    });
    const database = new Database(db);
    db.configure('busyTimeout', 5_000);
    // WAL: readers never wait for the writer; NORMAL sync is durable across process crashes in WAL mode.
    await database.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
    return database;
  }

  run(sql: string, params?: SqlValue[]) {
    return this.exclusive(() => this.raw.run(sql, params));
  }

  get<T>(sql: string, params?: SqlValue[]) {
    return this.raw.get<T>(sql, params);
  }

  all<T>(sql: string, params?: SqlValue[]) {
    return this.raw.all<T>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.exclusive(() => new Promise<void>((resolve, reject) => this.db.exec(sql, (err) => (err ? reject(err) : resolve()))));
  }

  /** Runs `fn` between BEGIN IMMEDIATE and COMMIT, rolling back when it throws. */
  transaction<T>(fn: (tx: Queries) => Promise<T>): Promise<T> {
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
    await new Promise<void>((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.turn.then(fn, fn);
    this.turn = result.catch(() => undefined);
    return result;
  }
}

/** Whether an error is sqlite's UNIQUE/PRIMARY KEY violation. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === 'SQLITE_CONSTRAINT' && /UNIQUE|PRIMARY KEY/.test((err as Error).message);
}
