import { describe, expect, test } from 'vitest';
import { timeOrderedUuid } from '../server/time-ordered-id';

describe('timeOrderedUuid', () => {
  test('a version 7 UUID (RFC 9562): the time in its first 48 bits, the RFC variant, and random bits after', () => {
    const at = Date.UTC(2026, 11, 2, 1, 2, 3, 456);
    const id = timeOrderedUuid(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
    const ids = new Set(Array.from({ length: 10_000 }, () => timeOrderedUuid(at)));
    expect(ids.size).toBe(10_000); // the same millisecond, and still all different
  });

  test('ids of later milliseconds sort after earlier ones, as text', () => {
    const times = [0, 1, 255, 256, 1_764_640_000_000, 1_764_640_000_001, 2 ** 48 - 1];
    const ids = times.map((t) => timeOrderedUuid(t));
    expect([...ids].sort()).toEqual(ids);
  });
});
