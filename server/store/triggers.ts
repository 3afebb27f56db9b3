// HTTP triggers in sqlite: slug, mode, exposed params, hashed token and signing secret.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DEFAULT_TRIGGER_LIMITS, type TriggerLimits } from '../../engine/contract';
import { isUniqueViolation, WriteCounter, type Database } from '../db';

export type TriggerMode = 'sync' | 'async';

/** A node param a trigger exposes to callers under a name of its own (`{ param: "g.seed", name: "seed" }`). */
export interface ExposedParam {
  param: string;
  name: string;
}

/** How a trigger is called: what it exposes, who may call it and how fast. */
export interface TriggerSettings extends TriggerLimits {
  /** Node params callers may set, besides the workflow's named prompts and template variables. */
  inputs: ExposedParam[];
}

export const DEFAULT_SETTINGS: TriggerSettings = { inputs: [], ...DEFAULT_TRIGGER_LIMITS };

export interface Trigger extends TriggerSettings {
  slug: string;
  workflowId: string;
  mode: TriggerMode;
  /** sha256 of the bearer token, hex; tokens themselves are never stored. */
  tokenHash: string | null;
  /** Signs callbacks and verifies signed requests (HMAC-SHA256); shown to the trigger's owner only. */
  secret: string;
}

interface Row {
  slug: string;
  workflow_id: string;
  mode: TriggerMode;
  token_hash: string | null;
  settings: string;
  secret: string | null;
}

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Constant-time check of a presented token. Both sides are hashed first, so the comparison always
 * covers 32 bytes and leaks neither content nor length of the token.
 */
export function tokenMatches(trigger: Pick<Trigger, 'tokenHash'>, presented: string | undefined): boolean {
  if (trigger.tokenHash === null) return true;
  if (presented === undefined) return false;
  return timingSafeEqual(hashToken(presented), Buffer.from(trigger.tokenHash, 'hex'));
}

export class SlugTakenError extends Error {}

export interface TriggerUpdate extends Partial<TriggerSettings> {
  slug: string;
  mode: TriggerMode;
  /** A new token; null removes it; omitted keeps the current one. */
  token?: string | null;
  /** A new secret replaces the current one (callbacks and signed requests must switch to it). */
  rotateSecret?: boolean;
}

/** The token hash a trigger keeps: the current one when no token is given, none for null, else the new token's. */
function tokenHashAfter(given: string | null | undefined, current: string | null | undefined): string | null {
  if (given === undefined) return current ?? null;
  return given ? hashToken(given).toString('hex') : null;
}

function fromRow(row: Row): Trigger {
  // Stored by this store only; defaults cover settings added after the row was written.
  const settings = { ...DEFAULT_SETTINGS, ...(JSON.parse(row.settings) as Partial<TriggerSettings>) };
  return { ...settings, slug: row.slug, workflowId: row.workflow_id, mode: row.mode, tokenHash: row.token_hash, secret: row.secret ?? '' };
}

const COLUMNS = 'slug, workflow_id, mode, token_hash, settings, secret';

/** HTTP triggers: at most one per workflow, each under a unique slug. */
export class TriggerStore {
  /** Counts this store's writes, so that readers may keep what they read until the next one. */
  readonly writes = new WriteCounter();

  constructor(private readonly db: Database) {}

  async bySlug(slug: string): Promise<Trigger | undefined> {
    const row = await this.db.get<Row>(`SELECT ${COLUMNS} FROM triggers WHERE slug = ?`, [slug]);
    return row && fromRow(row);
  }

  async byWorkflow(workflowId: string): Promise<Trigger | undefined> {
    const row = await this.db.get<Row>(`SELECT ${COLUMNS} FROM triggers WHERE workflow_id = ?`, [workflowId]);
    return row && fromRow(row);
  }

  /**
   * Sets (or replaces) the workflow's trigger, keeping its secret unless asked to rotate it, and its token
   * unless given another or null (no client can send back a token it is never shown); throws
   * SlugTakenError when another workflow holds the slug.
   */
  async set(workflowId: string, update: TriggerUpdate): Promise<Trigger> {
    const settings: TriggerSettings = {
      inputs: update.inputs ?? DEFAULT_SETTINGS.inputs,
      allowedOrigins: update.allowedOrigins ?? DEFAULT_SETTINGS.allowedOrigins,
      rateLimit: update.rateLimit ?? DEFAULT_SETTINGS.rateLimit,
      timeoutMs: update.timeoutMs ?? DEFAULT_SETTINGS.timeoutMs,
      requireSignature: update.requireSignature ?? DEFAULT_SETTINGS.requireSignature,
    };
    try {
      await this.writes.count(this.db.transaction(async (tx) => {
        const current = await tx.get<{ secret: string | null; token_hash: string | null }>('SELECT secret, token_hash FROM triggers WHERE workflow_id = ?', [workflowId]);
        const secret = !update.rotateSecret && current?.secret ? current.secret : randomBytes(32).toString('hex');
        const tokenHash = tokenHashAfter(update.token, current?.token_hash);
        await tx.run('DELETE FROM triggers WHERE workflow_id = ?', [workflowId]);
        await tx.run('INSERT INTO triggers (slug, workflow_id, mode, token_hash, settings, secret, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
          update.slug,
          workflowId,
          update.mode,
          tokenHash,
          JSON.stringify(settings),
          secret,
          Date.now(),
        ]);
      }));
    } catch (err) {
      if (isUniqueViolation(err)) throw new SlugTakenError(`the slug '${update.slug}' is used by another workflow's trigger`);
      throw err;
    }
    return (await this.byWorkflow(workflowId))!;
  }

  async delete(workflowId: string): Promise<boolean> {
    return (await this.writes.count(this.db.run('DELETE FROM triggers WHERE workflow_id = ?', [workflowId]))).changes > 0;
  }
}
