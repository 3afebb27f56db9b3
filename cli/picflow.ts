import { Command } from 'commander';
import { PICFLOW_VERSION } from '../engine/version';
import { registerModels } from './models';
import { registerNodes } from './nodes';
import { registerRun } from './run';
import { registerServe } from './serve';
import { registerToken } from './token';
import { registerValidate } from './validate';
import { registerWorker } from './worker';

const program = new Command()
  .name('picflow')
  .description('Node-based workflows for unified multimodal image models')
  .version(PICFLOW_VERSION);

registerRun(program);
registerValidate(program);
registerNodes(program);
registerModels(program);
registerServe(program);
registerWorker(program);
registerToken(program);

try {
  await program.parseAsync();
} catch (err) {
  // Expected failures (unreadable file, bad JSON, bad --set) get one clear line, not a stack trace.
  console.error(`picflow: ${(err as Error).message}`);
  process.exitCode = 1;
}
