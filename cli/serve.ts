import type { Command } from 'commander';
import { DEFAULT_CONCURRENCY, DEFAULT_MAX_QUEUE } from '../server/run-queue';
import { deviceOption, integer, modelsOption, redisOption, type ModelHostOptions } from './options';

interface ServeOptions {
  port: number;
  host: string;
  auth: boolean;
  allowedHost: string[];
  data: string;
  concurrency: number;
  maxQueue: number;
  resume: boolean;
  callbackAllowPrivate: boolean;
  redis?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the REST API, HTTP triggers, socket.io events and the editor')
    .option('--port <port>', 'port to listen on (0 picks a free one)', integer(0, 65535), 8188)
    .option('--host <host>', 'interface to bind (anything but loopback requires API tokens: `picflow token create`)', '127.0.0.1')
    .option('--auth', 'require API tokens on loopback too (always on for other addresses)', false)
    .option('--allowed-host <name>', 'a host name the server answers to besides localhost and IP addresses (repeatable)', collect, [])
    .option('--data <dir>', 'data folder: the sqlite database and the artifacts', './data')
    .option('--concurrency <n>', 'runs executed at once (in-process; with --redis the workers decide)', integer(1, 256), DEFAULT_CONCURRENCY)
    .option('--max-queue <n>', 'runs that may wait; beyond it new runs get 503', integer(1, 100_000), DEFAULT_MAX_QUEUE)
    .option('--resume', 'queue again the runs a crash interrupted (their finished nodes are reused, not run again)', false)
    .option('--callback-allow-private', 'let callbackUrl reach loopback, private and link-local addresses (refused by default: SSRF)', false)
    .addOption(redisOption('scale out: queue runs in BullMQ on this Redis for `picflow worker` processes to execute'))
    .addOption(modelsOption())
    .addOption(deviceOption())
    .action(async (options: ServeOptions & ModelHostOptions) => {
      const [{ startServer }, { closeOnSignals }, { hostModelRuntime }] = await Promise.all([
        import('../server/start'),
        import('../server/signals'),
        import('./model-host'),
      ]);
      const server = await startServer({
        port: options.port,
        host: options.host,
        auth: options.auth,
        allowedHosts: options.allowedHost,
        dataDir: options.data,
        concurrency: options.concurrency,
        maxQueue: options.maxQueue,
        resume: options.resume,
        callbacks: { allowPrivate: options.callbackAllowPrivate },
        redisUrl: options.redis,
        models: hostModelRuntime(options, options.data),
      });
      closeOnSignals(server);
      // One plain line on stdout, whatever the log level: scripts read the URL from it.
      console.log(`picflow serving on ${server.url}`);
    });
}
