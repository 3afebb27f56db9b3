// The REST client: every call the editor makes to the server goes through here (DESIGN "Public HTTP API").

import { authorizedFetch } from './auth';
import { DEFAULT_TRIGGER_LIMITS, type CatalogEntry, type RunState, type TriggerLimits, type Workflow, type WorkflowIssue } from '../../engine/contract';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** Validation problems, when the server refused a workflow. */
    readonly issues: WorkflowIssue[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface SavedWorkflowSummary {
  id: string;
  name: string;
  updatedAt?: string | number;
}

export interface TriggerInfo {
  slug: string;
  mode: 'sync' | 'async';
  hasToken: boolean;
  url?: string;
}

export interface SavedWorkflow {
  id: string;
  name: string;
  workflow: Workflow;
  trigger?: TriggerInfo | null;
  /** What a save broke in the workflow's trigger (inputs it exposes from nodes or params now gone). */
  triggerIssues?: WorkflowIssue[];
}

/** A node param a trigger lets callers set, under a name of its own. */
export interface ExposedParam {
  /** `<node id>.<param>` */
  param: string;
  name: string;
}

export interface Trigger extends TriggerLimits {
  slug: string;
  mode: 'sync' | 'async';
  token?: string | null;
  /** True when a token is set but the server does not reveal it. */
  hasToken?: boolean;
  inputs?: ExposedParam[];
}

/** What `PUT /api/workflows/:id/trigger` takes from the editor: every setting, since a PUT leaves out none (what it omits goes back to its default). */
export interface TriggerSettings extends TriggerLimits {
  slug: string;
  mode: 'sync' | 'async';
  /** A new token; null removes it; left out, the current one stays. */
  token?: string | null;
  inputs?: ExposedParam[];
}

export interface RunOutputRecord {
  node?: string;
  value?: unknown;
}

export interface RunSummary {
  id: string;
  status: RunState;
  workflowId?: string | null;
  /** `editor`, `api`, `cli` or `hook:<slug>`. */
  source?: string;
  outputs?: Record<string, RunOutputRecord | unknown>;
  createdAt?: string | number;
  startedAt?: string | number | null;
  finishedAt?: string | number | null;
  ms?: number | null;
  error?: { node: string | null; message: string } | string | null;
}

export interface RunNodeRecord {
  status?: string;
  ms?: number | null;
  cached?: boolean;
  error?: string | null;
  outputs?: Record<string, unknown> | null;
}

export interface RunDetail extends RunSummary {
  /** The exact graph the run ran (its snapshot). */
  workflow?: Workflow;
  inputs?: Record<string, unknown>;
  nodes?: Record<string, RunNodeRecord>;
}

export interface RunFilter {
  workflowId?: string;
  status?: RunState;
  limit?: number;
  /** Paging cursor (`next` of the previous page). */
  before?: number;
  /** Created at or after / before (ms since the epoch). */
  since?: number;
  until?: number;
}

/** One image of a run, as the gallery lists it. */
export interface GalleryItem {
  runId: string;
  workflowId: string | null;
  source: string;
  status: RunState;
  createdAt: number;
  output: string;
  node: string;
  artifact: string;
  url: string;
  width: number;
  height: number;
}

function runQuery(filter: RunFilter): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) if (value !== undefined && value !== '') query.set(key, String(value));
  const q = query.toString();
  return q ? `?${q}` : '';
}

export interface Template {
  id: string;
  name: string;
  description?: string;
  workflow: Workflow;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, 'content-type': 'application/json' };
  }
  let response: Response;
  try {
    response = await authorizedFetch(path, init);
  } catch (err) {
    throw new ApiError(`cannot reach the server (${(err as Error).message})`, 0);
  }
  const text = await response.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) throw errorFrom(response.status, data);
  return data as T;
}

