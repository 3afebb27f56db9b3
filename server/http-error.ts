// HTTP-level errors of the routes (HttpError) and request parsing with zod; run service refusals map to statuses in app.ts.
import { z } from 'zod';
import type { WorkflowIssue } from '../engine/contract';

/** An error that becomes a response: `{ error, errors? }` with this status (and headers). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: WorkflowIssue[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Parses a request part with zod, or throws a 400 naming each bad field. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new HttpError(
    400,
    `invalid ${what}`,
    result.error.issues.map((issue) => ({ node: null, field: issue.path.join('.') || '(body)', message: issue.message })),
  );
}

/**
 * Run inputs in a request body: the JSON object kept as parsed. z.record builds a copy, where a `__proto__` key
 * sets the copy's prototype instead of becoming an input: the key vanished, and the run went on as if it was
 * never sent, where any other key that names nothing is refused.
 */
export const runInputsField = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  'expected an object of run inputs',
).meta({ description: 'run inputs by name', override: { type: 'object', additionalProperties: {} } });

/**
 * A whole number in a query string, in decimal digits from `min` on. z.coerce.number took `?version=` as 0
 * (refused only as "too small") and `0x1` or `1e0` as 1.
 */
export function queryWholeNumber(min: number, max = Number.MAX_SAFE_INTEGER) {
  const expected = `expected a whole number ${max === Number.MAX_SAFE_INTEGER ? `from ${min}` : `from ${min} to ${max}`}, in decimal digits`;
  return z
    .string()
    .refine((text) => /^\d{1,16}$/.test(text) && Number(text) >= min && Number(text) <= max, expected)
    .transform(Number)
    .meta({ override: { type: 'integer', minimum: min, ...(max !== Number.MAX_SAFE_INTEGER && { maximum: max }) } });
}
