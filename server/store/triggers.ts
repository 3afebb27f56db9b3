import { createHash, timingSafeEqual } from 'node:crypto';
import { isUniqueViolation, type Database } from '../db';

export type TriggerMode = 'sync' | 'async';

export interface Trigger {
  slug: string;
  workflowId: string;
  mode: TriggerMode;
  /** sha256 of the bearer token, hex; tokens themselves are never stored. */
  tokenHash: string | null;
}

interface Row {
  slug: string;
  workflow_id: string;
  mode: TriggerMode;
  token_hash: string | null;
}

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Constant-time check of a presented token. Both sides are hashed first, so the comparison always
 * covers 32 bytes and leaks neither content nor length of the token.
 */
export function tokenMatches(trigger: Trigger, presented: string | undefined): boolean {
  if (trigger.tokenHash === null) return true;
  if (presented === undefined) return false;
  return timingSafeEqual(hashToken(presented), Buffer.from(trigger.tokenHash, 'hex'));
}

export class SlugTakenError extends Error {}

/** HTTP triggers: at most one per workflow, each under a unique slug. */
export class TriggerStore {
  constructor(private readonly db: Database) {}

  async bySlug(slug: string): Promise<Trigger | undefined> {
    const row = await this.db.get<Row>('SELECT slug, workflow_id, mode, token_hash FROM triggers WHERE slug = ?', [slug]);
    return row && { slug: row.slug, workflowId: row.workflow_id, mode: row.mode, tokenHash: row.token_hash };
  }

  /** Sets (or replaces) the workflow's trigger; throws SlugTakenError when another workflow holds the slug. */
  async set(workflowId: string, trigger: { slug: string; mode: TriggerMode; token?: string | null }): Promise<void> {
    const tokenHash = trigger.token ? hashToken(trigger.token).toString('hex') : null;
    try {
      await this.db.transaction(async (tx) => {
        await tx.run('DELETE FROM triggers WHERE workflow_id = ?', [workflowId]);
        await tx.run('INSERT INTO triggers (slug, workflow_id, mode, token_hash, created_at) VALUES (?, ?, ?, ?, ?)', [
          trigger.slug,
          workflowId,
          trigger.mode,
          tokenHash,
          Date.now(),
        ]);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new SlugTakenError(`the slug '${trigger.slug}' is used by another workflow's trigger`);
      throw err;
    }
  }

  async delete(workflowId: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM triggers WHERE workflow_id = ?', [workflowId])).changes > 0;
  }
}
