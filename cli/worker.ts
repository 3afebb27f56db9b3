import type { Command } from 'commander';
import { integer, redisOption } from './options';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('execute runs from the scale-out queue of a `picflow serve --redis` server')
    .addOption(redisOption('the Redis the server queues runs on').makeOptionMandatory())
    .option('--concurrency <n>', 'runs executed at once', integer(1, 256), 1)
    .option('--stall-ms <ms>', 'a worker silent this long is taken for dead; its runs end interrupted', integer(1_000, 3_600_000), 30_000)
    .option('--shutdown-timeout <ms>', 'on SIGTERM, how long running runs may finish before they are stopped', integer(0, 3_600_000), 10_000)
    .action(async (options: { redis: string; concurrency: number; stallMs: number; shutdownTimeout: number }) => {
      const [{ redisLabel }, { startWorker }, { closeOnSignals }] = await Promise.all([
        import('../server/scale-out/protocol'),
        import('../server/scale-out/worker'),
        import('../server/signals'),
      ]);
      const worker = await startWorker({
        redisUrl: options.redis,
        concurrency: options.concurrency,
        stallMs: options.stallMs,
        shutdownTimeoutMs: options.shutdownTimeout,
      });
      closeOnSignals(worker);
      console.log(`picflow worker taking runs from ${redisLabel(options.redis)}`);
    });
}
