// A worker lane's thread (see lanes.ts): its own model runtime, sessions and device queue, running the calls
// the main thread routes to it. Started by the runtime, never by hand.
import { parentPort, workerData } from 'node:worker_threads';
import type { FromLane, LaneData, LaneMethod, ToLane } from './lane-protocol';
import type { CallOptions, ImageModel } from './model';
import { ModelRuntime } from './runtime';

if (!parentPort) throw new Error('lane-worker runs as a worker thread started by the model runtime');
const port = parentPort;
const { options } = workerData as LaneData;
const runtime = new ModelRuntime({ ...options, lanes: 1 });
const calls = new Map<number, { controller: AbortController; done: Promise<void> }>();
const send = (message: FromLane) => port.postMessage(message);

port.on('message', (message: ToLane) => {
  if (message.kind === 'cancel') return calls.get(message.id)?.controller.abort(new Error(message.reason));
  if (message.kind === 'close') return void close();
  const { id } = message;
  const controller = new AbortController();
  const done = (async () => {
    try {
      const model = await runtime.model(message.model);
      const value = await callModel(model, message.method, message.args, {
        signal: controller.signal,
        kvCache: message.kvCache,
        onProgress: message.progress ? (step, total) => send({ kind: 'progress', id, step, total }) : undefined,
      });
      send({ kind: 'done', id, value, stats: model.lastStats });
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      send({ kind: 'failed', id, error: { name: error.name, message: error.message } });
    } finally {
      calls.delete(id);
    }
  })();
  calls.set(id, { controller, done });
});
send({ kind: 'ready' });

/**
 * Ends the thread the way that is safe with onnxruntime: terminating a thread inside session.run aborts the
 * whole process, so the calls are cancelled (they stop at their next step), the sessions released, and the
 * thread left to end by itself.
 */
async function close(): Promise<void> {
  const closing = [...calls.values()];
  for (const { controller } of closing) controller.abort(new Error('the model runtime closed'));
  await Promise.allSettled(closing.map((c) => c.done));
  await runtime.close();
  port.close();
}

/** Runs one call on a model with the given method (the arguments as the main thread's caller gave them). */
function callModel(model: ImageModel, method: LaneMethod, args: unknown[], call: CallOptions): Promise<unknown> {
  const [a, b, c] = args as [never, never, never];
  switch (method) {
    case 'generate':
      return model.generate(a, b, call);
    case 'edit':
      return model.edit(a, b, c, call);
    case 'caption':
      return model.caption(a, b, call);
    case 'score':
      return model.score(a, b, call);
    case 'scoreBatch':
      return model.scoreBatch(a, b, call);
  }
}
