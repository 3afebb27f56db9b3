// sqlite access: one promisified connection whose writes take turns (transactions included).
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
    const statements = await Promise.allSettled(this.statements.values());
    this.statements.clear();
    for (const s of statements) if (s.status === 'fulfilled') await new Promise<void>((resolve) => s.value.finalize(() => resolve()));
    await new Promise<void>((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
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
    const result = this.turn.then(fn, fn);
    this.turn = result.catch(() => undefined);
    return result;
  }
}

/** Whether an error is sqlite's UNIQUE/PRIMARY KEY violation. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === 'SQLITE_CONSTRAINT' && /UNIQUE|PRIMARY KEY/.test((err as Error).message);
}
