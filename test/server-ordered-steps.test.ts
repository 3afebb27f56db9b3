import { describe, expect, test } from 'vitest';
import { OrderedSteps } from '../server/ordered-steps';

/** A promise and the hands that settle it. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('OrderedSteps', () => {
  test('an idle sequence runs a step at once; steps behind a pending one wait, then run in order', async () => {
    const steps = new OrderedSteps(() => undefined);
    const order: string[] = [];
    void steps.add(() => void order.push('a'));
    expect(order).toEqual(['a']); // in the caller's turn
    const gate = deferred();
    const b = steps.add(() => gate.promise.then(() => order.push('b')));
    steps.push(() => void order.push('c'));
    const d = steps.add(() => (order.push('d'), 'd done'));
    expect(order).toEqual(['a']);
    gate.resolve();
    expect(await d).toBe('d done');
    await b;
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });

  test('a failing step goes to onError and to its caller, and the steps behind it still run', async () => {
    const errors: unknown[] = [];
    const steps = new OrderedSteps((err) => errors.push(err));
    const gate = deferred();
    void steps.add(() => gate.promise);
    const failing = steps.add(() => Promise.reject(new Error('late failure')));
    const throwing = steps.add(() => {
      throw new Error('sync failure');
    });
    steps.push(() => {
      throw new Error('unheard failure');
    });
    const after = steps.add(() => 'after');
    gate.resolve();
    await expect(failing).rejects.toThrow('late failure');
    await expect(throwing).rejects.toThrow('sync failure');
    expect(await after).toBe('after');
    expect(errors.map((e) => (e as Error).message)).toEqual(['late failure', 'sync failure', 'unheard failure']);
  });

  test('settled waits for the steps added so far, not for those added later', async () => {
    const steps = new OrderedSteps(() => undefined);
    await steps.settled(); // none: at once
    const first = deferred();
    const second = deferred();
    void steps.add(() => first.promise);
    const settled = steps.settled();
    void steps.add(() => second.promise);
    let done = false;
    void settled.then(() => (done = true));
    first.resolve();
    await settled;
    expect(done).toBe(true);
    let all = false;
    const later = steps.settled().then(() => (all = true));
    await Promise.resolve();
    expect(all).toBe(false);
    second.resolve();
    await later;
  });

  test('a step added by a step that waited runs after the steps already waiting', async () => {
    const steps = new OrderedSteps(() => undefined);
    const order: string[] = [];
    const gate = deferred();
    void steps.add(() => gate.promise);
    steps.push(() => {
      order.push('x');
      steps.push(() => void order.push('x2'));
    });
    steps.push(() => void order.push('y'));
    gate.resolve();
    await steps.settled();
    expect(order).toEqual(['x', 'y', 'x2']);
  });
});
