// Trigger settings of a saved workflow (DESIGN: PUT /api/workflows/:id/trigger, POST /hooks/:slug):
// the params callers may set and their names, the curl command that calls it, and its app page.

import { useEffect, useMemo, useState } from 'react';
import { DEFAULT_TRIGGER_LIMITS, TRIGGER_LIMIT_BOUNDS, type TriggerLimits } from '../../engine/contract';
import { api } from './api';
import type { Controller } from './controller';
import { Modal } from './modal';
import { useValue } from './store';

const SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const { rateLimit: RATE, timeoutMs: TIMEOUT } = TRIGGER_LIMIT_BOUNDS;

export function slugify(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64) || 'workflow';
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function curlCommand(options: { origin: string; slug: string; token?: string; body: Record<string, unknown> }): string {
  const lines = [`curl -X POST ${shellQuote(`${options.origin}/hooks/${options.slug}`)}`, `  -H 'Content-Type: application/json'`];
  if (options.token) lines.push(`  -H ${shellQuote(`Authorization: Bearer ${options.token}`)}`);
  lines.push(`  -d ${shellQuote(JSON.stringify(options.body))}`);
  return lines.join(' \\\n');
}

function randomToken(): string {
  const bytes = new Uint8Array(18);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_');
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Without clipboard permission (plain http on another host), fall back to a selected textarea.
    const area = document.createElement('textarea');
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

export function TriggerDialog({ controller, onClose }: { controller: Controller; onClose(): void }) {
  const doc = useValue(controller.document.state);
  const existing = doc.trigger ?? null;
  const [slug, setSlug] = useState(existing?.slug ?? slugify(doc.name));
  const [mode, setMode] = useState<'sync' | 'async'>(existing?.mode ?? 'sync');
  const [token, setToken] = useState('');
  const [removeToken, setRemoveToken] = useState(false);
  // Only while a token is set (once removed, the box goes and a new token may be typed).
  const removing = removeToken && Boolean(existing?.hasToken);
  const [copied, setCopied] = useState(false);

  // Exposed params, by `<node>.<param>` → the name callers use, and the limits; loaded from the saved trigger
  // and all sent back on save (a setting left out of the PUT would go back to its default).
  const [exposed, setExposed] = useState<Map<string, string>>(new Map());
  const [limits, setLimits] = useState<LimitFields>(() => limitFields(DEFAULT_TRIGGER_LIMITS));
  // Loaded when the dialog opens on a saved trigger, not again after each save: a save replaces doc.trigger, and a
  // fetch then would put back what the user changed since.
  const hasTrigger = existing !== null;
  useEffect(() => {
    if (!doc.id || !hasTrigger) return;
    api.getTrigger(doc.id).then(
      (saved) => {
        setExposed(new Map((saved?.inputs ?? []).map((i) => [i.param, i.name])));
        if (saved) setLimits(limitFields(saved));
      },
      () => undefined,
    );
  }, [doc.id, hasTrigger]);
  const limitsProblem = problemOf(limits);

  // Named prompts are always run inputs; other nodes' params may be exposed (output nodes have none worth it).
  const { prompts, params } = useMemo(() => {
    const prompts: Record<string, unknown> = {};
    const params: { key: string; param: string; value: unknown; description?: string }[] = [];
    for (const node of controller.canvas?.nodes() ?? []) {
      const name = node.params.name;
      if (node.nodeType === 'prompt') {
        if (typeof name === 'string' && name) prompts[name] = node.params.text ?? '';
        continue;
      }
      if (!node.spec || node.spec.output) continue;
      for (const [param, schema] of Object.entries(node.spec.params.properties ?? {})) {
        params.push({ key: `${node.id}.${param}`, param, value: node.params[param] ?? schema.default, description: schema.description });
      }
    }
    return { prompts, params };
  }, [controller]);

  // A ready example body: the prompts' texts and the exposed params' current values.
  const body: Record<string, unknown> = { ...prompts };
  for (const p of params) if (exposed.has(p.key) && p.value !== undefined) body[exposed.get(p.key)!] = p.value;
  const inputs = [...exposed].map(([param, name]) => ({ param, name }));

  if (!doc.id) {
    return (
      <Modal title="HTTP trigger" onClose={onClose} testId="trigger-dialog">
        <p>Save the workflow first: a trigger runs the saved version.</p>
        <div className="dialog-actions">
          <button type="button" className="primary" onClick={() => controller.notices.dialog.set({ kind: 'save-as' })}>
            Save as…
          </button>
        </div>
      </Modal>
    );
  }

  const validSlug = SLUG.test(slug);
  const command = curlCommand({ origin: location.origin, slug, token: token || (existing?.hasToken && !removing ? '<token>' : undefined), body });

  return (
    <Modal title="HTTP trigger" onClose={onClose} testId="trigger-dialog" wide>
      <form
        className="trigger-form"
        onSubmit={(e) => {
          e.preventDefault();
          // No token typed: the server keeps the one it has (it never shows it, so it cannot be sent back).
          const tokenChange = token ? { token } : removing ? { token: null } : {};
          if (validSlug && !limitsProblem) void controller.document.setTrigger({ slug, mode, inputs, ...limitsOf(limits), ...tokenChange });
        }}
      >
        <label className="stack">
          Slug
          <input data-testid="trigger-slug" value={slug} onChange={(e) => setSlug(e.target.value)} aria-invalid={!validSlug || undefined} />
          {!validSlug && <span className="error-text">1 to 64 lower-case letters, digits, _ and -</span>}
        </label>
        <fieldset className="inline">
          <legend>Mode</legend>
          <label>
            <input type="radio" name="mode" checked={mode === 'sync'} onChange={() => setMode('sync')} /> sync — waits and returns the outputs
          </label>
          <label>
            <input type="radio" name="mode" data-testid="trigger-async" checked={mode === 'async'} onChange={() => setMode('async')} /> async — returns a run id at once
          </label>
        </fieldset>
        <label className="stack">
          Bearer token (optional)
          <span className="row">
            <input
              data-testid="trigger-token"
              value={token}
              onChange={(e) => setToken(e.target.value)}
              disabled={removing}
              placeholder={existing?.hasToken ? 'a token is set; leave empty to keep it, or type a new one' : 'none'}
            />
            <button type="button" disabled={removing} onClick={() => setToken(randomToken())}>
              Generate
            </button>
          </span>
        </label>
        {existing?.hasToken && (
          <label className="muted small">
            <input
              type="checkbox"
              data-testid="trigger-remove-token"
              checked={removeToken}
              onChange={(e) => {
                setRemoveToken(e.target.checked);
                if (e.target.checked) setToken('');
              }}
            />{' '}
            remove the token: anyone who can reach the server may call it
          </label>
        )}
        <fieldset className="trigger-inputs" data-testid="trigger-inputs">
          <legend>Inputs callers set</legend>
          {Object.keys(prompts).length > 0 && (
            <p className="muted small">Named prompts: {Object.keys(prompts).join(', ')} (always inputs)</p>
          )}
          {params.map((p) => (
            <div key={p.key} className="row" title={p.description}>
              <label>
                <input
                  type="checkbox"
                  data-testid={`trigger-expose-${p.key}`}
                  checked={exposed.has(p.key)}
                  onChange={(e) =>
                    setExposed((current) => {
                      const next = new Map(current);
                      if (e.target.checked) next.set(p.key, p.param in body || [...next.values()].includes(p.param) ? p.key.replace('.', '_') : p.param);
                      else next.delete(p.key);
                      return next;
                    })
                  }
                />{' '}
                <code>{p.key}</code>
              </label>
              {exposed.has(p.key) && (
                <input
                  aria-label={`name of ${p.key}`}
                  data-testid={`trigger-name-${p.key}`}
                  value={exposed.get(p.key)}
                  onChange={(e) => setExposed((current) => new Map(current).set(p.key, e.target.value))}
                />
              )}
            </div>
          ))}
        </fieldset>
        <fieldset className="trigger-limits" data-testid="trigger-limits">
          <legend>Limits and access</legend>
          <label className="stack">
            Rate limit: calls a minute per client (empty: none)
            <input type="number" min={RATE.min} max={RATE.max} step={1} data-testid="trigger-rate-limit" value={limits.rateLimit} onChange={(e) => setLimits({ ...limits, rateLimit: e.target.value })} placeholder="none" />
          </label>
          <label className="stack">
            Sync calls answer 202 after (seconds)
            <input type="number" min={TIMEOUT.min / 1000} max={TIMEOUT.max / 1000} step="any" data-testid="trigger-timeout" value={limits.timeoutSeconds} onChange={(e) => setLimits({ ...limits, timeoutSeconds: e.target.value })} />
          </label>
          <label className="stack">
            Browser origins that may call it (one per line, e.g. https://app.example.com)
            <textarea rows={2} data-testid="trigger-origins" value={limits.allowedOrigins} onChange={(e) => setLimits({ ...limits, allowedOrigins: e.target.value })} />
          </label>
          <label>
            <input type="checkbox" data-testid="trigger-require-signature" checked={limits.requireSignature} onChange={(e) => setLimits({ ...limits, requireSignature: e.target.checked })} /> Calls must be signed
            with the trigger's secret (or carry its token)
          </label>
          {limitsProblem && <span className="error-text">{limitsProblem}</span>}
        </fieldset>
        <div className="dialog-actions">
          <button type="submit" className="primary" data-testid="trigger-save" disabled={!validSlug || Boolean(limitsProblem)}>
            Save trigger
          </button>
        </div>
      </form>
      <h3>Call it</h3>
      <pre className="curl" data-testid="trigger-curl">
        {command}
      </pre>
      <button
        type="button"
        data-testid="trigger-copy"
        onClick={async () => {
          setCopied(await copyText(command));
          setTimeout(() => setCopied(false), 2000);
        }}
      >
        {copied ? 'Copied' : 'Copy command'}
      </button>
      {existing && (
        <p className="muted small">
          Active trigger: <code>/hooks/{existing.slug}</code> ({existing.mode}
          {existing.hasToken ? ', token required' : ''}) ·{' '}
          <a href={`/apps/${existing.slug}`} target="_blank" rel="noopener" data-testid="trigger-app-link">
            open its app page
          </a>{' '}
          ·{' '}
          <a href={`/api/docs?url=${encodeURIComponent(`/hooks/${existing.slug}/openapi.json`)}`} target="_blank" rel="noopener">
            API reference
          </a>
        </p>
      )}
    </Modal>
  );
}

/** The limits as the dialog's fields hold them: text as typed. */
interface LimitFields {
  rateLimit: string;
  timeoutSeconds: string;
  allowedOrigins: string;
  requireSignature: boolean;
}

function limitFields(limits: TriggerLimits): LimitFields {
  return {
    rateLimit: limits.rateLimit === null ? '' : String(limits.rateLimit),
    timeoutSeconds: String(limits.timeoutMs / 1000),
    allowedOrigins: limits.allowedOrigins.join('\n'),
    requireSignature: limits.requireSignature,
  };
}

function limitsOf(fields: LimitFields): TriggerLimits {
  return {
    rateLimit: fields.rateLimit.trim() === '' ? null : Number(fields.rateLimit),
    timeoutMs: Math.round(Number(fields.timeoutSeconds) * 1000),
    allowedOrigins: fields.allowedOrigins.split(/\s+/).filter(Boolean),
    requireSignature: fields.requireSignature,
  };
}

/** What is wrong with the fields, in the server's bounds, or null (origins are checked by the server, which names the bad one). */
function problemOf(fields: LimitFields): string | null {
  const { rateLimit, timeoutMs } = limitsOf(fields);
  if (rateLimit !== null && !(Number.isInteger(rateLimit) && rateLimit >= RATE.min && rateLimit <= RATE.max)) {
    return `The rate limit is a whole number from ${RATE.min} to ${RATE.max.toLocaleString('en')}, or empty.`;
  }
  if (!(timeoutMs >= TIMEOUT.min && timeoutMs <= TIMEOUT.max)) return `The timeout is from ${TIMEOUT.min / 1000} to ${TIMEOUT.max / 1000} seconds.`;
  return null;
}
