// zod schemas shared by the OpenAPI documents: the error answer, the accepted-run answer.
import { z } from 'zod';
import { SIGNATURE_HEADER } from '../hooks/signature';

/** One problem, naming the node (if any) and the field it is in. */
export const issueSchema = z.object({ node: z.string().nullable(), field: z.string(), message: z.string() }).meta({ id: 'Issue' });

/** What every refused request answers: `{ error, errors? }` (errors name node, field and problem). */
export const errorSchema = z
  .object({
    error: z.string(),
    errors: z.array(issueSchema).optional(),
  })
  .meta({ id: 'Error' });

export const acceptedSchema = z
  .object({
    runId: z.string(),
    statusUrl: z.string().describe('GET it for the run (with the same credentials as the call)'),
    status: z.string().optional(),
  })
  .meta({ id: 'Accepted' });

/** A hook's 409: a cancelled run, or a trigger its workflow's edits left behind (hooks/call.ts). */
export const HOOK_CONFLICT =
  "the run was cancelled (a run document), or the call sets an input the trigger exposes from a node or param its workflow no longer has (an error naming it: the trigger's owner must update it)";

export function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: errorSchema } } };
}

export const securitySchemes = {
  bearer: { type: 'http' as const, scheme: 'bearer', description: "the trigger's token" },
  signature: {
    type: 'apiKey' as const,
    in: 'header' as const,
    name: SIGNATURE_HEADER,
    description: "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<raw body>' with the trigger's secret>",
  },
};
