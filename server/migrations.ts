// The sqlite schema as numbered migrations, applied in order at start.
import type { Database } from './db';

/**
 * The schema, one entry per version; `PRAGMA user_version` records how many have been applied.
 * Append new entries, never edit old ones: a data dir from an older picflow upgrades in place.
 */
const migrations: string[] = [
  `
  CREATE TABLE workflows (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE workflow_versions (
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workflow_id, version)
  );
  CREATE TABLE triggers (
    slug TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL UNIQUE REFERENCES workflows(id) ON DELETE CASCADE,
    mode TEXT NOT NULL CHECK (mode IN ('sync', 'async')),
    token_hash TEXT,
    created_at INTEGER NOT NULL
  );
  -- No foreign key to workflows: a run's history outlives the workflow it ran.
  CREATE TABLE runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    workflow_id TEXT,
    workflow_version INTEGER,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    workflow TEXT NOT NULL,
    inputs TEXT NOT NULL,
    nodes TEXT,
    outputs TEXT,
    error TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    ms REAL
  );
  CREATE INDEX runs_by_workflow ON runs (workflow_id, seq);
  CREATE INDEX runs_by_status ON runs (status, seq);
  CREATE TABLE artifacts (
    id TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    source TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  // API tokens (issue 12): the sha256 of each token, never the token; scope read ⊂ run ⊂ admin.
  `
  CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'run', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
  );
  `,
  // Triggers that apps build on (issue 14): each trigger's settings (exposed inputs, allowed origins,
  // rate limit, sync timeout, signed requests) as JSON, its signing secret, and every callback attempt.
  `
  ALTER TABLE triggers ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE triggers ADD COLUMN secret TEXT;
  UPDATE triggers SET secret = lower(hex(randomblob(32)));
  CREATE TABLE callback_deliveries (
    run_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    url TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    at INTEGER NOT NULL,
    ms REAL,
    PRIMARY KEY (run_id, attempt)
  );
  `,
  // Durable callbacks: a delivery not yet done (its next attempt and when it is due), resumed at start-up.
  `
  CREATE TABLE callback_pending (
    run_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    next_attempt INTEGER NOT NULL,
    next_at INTEGER NOT NULL
  );
  `,
  // A run's callback kept after its delivery ends, so that resuming an interrupted run delivers its final result
  // too; a delivery's first attempt, since a resumed run's delivery has attempts of its own after those made.
  `
  CREATE TABLE callback_targets (
    run_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL
  );
  INSERT INTO callback_targets (run_id, url, secret) SELECT run_id, url, secret FROM callback_pending;
  ALTER TABLE callback_pending ADD COLUMN first_attempt INTEGER NOT NULL DEFAULT 1;
  `,
];

/** Brings the database up to the newest schema; each step commits together with its version number. */
export async function migrate(db: Database): Promise<{ from: number; to: number }> {
  const row = await db.get<{ user_version: number }>('PRAGMA user_version');
  const from = row?.user_version ?? 0;
  if (from > migrations.length) {
    throw new Error(
      `the data dir has schema version ${from}, newer than this picflow knows (${migrations.length}): a newer picflow wrote it. ` +
        `It was left as it is; run that newer picflow on it (or start this one with another --data)`,
    );
  }
  for (let version = from + 1; version <= migrations.length; version++) {
    // exec runs the whole script; BEGIN/COMMIT inside it keep the step and its version atomic.
    try {
      await db.exec(`BEGIN IMMEDIATE; ${migrations[version - 1]}; PRAGMA user_version = ${version}; COMMIT;`);
    } catch (err) {
      await db.exec('ROLLBACK').catch(() => undefined);
      throw new Error(`migration to schema version ${version} failed: ${(err as Error).message}`);
    }
  }
  return { from, to: migrations.length };
}