function errorFrom(status: number, data: unknown): ApiError {
  if (typeof data === 'object' && data !== null) {
    const body = data as { error?: unknown; message?: unknown; errors?: unknown; issues?: unknown };
    const issues = (Array.isArray(body.errors) ? body.errors : Array.isArray(body.issues) ? body.issues : []) as WorkflowIssue[];
    const nested = typeof body.error === 'object' && body.error !== null ? (body.error as { message?: unknown }).message : undefined;
    const message =
      typeof body.error === 'string' ? body.error : typeof body.message === 'string' ? body.message : typeof nested === 'string' ? nested : undefined;
    if (issues.length > 0) return new ApiError(message ?? `${issues.length} problem(s) in the workflow`, status, issues);
    if (message) return new ApiError(message, status);
  }
  return new ApiError(typeof data === 'string' && data ? data.slice(0, 300) : `request failed (${status})`, status);
}

/** Lists come back either bare or wrapped (`{ workflows: [...] }`, `{ items: [...] }`). */
function listOf<T>(data: unknown, key: string): T[] {
  if (Array.isArray(data)) return data as T[];
  if (typeof data === 'object' && data !== null) {
    const record = data as Record<string, unknown>;
    for (const k of [key, 'items', 'data', 'results']) if (Array.isArray(record[k])) return record[k] as T[];
  }
  return [];
}

function toSavedWorkflow(data: unknown): SavedWorkflow {
  const record = data as Record<string, unknown>;
  const workflow = (record.workflow ?? record.definition ?? record) as Workflow;
  const name = typeof record.name === 'string' ? record.name : (workflow.name ?? 'untitled');
  const trigger = (record.trigger ?? null) as TriggerInfo | null;
  const triggerIssues = Array.isArray(record.triggerIssues) ? (record.triggerIssues as WorkflowIssue[]) : [];
  return { id: String(record.id), name, workflow: { ...workflow, name: workflow.name ?? name }, trigger, triggerIssues };
}

