// API tokens in sqlite: created with a scope, stored only as hashes, listed, revoked.
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../db';
import type { Scope } from './scopes';

export interface ApiToken {
  id: string;
  name: string;
  scope: Scope;
  createdAt: number;
  lastUsedAt: number | null;
}

interface Row {
  id: string;
  name: string;
  scope: Scope;
  created_at: number;
  last_used_at: number | null;
}

const PREFIX = 'pf_';
/** last_used_at is a hint for `picflow token list`: written at most this often per token, not on every request. */
const LAST_USED_EVERY_MS = 60_000;

/**
 * sha256, not bcrypt/scrypt: a token is 256 random bits, so a stolen hash cannot be reversed by guessing
 * however fast the hash is; slow hashes protect low-entropy passwords, and would cost every API request
 * tens of milliseconds of CPU and, being salted, rule out finding a token by its hash with one index lookup.
 */
function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const toToken = (row: Row): ApiToken => ({ id: row.id, name: row.name, scope: row.scope, createdAt: row.created_at, lastUsedAt: row.last_used_at });

/**
 * API tokens, stored as hashes (the token itself is shown once, when created). The table is read on
 * every check, never cached: `picflow token revoke` in another process takes effect on the next request.
 */
export class TokenStore {
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(private readonly db: Database) {}

  /** A new token; the returned `token` is the only copy of it. */
  async create(options: { scope: Scope; name: string }): Promise<ApiToken & { token: string }> {
    const id = randomBytes(6).toString('hex');
    const token = PREFIX + randomBytes(32).toString('base64url');
    const createdAt = Date.now();
    await this.db.run('INSERT INTO api_tokens (id, name, scope, token_hash, created_at) VALUES (?, ?, ?, ?, ?)', [
      id,
      options.name,
      options.scope,
      hashToken(token),
      createdAt,
    ]);
    return { id, name: options.name, scope: options.scope, createdAt, lastUsedAt: null, token };
  }

  /** The token a presented secret is, or undefined when it is none (or was revoked). */
  async verify(presented: string): Promise<ApiToken | undefined> {
    const row = await this.db.get<Row>('SELECT id, name, scope, created_at, last_used_at FROM api_tokens WHERE token_hash = ?', [
      hashToken(presented),
    ]);
    if (!row) return undefined;
    const now = Date.now();
    if (now - (this.lastUsedWritten.get(row.id) ?? 0) >= LAST_USED_EVERY_MS) {
      this.lastUsedWritten.set(row.id, now);
      await this.db.run('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [now, row.id]);
    }
    return toToken(row);
  }

  /** Whether a token id is still live (not revoked). */
  async exists(id: string): Promise<boolean> {
    return (await this.db.get('SELECT 1 FROM api_tokens WHERE id = ?', [id])) !== undefined;
  }

  async list(): Promise<ApiToken[]> {
    return (await this.db.all<Row>('SELECT id, name, scope, created_at, last_used_at FROM api_tokens ORDER BY created_at, id')).map(toToken);
  }

  async count(): Promise<number> {
    return (await this.db.get<{ n: number }>('SELECT count(*) AS n FROM api_tokens'))?.n ?? 0;
  }

  /** Deletes a token; false when there was none with that id. */
  async revoke(id: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM api_tokens WHERE id = ?', [id])).changes > 0;
  }
}
