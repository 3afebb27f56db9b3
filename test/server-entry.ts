// The server with the tests' catalog, as its own process: `node --import tsx test/server-entry.ts <dataDir>`.
// Prints `{"url": …}` on stdout once it listens. PICFLOW_SHUTDOWN_MS sets the graceful shutdown timeout;
// PICFLOW_RESUME=1 resumes the runs a crash interrupted; PICFLOW_CONCURRENCY sets the runs executed at once.
import { createLogger } from '../server/logger';
import { closeOnSignals } from '../server/signals';
import { startServer } from '../server/start';
import { testCatalog } from './server-harness';

const server = await startServer({
  port: 0,
  dataDir: process.argv[2],
  catalog: testCatalog,
  logger: createLogger(process.env.PICFLOW_LOG_LEVEL ?? 'silent'),
  shutdownTimeoutMs: Number(process.env.PICFLOW_SHUTDOWN_MS ?? 10_000),
  resume: process.env.PICFLOW_RESUME === '1',
  concurrency: process.env.PICFLOW_CONCURRENCY ? Number(process.env.PICFLOW_CONCURRENCY) : undefined,
});
closeOnSignals(server);
console.log(JSON.stringify({ url: server.url }));
