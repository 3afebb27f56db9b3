// Several model calls at once on CPU lanes: each returns exactly what it returns alone (same seed, same
// bytes), calls beyond the lanes wait in order, and a call cancelled while waiting never runs.
import { afterAll, describe, expect, test } from 'vitest';
import { ModelRuntime } from '../engine/runtime';
import { DeviceQueue } from '../engine/runtime/queue';

const runtime = new ModelRuntime({ device: 'cpu', lanes: 2 });
afterAll(() => runtime.close());

const prompt = 'a large red circle in the center on a blue background';

describe('CPU lanes', () => {
  test('a generation gives the same bytes alone and beside others', async () => {
    const model = await runtime.model('tiny-shapes');
    const [alone] = await model.generate(prompt, { seed: 5 });
    const together = await Promise.all([
      model.generate('a small green square at the top on a black background', { seed: 1 }),
      model.generate(prompt, { seed: 5 }),
      model.generate(prompt, { seed: 9, cfg: 1 }),
      model.generate(prompt, { seed: 5 }),
    ]);
    expect(Buffer.from(together[1][0].data).equals(Buffer.from(alone.data))).toBe(true);
    expect(Buffer.from(together[3][0].data).equals(Buffer.from(alone.data))).toBe(true);
    // and the others are not copies of it
    expect(Buffer.from(together[0][0].data).equals(Buffer.from(alone.data))).toBe(false);
  });

  test('jobs beyond the lanes wait and start in arrival order; one cancelled while waiting never starts', async () => {
    const queue = new DeviceQueue('cpu', 2);
    const started: string[] = [];
    const releases = new Map<string, () => void>();
    const job = (name: string) => () => {
      started.push(name);
      return new Promise<string>((resolve) => releases.set(name, () => resolve(name)));
    };
    const cancel = new AbortController();
    const a = queue.run(job('a'));
    const b = queue.run(job('b'));
    const c = queue.run(job('c'), cancel.signal);
    const d = queue.run(job('d'));
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['a', 'b']);
    expect(queue.length).toBe(4);
    cancel.abort();
    releases.get('b')!();
    await expect(c).rejects.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['a', 'b', 'd']);
    releases.get('a')!();
    releases.get('d')!();
    expect(await Promise.all([a, b, d])).toEqual(['a', 'b', 'd']);
    expect(queue.length).toBe(0);
  });
});
