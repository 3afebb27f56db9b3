// The whole HTTP API as an OpenAPI 3.1 document, built from the zod schemas the routes validate with.
import { z } from 'zod';
import { createDocument, type ZodOpenApiPathsObject } from 'zod-openapi';
import { WorkflowSchema } from '../../engine/workflow';
import { hookQuery } from '../hooks/query';
import { runDocument } from '../run-document';
import { listQuery, runBody } from '../routes/runs';
import { triggerBody } from '../routes/triggers';
import { versionQuery } from '../routes/workflows';
import { acceptedSchema, errorResponse, errorSchema, HOOK_CONFLICT, issueSchema, securitySchemes } from './common';

const json = (schema: z.ZodType, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const id = (name: string) => z.object({ [name]: z.string() });
const anyObject = z.record(z.string(), z.unknown());

const callbackAttempt = z
  .object({ attempt: z.int(), url: z.string(), status: z.int().nullable(), error: z.string().nullable(), at: z.number(), ms: z.number() })
  .meta({ id: 'CallbackAttempt', description: 'one POST of a finished run to its callbackUrl' });

const runRecord = runDocument
  .extend({
    workflow: z.unknown().describe('the workflow JSON the run ran'),
    inputs: anyObject,
    nodes: z.record(z.string(), anyObject).describe('each node: status, cached, ms, error, outputs, progress'),
    callbacks: z.array(callbackAttempt),
  })
  .meta({ id: 'RunRecord' });

const triggerView = triggerBody
  .omit({ token: true, rotateSecret: true })
  .extend({
    hasToken: z.boolean(),
    url: z.string(),
    appUrl: z.string(),
    openapiUrl: z.string(),
    secret: z.string(),
    issues: z.array(issueSchema).describe('exposed params the workflow no longer has (it was edited after the trigger was set); calls setting them are answered 409'),
  })
  .meta({ id: 'Trigger' });

const workflow = WorkflowSchema.meta({ id: 'Workflow' });

const paths: ZodOpenApiPathsObject = {
  '/api/health': { get: { summary: 'name, version, uptime, device and queue', responses: { '200': json(anyObject) } } },
  '/api/nodes': { get: { summary: 'the node catalog (params as JSON Schema)', responses: { '200': json(z.array(anyObject)) } } },
  '/api/models': { get: { summary: 'the models this server can run', responses: { '200': json(anyObject), '503': errorResponse('no model runtime') } } },
  '/api/templates': { get: { summary: 'example workflows', responses: { '200': json(z.object({ templates: z.array(anyObject) })) } } },
  '/api/workflows': {
    get: { summary: 'saved workflows', responses: { '200': json(z.object({ workflows: z.array(anyObject) })) } },
    post: {
      summary: 'save a new workflow',
      requestBody: { content: { 'application/json': { schema: workflow } } },
      responses: { '201': json(anyObject, 'saved (version 1)'), '400': errorResponse('invalid workflow, each problem named') },
    },
  },
  '/api/workflows/validate': {
    post: {
      summary: 'check a workflow (with run inputs: the run they describe)',
      requestBody: { content: { 'application/json': { schema: z.union([workflow, z.object({ workflow, inputs: anyObject.optional() })]) } } },
      responses: { '200': json(z.object({ ok: z.boolean(), errors: z.array(anyObject) })) },
    },
  },
  '/api/workflows/{id}': {
    get: { requestParams: { path: id('id'), query: versionQuery }, responses: { '200': json(anyObject), '404': errorResponse('no such workflow') } },
    put: {
      summary: 'save a new version',
      requestParams: { path: id('id') },
      requestBody: { content: { 'application/json': { schema: workflow } } },
      responses: {
        '200': json(
          z.looseObject({ triggerIssues: z.array(issueSchema).describe("what the new version breaks of its trigger's exposed params (fields `trigger.inputs.<i>`); empty when nothing") }),
          'saved, even when it breaks what its trigger exposes',
        ),
        '400': errorResponse('invalid workflow'),
        '404': errorResponse('no such workflow'),
      },
    },
    delete: { requestParams: { path: id('id') }, responses: { '204': { description: 'deleted, with its trigger' }, '404': errorResponse('no such workflow') } },
  },
  '/api/workflows/{id}/versions': { get: { requestParams: { path: id('id') }, responses: { '200': json(z.object({ versions: z.array(anyObject) })) } } },
  '/api/workflows/{id}/trigger': {
    get: { requestParams: { path: id('id') }, responses: { '200': json(triggerView), '404': errorResponse('no such workflow or no trigger') } },
    put: {
      summary: "set the workflow's HTTP trigger",
      requestParams: { path: id('id') },
      requestBody: { content: { 'application/json': { schema: triggerBody } } },
      responses: { '200': json(triggerView), '400': errorResponse('bad settings'), '409': errorResponse('slug taken') },
    },
    delete: { requestParams: { path: id('id') }, responses: { '204': { description: 'removed' }, '404': errorResponse('no trigger') } },
  },
  '/api/runs': {
    get: { requestParams: { query: listQuery }, responses: { '200': json(z.object({ runs: z.array(runDocument), next: z.number().nullable().optional() })) } },
    post: {
      summary: 'start a run (or wait for it with wait: true)',
      requestBody: { content: { 'application/json': { schema: runBody } } },
      responses: { '200': json(runRecord, 'the finished run (wait: true)'), '202': json(acceptedSchema), '400': errorResponse('invalid'), '503': errorResponse('queue full') },
    },
  },
  '/api/runs/{id}': { get: { requestParams: { path: id('id') }, responses: { '200': json(runRecord), '404': errorResponse('no such run') } } },
  '/api/runs/{id}/resume': {
    post: {
      summary: 'queue an interrupted run again (its finished nodes are not run again; its callback, if any, is delivered again when it finishes)',
      requestParams: { path: id('id') },
      responses: { '202': json(acceptedSchema), '404': errorResponse('no such run'), '409': errorResponse('not interrupted') },
    },
  },
  '/api/runs/{id}/cancel': {
    post: { requestParams: { path: id('id') }, responses: { '200': json(anyObject), '202': json(anyObject), '404': errorResponse('no such run'), '409': errorResponse('finished') } },
  },
  '/api/uploads': {
    post: {
      summary: 'upload an image (multipart/form-data, one file)',
      requestBody: { content: { 'multipart/form-data': { schema: z.object({ file: z.string().meta({ format: 'binary' }) }) } } },
      responses: { '201': json(anyObject), '400': errorResponse('not an image'), '413': errorResponse('too large') },
    },
  },
  '/api/artifacts/{id}': {
    get: {
      requestParams: { path: id('id'), query: z.object({ run: z.string().optional().describe('a run that made the image: the PNG carries its workflow and inputs') }) },
      responses: { '200': { description: 'the image', content: { 'image/png': {} } }, '404': errorResponse('no such artifact, no such run, or a run that did not make it') },
    },
  },
  '/hooks/{slug}': {
    post: {
      summary: "call a trigger (its own document, /hooks/{slug}/openapi.json, lists the body's inputs)",
      requestParams: { path: id('slug'), query: hookQuery },
      requestBody: { content: { 'application/json': { schema: anyObject } } },
      security: [{}, { bearer: [] }, { signature: [] }],
      responses: {
        '200': { description: 'the run document, or image bytes (Accept: image/*)', content: { 'application/json': { schema: runDocument }, 'image/png': {}, 'image/webp': {}, 'image/jpeg': {} } },
        '202': json(acceptedSchema),
        '400': errorResponse('inputs that do not fit, or an unknown query parameter'),
        '401': errorResponse('token or signature needed'),
        '406': errorResponse('not an image output'),
        '409': { description: HOOK_CONFLICT, content: { 'application/json': { schema: z.union([runDocument, errorSchema]) } } },
        '422': json(runDocument, 'the workflow failed on these inputs'),
        '429': errorResponse('rate limited'),
        '500': json(runDocument, 'a node crashed'),
        '503': errorResponse('queue full'),
      },
    },
  },
  '/hooks/{slug}/openapi.json': { get: { requestParams: { path: id('slug') }, responses: { '200': json(anyObject, "the trigger's OpenAPI document") } } },
  '/hooks/{slug}/runs/{runId}': {
    get: { requestParams: { path: z.object({ slug: z.string(), runId: z.string() }) }, responses: { '200': json(runDocument), '404': errorResponse('no such run') } },
  },
};

/** The whole HTTP API as OpenAPI 3.1, from the zod schemas the routes validate with. */
export function apiDocument(version: string) {
  return createDocument({
    openapi: '3.1.0',
    info: { title: 'picflow', version, description: 'Node-based workflows for unified multimodal image models. Runs are apiVersion 2 documents.' },
    components: { securitySchemes },
    paths,
  });
}
