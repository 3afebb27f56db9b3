import type { Command } from 'commander';
import { deviceOption, integer, modelsOption, redisOption, type ModelHostOptions } from './options';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('execute runs from the scale-out queue of a `picflow serve --redis` server')
    .addOption(redisOption('the Redis the server queues runs on').makeOptionMandatory())
    .option('--concurrency <n>', 'runs executed at once', integer(1, 256), 1)
    .option('--stall-ms <ms>', 'a worker silent this long is taken for dead; its runs end interrupted', integer(1_000, 3_600_000), 30_000)
    .option('--shutdown-timeout <ms>', 'on SIGTERM, how long running runs may finish before they are stopped', integer(0, 3_600_000), 10_000)
    .option('--data <dir>', 'data folder (its models/ sub-folder holds models unless --models says otherwise)', './data')
    .addOption(modelsOption())
    .addOption(deviceOption())
    .action(async (options: { redis: string; concurrency: number; stallMs: number; shutdownTimeout: number; data: string } & ModelHostOptions) => {
      const [{ redisLabel }, { startWorker }, { closeOnSignals }, { hostModelRuntime }] = await Promise.all([
        import('../server/scale-out/protocol'),
        import('../server/scale-out/worker'),
        import('../server/signals'),
        import('./model-host'),
      ]);
      const worker = await startWorker({
        redisUrl: options.redis,
        concurrency: options.concurrency,
        stallMs: options.stallMs,
        shutdownTimeoutMs: options.shutdownTimeout,
        models: hostModelRuntime(options, options.data),
      });
      closeOnSignals(worker);
      console.log(`picflow worker taking runs from ${redisLabel(options.redis)}`);
    });
}
