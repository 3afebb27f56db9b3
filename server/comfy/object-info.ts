// The node catalog in ComfyUI's `/object_info` shape, so clients that build prompts from it (widget
// defaults, link outputs by index) can drive picflow's nodes.
import type { AnyNodeDefinition, Catalog, PortSpec } from '../../engine/node';
import { describeCatalog } from '../../engine/node';
import { baseOf, isList, type BaseType, type CatalogEntry } from '../../engine/contract';

/** `[type, options]`, or `[[choices], options]` for an enum widget. */
export type InputSpec = [string | unknown[], Record<string, unknown>];

export interface ObjectInfo {
  input: { required: Record<string, InputSpec>; optional: Record<string, InputSpec> };
  input_order: { required: string[]; optional: string[] };
  output: string[];
  output_is_list: boolean[];
  output_name: string[];
  output_tooltips: string[];
  name: string;
  display_name: string;
  description: string;
  python_module: string;
  category: string;
  output_node: boolean;
}

/** ComfyUI's names for picflow's socket types (`*` accepts anything). */
const COMFY_TYPES: Record<BaseType, string> = { text: 'STRING', number: 'FLOAT', boolean: 'BOOLEAN', image: 'IMAGE', any: '*' };

type ParamSchema = CatalogEntry['params'] & {
  properties?: Record<string, JsonSchema>;
  required?: string[];
};
interface JsonSchema {
  type?: string;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  maxLength?: number;
}

const FLOAT_STEP = 0.01;
/** Longer strings get a multi-line text box. */
const MULTILINE_FROM = 1000;

/** A link port: its type and, for the types ComfyUI shows as widgets, `forceInput` so it stays a socket. */
function portSpec(port: PortSpec): InputSpec {
  const base = baseOf(port.type);
  const options: Record<string, unknown> = {};
  if (base === 'text' || base === 'number' || base === 'boolean') options.forceInput = true;
  if (port.lazy) options.lazy = true;
  if (port.description) options.tooltip = port.description;
  return [COMFY_TYPES[base], options];
}

/** A param as a widget: its kind, default, range or choices, from the param's JSON Schema. */
function widgetSpec(schema: JsonSchema): InputSpec {
  const options: Record<string, unknown> = {};
  if (schema.default !== undefined) options.default = schema.default;
  if (schema.description) options.tooltip = schema.description;
  if (schema.enum) return [schema.enum, options];
  const step = schema.type === 'integer' ? 1 : FLOAT_STEP;
  const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + step : undefined);
  const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - step : undefined);
  switch (schema.type) {
    case 'integer':
    case 'number':
      return [schema.type === 'integer' ? 'INT' : 'FLOAT', { ...options, ...(min !== undefined && { min }), ...(max !== undefined && { max }), step }];
    case 'string':
      return ['STRING', { ...options, multiline: (schema.maxLength ?? 0) >= MULTILINE_FROM }];
    case 'boolean':
      return ['BOOLEAN', options];
    default:
      return ['*', options];
  }
}

function describeNode(definition: AnyNodeDefinition, entry: CatalogEntry): ObjectInfo {
  const required: Record<string, InputSpec> = {};
  const optional: Record<string, InputSpec> = {};
  for (const [name, port] of Object.entries(definition.inputs)) (port.optional ? optional : required)[name] = portSpec(port);
  // A param with a default is a widget a client fills in from that default; one without (and not required) may be left out.
  const params = entry.params as ParamSchema;
  for (const [name, schema] of Object.entries(params.properties ?? {})) {
    const needed = schema.default !== undefined || (params.required ?? []).includes(name);
    (needed ? required : optional)[name] = widgetSpec(schema);
  }
  const outputs = Object.values(definition.outputs);
  return {
    input: { required, optional },
    input_order: { required: Object.keys(required), optional: Object.keys(optional) },
    output: outputs.map((o) => COMFY_TYPES[baseOf(o.type)]),
    output_is_list: outputs.map((o) => isList(o.type)),
    output_name: Object.keys(definition.outputs),
    output_tooltips: outputs.map((o) => o.description ?? ''),
    name: definition.type,
    display_name: definition.type,
    description: definition.description,
    python_module: 'picflow',
    category: definition.category,
    output_node: definition.output !== undefined,
  };
}

/** Every node type as ComfyUI's `/object_info` describes a node class (keys: picflow node types). */
export function objectInfo(catalog: Catalog): Record<string, ObjectInfo> {
  const info: Record<string, ObjectInfo> = Object.create(null);
  for (const entry of describeCatalog(catalog)) info[entry.type] = describeNode(catalog.get(entry.type)!, entry);
  return info;
}
