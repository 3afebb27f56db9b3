// Saved workflows in sqlite: every version kept, listed with their triggers.
import { randomUUID } from 'node:crypto';
import { WriteCounter, type Database } from '../db';

export interface TriggerSummary {
  slug: string;
  mode: 'sync' | 'async';
  hasToken: boolean;
  url: string;
}

export interface WorkflowSummary {
  id: string;
  name: string;
  version: number;
  createdAt: number;
  updatedAt: number;
  trigger: TriggerSummary | null;
}

export interface SavedWorkflow extends WorkflowSummary {
  /** The workflow JSON of this version, exactly as saved. */
  workflow: unknown;
}

interface Row {
  id: string;
  name: string;
  version: number;
  created_at: number;
  updated_at: number;
  slug: string | null;
  mode: 'sync' | 'async' | null;
  token_hash: string | null;
}

const SELECT = `
  SELECT w.id, w.name, w.version, w.created_at, w.updated_at, t.slug, t.mode, t.token_hash
  FROM workflows w LEFT JOIN triggers t ON t.workflow_id = w.id`;

export function hookUrl(slug: string): string {
  return `/hooks/${slug}`;
}

function summary(row: Row): WorkflowSummary {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    trigger: row.slug ? { slug: row.slug, mode: row.mode!, hasToken: row.token_hash !== null, url: hookUrl(row.slug) } : null,
  };
}

function nameOf(workflow: unknown): string {
  const name = (workflow as { name?: unknown }).name;
  return typeof name === 'string' && name.trim() !== '' ? name.trim() : 'untitled';
}

/** Saved workflows; every save is a new version and old versions stay readable. */
export class WorkflowStore {
  /** Counts this store's writes, so that readers may keep what they read until the next one. */
  readonly writes = new WriteCounter();

  constructor(private readonly db: Database) {}

  async list(): Promise<WorkflowSummary[]> {
    return (await this.db.all<Row>(`${SELECT} ORDER BY w.updated_at DESC, w.id`)).map(summary);
  }

  /** The newest version, or the given one. */
  async get(id: string, version?: number): Promise<SavedWorkflow | undefined> {
    const row = await this.db.get<Row>(`${SELECT} WHERE w.id = ?`, [id]);
    if (!row) return undefined;
    const body = await this.db.get<{ body: string }>('SELECT body FROM workflow_versions WHERE workflow_id = ? AND version = ?', [
      id,
      version ?? row.version,
    ]);
    if (!body) return undefined;
    return { ...summary(row), ...(version !== undefined && { version }), workflow: JSON.parse(body.body) };
  }

  async versions(id: string): Promise<{ version: number; createdAt: number }[]> {
    const rows = await this.db.all<{ version: number; created_at: number }>(
      'SELECT version, created_at FROM workflow_versions WHERE workflow_id = ? ORDER BY version DESC',
      [id],
    );
    return rows.map((r) => ({ version: r.version, createdAt: r.created_at }));
  }

  async create(workflow: unknown): Promise<SavedWorkflow> {
    const id = randomUUID();
    const now = Date.now();
    await this.writes.count(
      this.db.transaction(async (tx) => {
        await tx.run('INSERT INTO workflows (id, name, version, created_at, updated_at) VALUES (?, ?, 1, ?, ?)', [id, nameOf(workflow), now, now]);
        await tx.run('INSERT INTO workflow_versions (workflow_id, version, body, created_at) VALUES (?, 1, ?, ?)', [id, JSON.stringify(workflow), now]);
      }),
    );
    return (await this.get(id))!;
  }

  /** Saves a new version; a save identical to the newest version adds none. Undefined when the id is unknown. */
  async update(id: string, workflow: unknown): Promise<SavedWorkflow | undefined> {
    const body = JSON.stringify(workflow);
    const changed = await this.writes.count(this.db.transaction(async (tx) => {
      const current = await tx.get<{ version: number; body: string }>(
        'SELECT w.version, v.body FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.version WHERE w.id = ?',
        [id],
      );
      if (!current) return false;
      if (current.body === body) return true;
      const now = Date.now();
      const version = current.version + 1;
      await tx.run('INSERT INTO workflow_versions (workflow_id, version, body, created_at) VALUES (?, ?, ?, ?)', [id, version, body, now]);
      await tx.run('UPDATE workflows SET name = ?, version = ?, updated_at = ? WHERE id = ?', [nameOf(workflow), version, now, id]);
      return true;
    }));
    return changed ? this.get(id) : undefined;
  }

  /** Deletes the workflow, its versions and its trigger; its runs stay in the history. */
  async delete(id: string): Promise<boolean> {
    return (await this.writes.count(this.db.run('DELETE FROM workflows WHERE id = ?', [id]))).changes > 0;
  }
}
