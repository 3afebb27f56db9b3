// A worker with the tests' catalog, as its own process: `node --import tsx test/worker-entry.ts <redisUrl>`.
// Logs JSON lines on stdout (`worker ready`, `run taken` with its runId, …). PICFLOW_STALL_MS and
// PICFLOW_SHUTDOWN_MS set the stall and shutdown timeouts.
import { createLogger } from '../server/logger';
import { startWorker } from '../server/scale-out/worker';
import { closeOnSignals } from '../server/signals';
import { testCatalog } from './server-harness';

const worker = await startWorker({
  redisUrl: process.argv[2],
  catalog: testCatalog,
  logger: createLogger(process.env.PICFLOW_LOG_LEVEL ?? 'info'),
  stallMs: Number(process.env.PICFLOW_STALL_MS ?? 30_000),
  shutdownTimeoutMs: Number(process.env.PICFLOW_SHUTDOWN_MS ?? 10_000),
});
closeOnSignals(worker);
