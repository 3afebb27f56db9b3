// The editor's small reactive stores: an observable value (and one bumped at most once a frame), a
// store of values by key, and the React hooks that read them.

import { useSyncExternalStore } from 'react';

/** One observable value: React subscribes with `useValue`. */
export class Observable<T> {
  private readonly listeners = new Set<() => void>();

  constructor(private value: T) {}

  get(): T {
    return this.value;
  }

  set(next: T): void {
    if (Object.is(next, this.value)) return;
    this.value = next;
    for (const listener of [...this.listeners]) listener();
  }

  update(fn: (value: T) => T): void {
    this.set(fn(this.value));
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

/** A counter bumped at most once an animation frame however often it is poked: one redraw for many changes. */
export class FrameSignal extends Observable<number> {
  private frame = 0;

  constructor() {
    super(0);
  }

  poke(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.update((n) => n + 1);
    });
  }
}

export function useValue<T>(observable: Observable<T>): T {
  return useSyncExternalStore(observable.subscribe, () => observable.get());
}

/**
 * Values by key with a subscription per key, so that an event for one node re-renders that node only
 * (a 300-node graph must not repaint every node on every progress step).
 */
export class KeyedStore<V> {
  private readonly values = new Map<string, V>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly anyListeners = new Set<() => void>();

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  entries(): [string, V][] {
    return [...this.values];
  }

  set(key: string, value: V | undefined): void {
    if (Object.is(this.values.get(key), value)) return;
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, value);
    this.notify(key);
  }

  clear(): void {
    const keys = [...this.values.keys()];
    this.values.clear();
    for (const key of keys) this.notify(key);
  }

  subscribe(key: string, listener: () => void): () => void {
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  subscribeAll = (listener: () => void): (() => void) => {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  };

  private notify(key: string): void {
    for (const listener of [...(this.listeners.get(key) ?? [])]) listener();
    for (const listener of [...this.anyListeners]) listener();
  }
}

export function useKeyed<V>(store: KeyedStore<V>, key: string): V | undefined {
  return useSyncExternalStore(
    (listener) => store.subscribe(key, listener),
    () => store.get(key),
  );
}
