// Trigger settings of a saved workflow (DESIGN: PUT /api/workflows/:id/trigger, POST /hooks/:slug)
// and the curl command that calls it.

import { useMemo, useState } from 'react';
import type { Controller } from './controller';
import { Modal } from './modal';
import { useValue } from './store';

const SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;

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
  const doc = useValue(controller.doc);
  const existing = doc.trigger ?? null;
  const [slug, setSlug] = useState(existing?.slug ?? slugify(doc.name));
  const [mode, setMode] = useState<'sync' | 'async'>(existing?.mode ?? 'sync');
  const [token, setToken] = useState('');
  const [copied, setCopied] = useState(false);

  // Named prompts are the run inputs a caller sets; their current texts make a ready example body.
  const body = useMemo(() => {
    const inputs: Record<string, unknown> = {};
    for (const node of controller.canvas?.nodes() ?? []) {
      const name = node.params.name;
      if (node.nodeType === 'prompt' && typeof name === 'string' && name) inputs[name] = node.params.text ?? '';
    }
    return inputs;
  }, [controller]);

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
  const command = curlCommand({ origin: location.origin, slug, token: token || (existing?.hasToken ? '<token>' : undefined), body });

  return (
    <Modal title="HTTP trigger" onClose={onClose} testId="trigger-dialog" wide>
      <form
        className="trigger-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (validSlug) void controller.setTrigger({ slug, mode, ...(token ? { token } : {}) });
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
            <input data-testid="trigger-token" value={token} onChange={(e) => setToken(e.target.value)} placeholder={existing?.hasToken ? 'a token is set; type a new one to replace it' : 'none'} />
            <button type="button" onClick={() => setToken(randomToken())}>
              Generate
            </button>
          </span>
          {existing?.hasToken && !token && <span className="muted small">Saving without a token removes the current one.</span>}
        </label>
        <div className="dialog-actions">
          <button type="submit" className="primary" data-testid="trigger-save" disabled={!validSlug}>
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
          {existing.hasToken ? ', token required' : ''})
        </p>
      )}
    </Modal>
  );
}
