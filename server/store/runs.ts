// Run history in sqlite: one row per run with its node states and outputs, and start-up recovery of what a stopped process left.
import type { NodeStatus } from '../../engine/executor';
import type { JsonValue, RunError, RunInputs, RunOutputJson, RunState } from '../../engine/contract';
import type { Database, SqlValue } from '../db';

// The run shapes clients also read are the contract's.
export type { RunError, RunOutputJson, RunState };
export const FINISHED: ReadonlySet<RunState> = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);

export interface NodeState {
  status: NodeStatus;
  cached: boolean;
  startedAt?: number;
  ms?: number;
  error?: string;
  /** The node's outputs as JSON (images as artifact references). */
  outputs?: Record<string, JsonValue>;
  /** The latest progress report, while it runs. */
  progress?: { step: number; total: number };
}

export interface RunSummary {
  id: string;
  workflowId: string | null;
  workflowVersion: number | null;
  /** `api`, or `hook:<slug>` for runs started by an HTTP trigger. */
  source: string;
  status: RunState;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  ms: number | null;
  error: RunError | null;
  outputs: Record<string, RunOutputJson>;
}

export interface RunRecord extends RunSummary {
  /** The exact workflow JSON the run ran (before run inputs were applied). */
  workflow: unknown;
  inputs: RunInputs;
  nodes: Record<string, NodeState>;
}

export interface RunFilter {
  workflowId?: string;
  status?: RunState;
  limit: number;
  /** Paging cursor: the `next` of the previous page. */
  before?: number;
  /** Created at or after `since`, before `until` (ms since the epoch). */
  since?: number;
  until?: number;
}

interface Row {
  seq: number;
  id: string;
  workflow_id: string | null;
  workflow_version: number | null;
  source: string;
  status: RunState;
  workflow: string;
  inputs: string;
  nodes: string | null;
  outputs: string | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  ms: number | null;
}

const SUMMARY_COLUMNS = 'seq, id, workflow_id, workflow_version, source, status, outputs, error, created_at, started_at, finished_at, ms';

function summary(row: Row): RunSummary {
  return {
    id: row.id,
    workflowId: row.workflow_id,
    workflowVersion: row.workflow_version,
    source: row.source,
    status: row.status,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    ms: row.ms,
    error: row.error ? JSON.parse(row.error) : null,
    outputs: row.outputs ? JSON.parse(row.outputs) : {},
  };
}

function record(row: Row): RunRecord {
  return { ...summary(row), workflow: JSON.parse(row.workflow), inputs: JSON.parse(row.inputs), nodes: row.nodes ? JSON.parse(row.nodes) : {} };
}

/** Workflow JSON by workflow object: the runs of one saved revision share its object (hooks/lookup.ts), and so its text. */
const workflowTexts = new WeakMap<object, string>();

function workflowText(workflow: unknown): string {
  if (typeof workflow !== 'object' || workflow === null) return JSON.stringify(workflow);
  let text = workflowTexts.get(workflow);
  if (text === undefined) workflowTexts.set(workflow, (text = JSON.stringify(workflow)));
  return text;
}

/** The write key of a run's record: a later write of it replaces an earlier one still waiting to be committed. */
const runKey = (id: string) => `run:${id}`;

/**
 * A run's whole row: inserted, or written over the run's earlier row (a run queued again, started, ended). Every
 * write of a record is whole, so the latest one waiting for a commit stands for all of them: a run that ends
 * before its queued record is committed is written once, ended.
 */
const SAVE_RUN = `INSERT INTO runs (id, workflow_id, workflow_version, source, status, workflow, inputs, nodes, outputs, error, created_at, started_at, finished_at, ms)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO UPDATE SET status = excluded.status, nodes = excluded.nodes, outputs = excluded.outputs, error = excluded.error,
    started_at = excluded.started_at, finished_at = excluded.finished_at, ms = excluded.ms`;

/** Run history: one row per run, its node states and outputs as JSON. */
export class RunStore {
  constructor(private readonly db: Database) {}

  /** The node states of a run under way, so that a crash keeps what its finished nodes made. */
  async saveNodes(id: string, nodes: RunRecord['nodes']): Promise<void> {
    await this.db.write("UPDATE runs SET nodes = ? WHERE id = ? AND status = 'running'", [JSON.stringify(nodes), id]);
  }

  /**
   * Writes a run's whole record: a new run, one queued again (restored after a restart, resumed: its earlier
   * end is cleared, its node states stay until it starts again), started or ended. The row is made when its
   * commit begins, from the record as it is then: a write replaced before (a quick run's queued record and
   * start, by its end) never makes one.
   */
  save(run: RunRecord): Promise<void> {
    return this.db.write(
      SAVE_RUN,
      () => [
        run.id,
        run.workflowId,
        run.workflowVersion,
        run.source,
        run.status,
        workflowText(run.workflow),
        JSON.stringify(run.inputs),
        JSON.stringify(run.nodes),
        JSON.stringify(run.outputs),
        run.error ? JSON.stringify(run.error) : null,
        run.createdAt,
        run.startedAt,
        run.finishedAt,
        run.ms,
      ],
      runKey(run.id),
    );
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const row = await this.db.get<Row>('SELECT * FROM runs WHERE id = ?', [id]);
    return row && record(row);
  }

  /** Newest first; `next` is the cursor of the following page, null on the last one. */
  async list(filter: RunFilter): Promise<{ runs: RunSummary[]; next: number | null }> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.workflowId !== undefined) {
      where.push('workflow_id = ?');
      params.push(filter.workflowId);
    }
    if (filter.status !== undefined) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.before !== undefined) {
      where.push('seq < ?');
      params.push(filter.before);
    }
    if (filter.since !== undefined) {
      where.push('created_at >= ?');
      params.push(filter.since);
    }
    if (filter.until !== undefined) {
      where.push('created_at < ?');
      params.push(filter.until);
    }
    const rows = await this.db.all<Row>(
      `SELECT ${SUMMARY_COLUMNS} FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`,
      [...params, filter.limit + 1],
    );
    const page = rows.slice(0, filter.limit);
    return { runs: page.map(summary), next: rows.length > filter.limit ? page[page.length - 1].seq : null };
  }

  /**
   * At start-up, what the previous process left: runs it was running are marked interrupted (their
   * finished nodes kept, unfinished ones marked cancelled), and the runs still queued are returned
   * in their order, to be queued again. Returns the interrupted runs too (oldest first).
   */
  async recover(): Promise<{ queued: RunRecord[]; interrupted: RunRecord[] }> {
    const error = JSON.stringify({ node: null, message: 'the server stopped before the run finished' });
    return this.db.transaction(async (tx) => {
      const running = await tx.all<Row>("SELECT * FROM runs WHERE status = 'running' ORDER BY seq");
      const now = Date.now();
      for (const row of running) {
        const nodes: RunRecord['nodes'] = row.nodes ? JSON.parse(row.nodes) : {};
        for (const state of Object.values(nodes)) {
          delete state.progress;
          if (state.status === 'running' || state.status === 'pending') state.status = 'cancelled';
        }
        Object.assign(row, { status: 'interrupted', finished_at: now, error, nodes: JSON.stringify(nodes) });
        await tx.run("UPDATE runs SET status = 'interrupted', finished_at = ?, error = ?, nodes = ? WHERE id = ?", [now, error, row.nodes, row.id]);
      }
      const queued = await tx.all<Row>("SELECT * FROM runs WHERE status = 'queued' ORDER BY seq");
      return { queued: queued.map(record), interrupted: running.map(record) };
    });
  }
}
