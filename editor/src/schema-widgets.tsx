// Param widgets made from the catalog's JSON Schema (zod's `toJSONSchema`, io: 'input'): the editor knows
// no node type by name; a new node's params get widgets from their schema alone.

import { useId, useState, type ChangeEvent } from 'react';
import { AuthorizedImage } from './authorized-image';
import { PromptWidget } from './prompt-widget';
import type { JsonSchema } from '../../engine/contract';
import type { ModelChoice } from './types';
import type { Vocabulary } from './vocabulary';

export type WidgetKind = 'enum' | 'boolean' | 'integer' | 'number' | 'seed' | 'text' | 'multiline' | 'artifact' | 'json';

const MULTILINE_NAMES = new Set(['text', 'prompt', 'negative', 'instruction', 'template', 'caption', 'description']);
const MAX_SEED = 2 ** 31 - 1;
/** Multiline params that are text for a model, checked against its words when it publishes them. */
const PROMPT_NAMES = new Set(['text', 'prompt', 'negative', 'instruction']);

/** Collapses `anyOf`/`oneOf` (nullable or optional params) to the branch a widget can edit. */
export function resolveSchema(schema: JsonSchema): JsonSchema {
  const branches = schema.anyOf ?? schema.oneOf;
  if (!branches) return schema;
  const pick = branches.find((b) => b.type !== 'null') ?? branches[0] ?? {};
  return { ...pick, default: schema.default ?? pick.default, description: schema.description ?? pick.description };
}

function typeOf(schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
}

export function widgetKind(name: string, raw: JsonSchema): WidgetKind {
  const schema = resolveSchema(raw);
  const type = typeOf(schema);
  if (schema.enum) return 'enum';
  if (type === 'boolean') return 'boolean';
  if (name === 'seed' && (type === 'integer' || type === 'number')) return 'seed';
  if (type === 'integer') return 'integer';
  if (type === 'number') return 'number';
  if (type === 'string') {
    if (name === 'artifact') return 'artifact';
    if (MULTILINE_NAMES.has(name) || (schema.maxLength ?? 0) > 1000) return 'multiline';
    return 'text';
  }
  return 'json';
}

/** The number input's step: whole numbers for integers, else a round fraction of the range. */
export function stepFor(kind: WidgetKind, schema: JsonSchema): number | 'any' {
  if (schema.multipleOf) return schema.multipleOf;
  if (kind === 'integer' || kind === 'seed') return 1;
  const { minimum, maximum } = schema;
  if (minimum === undefined || maximum === undefined) return 'any';
  const span = maximum - minimum;
  if (span <= 0) return 'any';
  return 10 ** Math.floor(Math.log10(span / 100));
}

