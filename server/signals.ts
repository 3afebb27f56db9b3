// Graceful shutdown on SIGTERM/SIGINT, for the server and for workers.
import type { Logger } from 'pino';

/** A process that shuts down gracefully: the server, or a worker. */
export interface Closable {
  logger: Logger;
  close(): Promise<void>;
}

/** SIGTERM/SIGINT: a graceful shutdown, then exit; a second signal exits at once. */
export function closeOnSignals(target: Closable): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    target.logger.info({ signal }, 'signal received');
    target.close().then(
      () => process.exit(0),
      (err) => {
        target.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
