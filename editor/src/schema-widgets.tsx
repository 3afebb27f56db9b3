// A param's field on a node: its label, the widget its schema calls for (see param-schema.ts), and
// the problem with its value, the server's or a local hint. The editor knows no node type by name; a
// new node's params get widgets from their schema alone.

import { useId, useState } from 'react';
import { ArtifactWidget } from './artifact-widget';
import { NumberWidget } from './number-widget';
import { enumValue, localProblem, resolveSchema, textValue, widgetKind } from './param-schema';
import { PromptWidget } from './prompt-widget';
import type { Common, FieldProps, WidgetProps } from './widget-props';

/** Multiline params that are text for a model, checked against its words when it publishes them. */
const PROMPT_NAMES = new Set(['text', 'prompt', 'negative', 'instruction']);

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
