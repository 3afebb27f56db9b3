// A fast yes to "does WorkflowSchema accept this document unchanged?", so the usual valid workflow skips
// zod, whose record and tuple parsing (copying every node, params and link) was the dearest step of
// validating a large workflow: a document whose shell and every node table entry are plain is one the schema
// would parse to an equal value (parseWorkflow checks the entries as the limits' walk reads them). It may say
// no to things the schema accepts; then the schema decides and names what is wrong. It must never say yes to
// anything the schema refuses or would change: a property test (test/engine-plain-workflow.test.ts) holds
// the two together.

const WORKFLOW_KEYS = new Set(['version', 'name', 'description', 'nodes']);
const NODE_KEYS = new Set(['type', 'title', 'params', 'inputs', 'ui']);

/** The workflow's own fields as the schema takes them unchanged, its node table a plain record; the nodes are `isPlainEntry`'s. */
export function hasPlainShell(raw: unknown): raw is { nodes: Record<string, unknown> } {
  if (!isPlainObject(raw) || !onlyKeys(raw, WORKFLOW_KEYS) || raw.version !== 1) return false;
  return optionalString(raw.name) && optionalString(raw.description) && isRecord(raw.nodes);
}

/** One entry of the node table as the schema takes it unchanged. */
export function isPlainEntry(id: string, node: unknown): boolean {
  return id !== '' && isPlainNode(node);
}

function isPlainNode(node: unknown): boolean {
  if (!isPlainObject(node) || !onlyKeys(node, NODE_KEYS)) return false;
  if (typeof node.type !== 'string' || node.type === '' || !optionalString(node.title)) return false;
  if (node.params !== undefined && !isRecord(node.params)) return false;
  if (node.inputs !== undefined) {
    if (!isRecord(node.inputs)) return false;
    for (const input in node.inputs) if (Object.hasOwn(node.inputs, input) && !isLink(node.inputs[input])) return false;
  }
  return node.ui === undefined || isPlainUi(node.ui);
}

function isLink(link: unknown): boolean {
  return Array.isArray(link) && link.length === 2 && nonEmptyString(link[0]) && nonEmptyString(link[1]);
}

/** `ui` keeps unknown keys; the schema drops a `__proto__` key, so one makes the document not plain. */
function isPlainUi(ui: unknown): boolean {
  return isPlainObject(ui) && Number.isFinite(ui.x) && Number.isFinite(ui.y) && !Object.hasOwn(ui, '__proto__');
}

/** zod's records drop a `__proto__` key: plain records have none. */
function isRecord(value: unknown): value is Record<string, unknown> {
  return isPlainObject(value) && !Object.hasOwn(value, '__proto__');
}

/**
 * An object as JSON makes it: Object.prototype or no prototype, no `constructor` of its own making, and
 * no symbol keys (zod's objects drop them, its records refuse them).
 */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  const constructor = (value as { constructor?: unknown }).constructor;
  return (typeof constructor !== 'function' || constructor === Object) && Object.getOwnPropertySymbols(value).length === 0;
}

function onlyKeys(value: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const key in value) if (!allowed.has(key)) return false;
  return true;
}

const optionalString = (value: unknown) => value === undefined || typeof value === 'string';
const nonEmptyString = (value: unknown) => typeof value === 'string' && value !== '';
