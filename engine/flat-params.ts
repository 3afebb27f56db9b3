// A copy of a params object's own primitive values, to tell cheaply whether later params are the same: the
// nodes of a large workflow mostly share their params (often all defaults), so work done for one node's
// params (parsing them, writing them as JSON) is reused for the next node of its type with equal ones.

export interface FlatParams {
  readonly keys: readonly string[];
  readonly values: readonly unknown[];
}

/** The params' own keys and values, in order, when every value is a primitive; else undefined. */
export function flatParams(params: Record<string, unknown>): FlatParams | undefined {
  const keys: string[] = [];
  const values: unknown[] = [];
  for (const key in params) {
    const value = params[key];
    if (!Object.hasOwn(params, key) || (typeof value === 'object' && value !== null) || typeof value === 'function' || typeof value === 'symbol') return undefined;
    keys.push(key);
    values.push(value);
  }
  return { keys, values };
}

/** Whether params hold exactly the copied keys, in order, with the same values (Object.is: -0 is not 0). */
export function sameParams(flat: FlatParams, params: Record<string, unknown>): boolean {
  let i = 0;
  for (const key in params) {
    if (i === flat.keys.length || flat.keys[i] !== key || !Object.is(flat.values[i], params[key]) || !Object.hasOwn(params, key)) return false;
    i++;
  }
  return i === flat.keys.length;
}