/** A local hint for a value the server would refuse (it checks again); null when it looks fine. */
export function localProblem(kind: WidgetKind, schema: JsonSchema, value: unknown): string | null {
  if (value === undefined) return null;
  if (kind === 'integer' || kind === 'number' || kind === 'seed') {
    if (typeof value !== 'number' || !Number.isFinite(value)) return 'not a number';
    if ((kind === 'integer' || kind === 'seed') && !Number.isInteger(value)) return 'must be a whole number';
    if (schema.minimum !== undefined && value < schema.minimum) return `at least ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `at most ${schema.maximum}`;
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return `more than ${schema.exclusiveMinimum}`;
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) return `less than ${schema.exclusiveMaximum}`;
  }
  if (typeof value === 'string') {
    if (schema.maxLength !== undefined && value.length > schema.maxLength) return `at most ${schema.maxLength} characters`;
    if (schema.pattern) {
      try {
        if (!new RegExp(schema.pattern, 'u').test(value)) return 'not allowed here (letters, digits, _ and -)';
      } catch {
        /* a pattern JavaScript cannot read: leave it to the server */
      }
    }
  }
  return null;
}

export interface FieldProps {
  nodeId: string;
  name: string;
  schema: JsonSchema;
  /** The value set on the node; undefined means the schema's default applies. */
  value: unknown;
  onChange(value: unknown): void;
  /** A problem the server reported for this field. */
  issue?: string;
  upload?(file: File): Promise<{ artifact: string; url: string }>;
  /** The server's models; a `model` param lists those that can do its node's task (`x-picflow-task`). */
  models?: ModelChoice[];
  /** The words the model takes (null: any text); given for nodes whose text goes to a model. */
  vocabulary?: Vocabulary;
}

export function ParamField(props: FieldProps) {
  const { nodeId, name } = props;
  const schema = resolveSchema(props.schema);
  const kind = widgetKind(name, props.schema);
  const id = useId();
  const shown = props.value !== undefined ? props.value : schema.default;
  const problem = props.issue ?? localProblem(kind, schema, props.value);
  const testId = `param-${nodeId}-${name}`;
  return (
    <div className={`field field-${kind}${problem ? ' has-issue' : ''}`} data-testid={`field-${nodeId}-${name}`}>
      <label htmlFor={id} title={schema.description}>
        {name}
      </label>
      <Widget {...props} kind={kind} schema={schema} shown={shown} inputId={id} testId={testId} invalid={Boolean(problem)} />
      {problem && (
        <div className="field-issue" role="alert" data-testid={`issue-${nodeId}-${name}`}>
          {problem}
        </div>
      )}
    </div>
  );
}

interface WidgetProps extends FieldProps {
  kind: WidgetKind;
  shown: unknown;
  inputId: string;
  testId: string;
  invalid: boolean;
}

function Widget(props: WidgetProps) {
  const { kind, schema, shown, inputId, testId, onChange, invalid } = props;
  const common = { id: inputId, 'data-testid': testId, 'aria-invalid': invalid || undefined, title: schema.description };
  switch (kind) {
    case 'enum':
      return (
        <select {...common} value={String(shown ?? '')} onChange={(e) => onChange(enumValue(schema, e.target.value))}>
          {shown === undefined && <option value="">—</option>}
          {schema.enum!.map((option) => (
            <option key={String(option)} value={String(option)}>
              {String(option)}
            </option>
          ))}
        </select>
      );
    case 'boolean':
      return <input {...common} type="checkbox" checked={Boolean(shown)} onChange={(e) => onChange(e.target.checked)} />;
    case 'integer':
    case 'number':
    case 'seed':
      return <NumberWidget {...props} common={common} />;
    case 'multiline':
      if (props.vocabulary && PROMPT_NAMES.has(props.name)) {
        return (
          <PromptWidget
            common={common}
            value={typeof shown === 'string' ? shown : ''}
            maxLength={schema.maxLength}
            vocabulary={props.vocabulary}
            testId={testId}
            onChange={(text) => onChange(textValue(schema, text))}
          />
        );
      }
      return (
        <textarea
          {...common}
          rows={2}
          maxLength={schema.maxLength}
          value={typeof shown === 'string' ? shown : ''}
          onChange={(e) => onChange(textValue(schema, e.target.value))}
        />
      );
    case 'artifact':
      return <ArtifactWidget {...props} common={common} />;
    case 'text': {
      const task = props.schema['x-picflow-task'];
      const models = props.name === 'model' ? (props.models ?? []).filter((m) => !task || m.tasks.includes(task)).map((m) => m.name) : [];
      return (
        <>
          <input
            {...common}
            type="text"
            maxLength={schema.maxLength}
            list={models.length ? `${inputId}-models` : undefined}
            value={typeof shown === 'string' ? shown : ''}
            onChange={(e) => onChange(textValue(schema, e.target.value))}
          />
          {models.length ? (
            <datalist id={`${inputId}-models`}>
              {models.map((m) => (
                <option key={m} value={m} />
              ))}
            </datalist>
          ) : null}
        </>
      );
    }
    default:
      return <JsonWidget {...props} common={common} />;
  }
}

/** An emptied field with no default of its own is unset, not `""` (the server tells the two apart). */
function textValue(schema: JsonSchema, text: string): string | undefined {
  return text === '' && (schema.default === undefined || schema.default === '') ? undefined : text;
}

function enumValue(schema: JsonSchema, text: string): unknown {
  return schema.enum!.find((option) => String(option) === text) ?? text;
}

type Common = Record<string, unknown> & { id: string };

function NumberWidget(props: WidgetProps & { common: Common }) {
  const { kind, schema, shown, onChange, common } = props;
  const step = stepFor(kind, schema);
  // The box keeps what is typed (e.g. "0." or "-") until it reads as a number.
  const [draft, setDraft] = useState<string | null>(null);
  const text = draft ?? (typeof shown === 'number' ? String(shown) : '');
  const commit = (e: ChangeEvent<HTMLInputElement>) => {
    const raw = e.target.value;
    setDraft(raw);
    if (raw.trim() === '') return onChange(undefined);
    const n = Number(raw);
    if (Number.isFinite(n)) onChange(n);
  };
  const slider =
    kind !== 'seed' && schema.minimum !== undefined && schema.maximum !== undefined && schema.maximum - schema.minimum <= 1000;
  return (
    <div className="number-row">
      {slider && (
        <input
          className={typeof shown === 'number' ? undefined : 'unset'}
          type="range"
          aria-label={`${props.name} slider`}
          data-testid={`${props.testId}-slider`}
          min={schema.minimum}
          max={schema.maximum}
          step={step}
          value={typeof shown === 'number' ? shown : (schema.minimum ?? 0)}
          onChange={(e) => {
            setDraft(null);
            onChange(Number(e.target.value));
          }}
        />
      )}
      <input
        {...common}
        type="number"
        inputMode={kind === 'number' ? 'decimal' : 'numeric'}
        min={schema.minimum}
        max={schema.maximum}
        step={step}
        placeholder="default"
        value={text}
        onChange={commit}
        onBlur={() => setDraft(null)}
      />
      {kind === 'seed' && (
        <button
          type="button"
          className="icon-button"
          data-testid={`${props.testId}-randomise`}
          aria-label="randomise seed"
          title="randomise seed"
          onClick={() => {
            setDraft(null);
            const min = Math.max(0, schema.minimum ?? 0);
            const max = Math.min(MAX_SEED, schema.maximum ?? MAX_SEED);
            onChange(min + Math.floor(Math.random() * (max - min + 1)));
          }}
        >
          ⚄
        </button>
      )}
    </div>
  );
}

/** An image param: a drop zone (or click to pick a file) that uploads, the id it got, and a thumbnail. */
function ArtifactWidget(props: WidgetProps & { common: Common }) {
  const { shown, onChange, common, upload } = props;
  const [state, setState] = useState<string | null>(null);
  const [over, setOver] = useState(false);
  const artifact = typeof shown === 'string' && shown ? shown : null;
  const send = async (file: File | undefined) => {
    if (!file || !upload) return;
    setState('uploading…');
    try {
      const result = await upload(file);
      setState(null);
      onChange(result.artifact);
    } catch (err) {
      setState((err as Error).message);
    }
  };
  return (
    <div className="artifact-row">
      {upload && (
        <label
          className={`drop-zone${over ? ' over' : ''}`}
          data-testid={`${props.testId}-drop`}
          onDragOver={(e) => {
            if (!e.dataTransfer.types.includes('Files')) return;
            e.preventDefault();
            e.stopPropagation();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={(e) => {
            if (!e.dataTransfer.files.length) return;
            e.preventDefault();
            e.stopPropagation();
            setOver(false);
            void send(e.dataTransfer.files[0]);
          }}
        >
          {artifact ? (
            <AuthorizedImage className="pixelated thumb" alt={`uploaded image ${artifact}`} src={`/api/artifacts/${encodeURIComponent(artifact)}`} />
          ) : (
            <span>Drop an image here, or click to upload</span>
          )}
          <input
            type="file"
            accept="image/*"
            data-testid={`${props.testId}-upload`}
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              void send(file);
            }}
          />
        </label>
      )}
      <input {...common} type="text" placeholder="artifact id" value={artifact ?? ''} onChange={(e) => onChange(e.target.value || undefined)} />
      {state && <div className="field-issue">{state}</div>}
    </div>
  );
}

function JsonWidget(props: WidgetProps & { common: Common }) {
  const { shown, onChange, common } = props;
  const [draft, setDraft] = useState<string | null>(null);
  const [bad, setBad] = useState(false);
  const text = draft ?? (shown === undefined ? '' : JSON.stringify(shown));
  return (
    <input
      {...common}
      type="text"
      className={bad ? 'invalid' : undefined}
      value={text}
      onChange={(e) => {
        setDraft(e.target.value);
        if (e.target.value.trim() === '') {
          setBad(false);
          return onChange(undefined);
        }
        try {
          onChange(JSON.parse(e.target.value));
          setBad(false);
        } catch {
          setBad(true);
        }
      }}
      onBlur={() => setDraft(null)}
    />
  );
}
