// The contract between the server and its workers on one Redis: queue name, job data, outcome, connections.
import { Redis, type RedisOptions } from 'ioredis';
import type { RunResult } from '../../engine/executor';
import type { RunInputs } from '../../engine/contract';
import type { ReusedOutputs } from '../run-queue';

/**
 * The contract between the server (the front door) and its workers, all on one Redis:
 * - the BullMQ queue QUEUE holds one job per run, its id the run id, its data a RunJobData;
 * - a worker reports the run's engine events on the job's progress channel (outputs as JSON, images
 *   as artifact references), which the server reads in order with QueueEvents;
 * - the job's return value is a WorkerOutcome;
 * - artifact bytes travel beside them, never inside them (transit.ts), and cancel requests too (cancel.ts).
 * One server per Redis database: pick another database (`redis://host:6379/1`) for another deployment.
 */
export const QUEUE = 'picflow-runs';

export interface RunJobData {
  runId: string;
  /** As submitted; the worker validates it against its own catalog. */
  workflow: unknown;
  inputs: RunInputs;
  /** A resumed run's finished nodes (outputs as JSON, images as shipped artifacts): not computed again. */
  reuse?: ReusedOutputs;
}

export interface WorkerOutcome {
  /** The engine's result, its output values as JSON (images as artifact references). */
  result: RunResult;
  /** Set when the worker stopped the run because it was shutting down: the run ends `interrupted` with this message. */
  interrupted?: string;
}

/**
 * BullMQ connection options for a Redis URL. Workers and event readers block on Redis and wait out
 * outages; the server's producer fails fast, so a submission during an outage gets a 503 instead of hanging.
 */
export function bullmqConnection(url: string, role: 'producer' | 'consumer') {
  return role === 'producer' ? { url, enableOfflineQueue: false, maxRetriesPerRequest: 1 } : { url, maxRetriesPerRequest: null };
}

/** A plain client for picflow's own keys (artifacts in transit, cancel requests); commands fail fast while Redis is away. */
export function redisClient(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, ...options });
}

/** The URL without its password, for logs and messages. */
export function redisLabel(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(unparsable Redis URL)';
  }
}
