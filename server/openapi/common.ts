// zod schemas shared by the OpenAPI documents: the error answer, the accepted-run answer.
import { z } from 'zod';
import { SIGNATURE_HEADER } from '../hooks/signature';

/** What every refused request answers: `{ error, errors? }` (errors name node, field and problem). */
export const errorSchema = z
  .object({
    error: z.string(),
    errors: z.array(z.object({ node: z.string().nullable(), field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Error' });

export const acceptedSchema = z
  .object({
    runId: z.string(),
    statusUrl: z.string().describe('GET it for the run (with the same credentials as the call)'),
    status: z.string().optional(),
  })
  .meta({ id: 'Accepted' });

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