export const api = {
  nodes: async (): Promise<CatalogEntry[]> => listOf<CatalogEntry>(await request('GET', '/api/nodes'), 'nodes'),

  models: () => request<unknown>('GET', '/api/models'),

  listWorkflows: async (): Promise<SavedWorkflowSummary[]> =>
    listOf<Record<string, unknown>>(await request('GET', '/api/workflows'), 'workflows').map((w) => ({
      id: String(w.id),
      name: typeof w.name === 'string' ? w.name : String((w.workflow as Workflow | undefined)?.name ?? w.id),
      updatedAt: (w.updatedAt ?? w.updated_at) as string | number | undefined,
    })),

  getWorkflow: async (id: string): Promise<SavedWorkflow> =>
    toSavedWorkflow(await request('GET', `/api/workflows/${encodeURIComponent(id)}`)),

  createWorkflow: async (workflow: Workflow): Promise<SavedWorkflow> => {
    const data = await request<Record<string, unknown>>('POST', '/api/workflows', { name: workflow.name, workflow });
    return { ...toSavedWorkflow({ workflow, name: workflow.name, ...data }), workflow };
  },

  updateWorkflow: async (id: string, workflow: Workflow): Promise<SavedWorkflow> => {
    const data = await request<Record<string, unknown>>('PUT', `/api/workflows/${encodeURIComponent(id)}`, {
      name: workflow.name,
      workflow,
    });
    return { ...toSavedWorkflow({ workflow, name: workflow.name, id, ...data }), workflow };
  },

  deleteWorkflow: (id: string) => request<unknown>('DELETE', `/api/workflows/${encodeURIComponent(id)}`),

  validate: (workflow: Workflow) => request<{ ok: boolean; errors: WorkflowIssue[] }>('POST', '/api/workflows/validate', workflow),

  /**
   * Runs a workflow given as JSON (with `editedFrom`: an edited state of that saved workflow, recorded
   * in its history), or a saved one by id. The editor's runs say so in their `source`.
   */
  startRun: async (body: { workflow: Workflow; editedFrom?: string } | { workflowId: string }): Promise<string> => {
    const data = await request<Record<string, unknown>>('POST', '/api/runs', { ...body, source: 'editor' });
    return String(data.runId ?? data.id);
  },

  listRuns: async (filter: RunFilter = {}): Promise<RunSummary[]> =>
    listOf<Record<string, unknown>>(await request('GET', `/api/runs${runQuery(filter)}`), 'runs').map(normaliseRun),

  /** Images of runs across workflows, newest first, a page at a time. */
  gallery: (filter: RunFilter = {}) => request<{ items: GalleryItem[]; next: number | null }>('GET', `/api/gallery${runQuery(filter)}`),

  getRun: async (id: string): Promise<RunDetail> =>
    normaliseRun(await request<Record<string, unknown>>('GET', `/api/runs/${encodeURIComponent(id)}`)) as RunDetail,

  cancelRun: (id: string) => request<unknown>('POST', `/api/runs/${encodeURIComponent(id)}/cancel`),

  upload: async (file: File): Promise<{ artifact: string; url: string }> => {
    const form = new FormData();
    form.append('file', file);
    let response: Response;
    try {
      response = await authorizedFetch('/api/uploads', { method: 'POST', body: form });
    } catch (err) {
      throw new ApiError(`cannot reach the server (${(err as Error).message})`, 0);
    }
    const text = await response.text();
    let data: Record<string, unknown> = {};
    try {
      data = text ? JSON.parse(text) : {};
    } catch {
      /* not JSON */
    }
    if (!response.ok) throw errorFrom(response.status, Object.keys(data).length ? data : text);
    const artifact = String(data.artifact ?? data.id);
    return { artifact, url: typeof data.url === 'string' ? data.url : `/api/artifacts/${encodeURIComponent(artifact)}` };
  },

  getTrigger: async (workflowId: string): Promise<Trigger | null> => {
    try {
      const data = await request<Record<string, unknown> | null>('GET', `/api/workflows/${encodeURIComponent(workflowId)}/trigger`);
      if (!data || typeof data !== 'object') return null;
      const t = (data.trigger ?? data) as Record<string, unknown>;
      if (typeof t.slug !== 'string') return null;
      return {
        slug: t.slug,
        mode: t.mode === 'async' ? 'async' : 'sync',
        token: (t.token as string | null) ?? null,
        hasToken: Boolean(t.hasToken ?? t.token),
        inputs: Array.isArray(t.inputs) ? (t.inputs as ExposedParam[]) : [],
        allowedOrigins: Array.isArray(t.allowedOrigins) ? t.allowedOrigins.filter((o): o is string => typeof o === 'string') : [],
        rateLimit: typeof t.rateLimit === 'number' ? t.rateLimit : null,
        timeoutMs: typeof t.timeoutMs === 'number' ? t.timeoutMs : DEFAULT_TRIGGER_LIMITS.timeoutMs,
        requireSignature: t.requireSignature === true,
      };
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return null;
      throw err;
    }
  },

  setTrigger: (workflowId: string, trigger: TriggerSettings) =>
    request<TriggerInfo>('PUT', `/api/workflows/${encodeURIComponent(workflowId)}/trigger`, trigger),

  templates: async (): Promise<Template[]> =>
    listOf<Record<string, unknown>>(await request('GET', '/api/templates'), 'templates').map((t) => {
      const workflow = (t.workflow ?? t) as Workflow;
      return {
        id: String(t.id ?? t.file ?? workflow.name),
        name: String(t.name ?? workflow.name ?? t.id),
        description: (t.description ?? workflow.description) as string | undefined,
        workflow,
      };
    }),
};

function normaliseRun(r: Record<string, unknown>): RunSummary {
  return {
    ...(r as object),
    id: String(r.id ?? r.runId),
    status: (r.status ?? 'queued') as RunState,
    workflowId: (r.workflowId ?? r.workflow_id ?? null) as string | null,
    createdAt: (r.createdAt ?? r.created_at ?? r.queuedAt) as string | number | undefined,
    startedAt: (r.startedAt ?? r.started_at ?? null) as string | number | null,
    finishedAt: (r.finishedAt ?? r.finished_at ?? null) as string | number | null,
    ms: (r.ms ?? r.durationMs ?? null) as number | null,
  };
}
