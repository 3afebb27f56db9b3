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
