// One trigger's OpenAPI 3.1 document: its run inputs as the body, its outputs as the answer.
import { z } from 'zod';
import { createDocument } from 'zod-openapi';
import { outputValueSchema, type TriggerContract } from '../hooks/contract';
import { hookQuery } from '../hooks/query';
import { runDocument, runDocumentSchema, runOutputSchema } from '../run-document';
import type { Trigger } from '../store/triggers';
import { hookUrl } from '../store/workflows';
import { acceptedSchema, errorResponse, errorSchema, HOOK_CONFLICT, securitySchemes } from './common';

/**
 * One trigger's OpenAPI 3.1 document: the request body is exactly its workflow's run inputs (the zod
 * schema that validates calls), the answer names its outputs with their types.
 */
export function hookDocument(options: { trigger: Trigger; workflowName: string; contract: TriggerContract; serverUrl: string }) {
  const { trigger, contract } = options;
  const outputs: Record<string, z.ZodType> = Object.create(null);
  for (const output of contract.outputs) outputs[output.name] = runOutputSchema(outputValueSchema(output));
  const finished = runDocumentSchema(z.object(outputs));
  const images = contract.outputs.some((o) => o.type === 'image');
  const imageOutputs = contract.outputs.some((o) => o.type === 'image' || o.type === 'image[]');
  const imageInputs = [...contract.inputs.values()].some((input) => input.kind === 'image');
  const imageContent = images ? { 'image/png': {}, 'image/webp': {}, 'image/jpeg': {} } : {};
  const protectedTrigger = trigger.tokenHash !== null || trigger.requireSignature;
  const security: Record<string, string[]>[] = protectedTrigger ? [...(trigger.tokenHash !== null ? [{ bearer: [] }] : []), { signature: [] }] : [];
  const path = hookUrl(trigger.slug);

  // OpenAPI 3.1's `info.summary` (the app page's title) is missing from zod-openapi 5's info type; as a
  // value, not a literal, it passes through to the document.
  const info = {
    title: `${options.workflowName} (picflow trigger '${trigger.slug}')`,
    summary: options.workflowName,
    version: '2',
    description: `Runs the workflow '${options.workflowName}'. Answers are run documents (apiVersion 2).`,
  };
  return createDocument({
    openapi: '3.1.0',
    info,
    servers: [{ url: options.serverUrl }],
    components: { securitySchemes },
    security,
    paths: {
      [path]: {
        post: {
          operationId: 'run',
          summary: `run '${options.workflowName}' (${trigger.mode})`,
          requestParams: { query: hookQuery },
          requestBody: { required: false, content: { 'application/json': { schema: contract.body } } },
          responses: {
            '200': {
              description: 'the run succeeded: its outputs by name (or, with Accept: image/*, the bytes of one image output)',
              content: { 'application/json': { schema: finished }, ...imageContent },
            },
            '202': { description: 'async call, or a sync call that outlived the timeout: follow statusUrl', content: { 'application/json': { schema: acceptedSchema } } },
            '400': errorResponse('inputs that do not fit the trigger, each named, or an unknown query parameter'),
            '401': errorResponse('a protected trigger called without its token or signature'),
            '403': errorResponse('a browser origin the trigger does not allow'),
            '406': errorResponse('an answer type the trigger cannot give (an output that is not an image)'),
            '409': { description: HOOK_CONFLICT, content: { 'application/json': { schema: z.union([runDocument, errorSchema]) } } },
            '422': { description: 'the workflow failed on these inputs: the error names the node', content: { 'application/json': { schema: runDocument } } },
            '429': errorResponse('over the rate limit: see Retry-After'),
            '500': { description: 'a node crashed', content: { 'application/json': { schema: runDocument } } },
            '503': errorResponse('the queue is full: see Retry-After'),
          },
        },
      },
      [`${path}/runs/{runId}`]: {
        get: {
          operationId: 'getRun',
          summary: 'a run of this trigger, with progress while it runs',
          requestParams: { path: z.object({ runId: z.string() }) },
          responses: {
            '200': { description: 'the run', content: { 'application/json': { schema: runDocument } } },
            '401': errorResponse('no token or signature'),
            '404': errorResponse('no such run of this trigger'),
          },
        },
      },
      ...(imageOutputs || imageInputs ? runImagePath(path) : {}),
      ...(imageInputs ? uploadPath(path) : {}),
    },
  });
}

/** The route a run's images are served under with the trigger's credentials (where its image URLs point when the API requires tokens). */
function runImagePath(path: string) {
  return {
    [`${path}/runs/{runId}/artifacts/{artifact}`]: {
      get: {
        operationId: 'getRunImage',
        summary: "an image of a run of this trigger (its outputs' and its image inputs'): where the run's image URLs point when the server's API requires tokens",
        requestParams: { path: z.object({ runId: z.string(), artifact: z.string() }) },
        responses: {
          '200': { description: 'the PNG', content: { 'image/png': {} } },
          '401': errorResponse('no token or signature'),
          '404': errorResponse('no such run of this trigger, or no such image of the run'),
        },
      },
    },
  };
}

/** The upload route of a trigger with an image input. */
function uploadPath(path: string) {
  return {
    [`${path}/uploads`]: {
      post: {
        operationId: 'uploadImage',
        summary: "stores an image for an image input; pass the answer's `artifact` as that input",
        requestBody: { required: true, content: { 'image/png': {}, 'image/jpeg': {}, 'image/webp': {} } },
        responses: {
          '201': { description: 'the stored image', content: { 'application/json': { schema: uploadedSchema } } },
          '401': errorResponse('no token or signature (of the image bytes)'),
          '413': errorResponse('an image over the upload limit'),
          '415': errorResponse('not an image'),
          '429': errorResponse('over the rate limit: see Retry-After'),
        },
      },
    },
  };
}

const uploadedSchema = z.object({ artifact: z.string(), width: z.int(), height: z.int(), contentType: z.string(), bytes: z.int() });
