// HTTP-level errors of the routes (HttpError) and request parsing with zod; run service refusals map to statuses in app.ts.
import type { z } from 'zod';
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
