import { InvalidArgumentError, type Command } from 'commander';
import { closeOnSignals, startServer } from '../server/start';

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the REST API, HTTP triggers, socket.io events and the editor')
    .option('--port <port>', 'port to listen on (0 picks a free one)', integer(0, 65535), 8188)
    .option('--host <host>', 'interface to bind (keep 127.0.0.1 unless a proxy fronts it)', '127.0.0.1')
    .option('--data <dir>', 'data folder: the sqlite database and the artifacts', './data')
    .option('--concurrency <n>', 'runs executed at once', integer(1, 256), 4)
    .option('--max-queue <n>', 'runs that may wait; beyond it new runs get 503', integer(1, 100_000), 256)
    .action(async (options: { port: number; host: string; data: string; concurrency: number; maxQueue: number }) => {
      const server = await startServer({
        port: options.port,
        host: options.host,
        dataDir: options.data,
        concurrency: options.concurrency,
        maxQueue: options.maxQueue,
      });
      closeOnSignals(server);
      // One plain line on stdout, whatever the log level: scripts read the URL from it.
      console.log(`picflow serving on ${server.url}`);
    });
}
