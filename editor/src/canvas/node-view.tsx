import { useEffect, useRef, useState, type SyntheticEvent } from 'react';
import { Presets, type RenderEmit } from 'rete-react-plugin';
import { OutputsView } from '../outputs-view';
import { ParamField, resolveSchema } from '../schema-widgets';
import { useKeyed, useValue } from '../store';
import type { JsonSchema, NodeRunState, WorkflowIssue } from '../types';
import type { PicNode, Schemes, TypedSocket } from './node';
import { socketClass, socketColour } from './socket-colors';
import type { ViewContext } from './view-context';

const stop = (e: SyntheticEvent) => e.stopPropagation();
/** Lets widgets take the pointer, wheel and double-click without dragging or zooming the canvas. */
const interactive = { onPointerDown: stop, onDoubleClick: stop, onWheel: stop, onContextMenu: stop };

function statusText(state: NodeRunState | undefined): string {
  if (!state) return '';
  switch (state.phase) {
    case 'queued':
      return 'queued';
    case 'running':
      return state.total ? `running ${state.step ?? 0}/${state.total}` : 'running';
    case 'cached':
      return 'cached';
    case 'done':
      return state.ms !== undefined ? `done in ${formatMs(state.ms)}` : 'done';
    case 'error':
      return 'error';
    case 'skipped':
      return state.message ? `not run: ${state.message}` : 'not run';
    default:
      return '';
  }
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function splitIssues(issues: WorkflowIssue[] | undefined) {
  const inputs = new Map<string, string>();
  const params = new Map<string, string>();
  const general: WorkflowIssue[] = [];
  for (const issue of issues ?? []) {
    const [head, ...rest] = issue.field.split('.');
    const key = rest.join('.');
    if (head === 'inputs' && key) inputs.set(key, issue.message);
    else if (head === 'params' && key) params.set(key.split('.')[0], issue.message);
    if (!(head === 'params' && key)) general.push(issue);
  }
  return { inputs, params, general };
}

function isFoldable(schema: JsonSchema): boolean {
  return resolveSchema(schema).default === undefined && schema.default === undefined;
}

/** Shows outputs for nodes that compute something (not for constants such as a prompt). */
function showsOutputs(node: PicNode): boolean {
  return Boolean(node.spec?.output) || node.ports.inputs.length > 0;
}

export function makeViews(ctx: ViewContext, getNode: (id: string) => PicNode | undefined) {
  function NodeView({ data, emit }: { data: PicNode; emit: RenderEmit<Schemes> }) {
    useKeyed(ctx.versions, data.id);
    const state = useKeyed(ctx.runStates, data.id);
    const issues = useKeyed(ctx.issues, data.id);
    const models = useValue(ctx.models);
    const root = useRef<HTMLDivElement>(null);

    // Keeps the node's size current for the minimap, fit-to-view and auto-arrange.
    useEffect(() => {
      const el = root.current;
      if (!el) return;
      const measure = () => {
        data.width = el.offsetWidth;
        data.height = el.offsetHeight;
      };
      measure();
      const observer = new ResizeObserver(measure);
      observer.observe(el);
      return () => observer.disconnect();
    }, [data]);

    const split = splitIssues(issues);
    const phase = state?.phase ?? 'idle';
    const properties = data.spec?.params.properties ?? {};
    const classes = ['pf-node', `phase-${phase}`];
    if (data.selected) classes.push('selected');
    if ((issues?.length ?? 0) > 0) classes.push('has-issues');
    if (!data.spec) classes.push('unknown-type');
    const status = statusText(state);
    const progress = phase === 'running' && state?.total ? Math.min(1, (state.step ?? 0) / state.total) : null;

    return (
      <div
        ref={root}
        className={classes.join(' ')}
        data-testid={`node-${data.id}`}
        data-node-id={data.id}
        data-node-type={data.nodeType}
        data-phase={phase}
        data-selected={data.selected ? 'true' : 'false'}
        aria-label={`${data.label} (${data.nodeType})`}
      >
        <header className={`pf-node-head category-${(data.spec?.category ?? 'unknown').replace(/[^a-z0-9-]/gi, '')}`}>
          <Title node={data} />
          <span className="pf-node-status" data-testid={`status-${data.id}`} aria-live="polite">
            {status}
          </span>
          <div className="progress" data-testid={`progress-${data.id}`} hidden={progress === null}>
            <div className="progress-bar" style={{ width: `${(progress ?? 0) * 100}%` }} />
          </div>
        </header>
        <div className="pf-ports">
          <div className="pf-inputs">
            {data.ports.inputs.map((port) => {
              const input = data.inputs[port.name];
              const issue = split.inputs.get(port.name);
              const connected = ctx.connected(data.id, 'input', port.name);
              return (
                <div
                  key={port.name}
                  className={`port-row input${issue ? ' has-issue' : ''}${!port.optional && !connected ? ' required-open' : ''}`}
                  data-testid={`input-${data.id}-${port.name}`}
                  title={issue ?? port.description ?? `${port.name}: ${port.type}${port.optional ? ' (optional)' : ''}`}
                >
                  {input && (
                    <Presets.classic.RefSocket
                      name="socket-ref"
                      side="input"
                      socketKey={port.name}
                      nodeId={data.id}
                      emit={emit}
                      payload={input.socket}
                      data-testid={`socket-${data.id}-in-${port.name}`}
                    />
                  )}
                  <span className="port-name">{port.name}</span>
                  <span className="port-type">{port.type}</span>
                </div>
              );
            })}
          </div>
          <div className="pf-outputs">
            {data.ports.outputs.map((port) => {
              const output = data.outputs[port.name];
              return (
                <div key={port.name} className="port-row output" data-testid={`output-port-${data.id}-${port.name}`} title={port.description ?? `${port.name}: ${port.type}`}>
                  <span className="port-type">{port.type}</span>
                  <span className="port-name">{port.name}</span>
                  {output && (
                    <Presets.classic.RefSocket
                      name="socket-ref"
                      side="output"
                      socketKey={port.name}
                      nodeId={data.id}
                      emit={emit}
                      payload={output.socket}
                      data-testid={`socket-${data.id}-out-${port.name}`}
                    />
                  )}
                </div>
              );
            })}
          </div>
        </div>
        {Object.keys(properties).length > 0 && (
          <Params node={data} properties={properties} issues={split.params} models={models} />
        )}
        {(split.general.length > 0 || (phase === 'error' && state?.message)) && (
          <div className="pf-node-errors" role="alert" data-testid={`node-error-${data.id}`} {...interactive}>
            {phase === 'error' && state?.message && <p>{state.message}</p>}
            {split.general.map((issue, i) => (
              <p key={i}>
                <strong>{issue.field}</strong>: {issue.message}
              </p>
            ))}
          </div>
        )}
        {state?.outputs && showsOutputs(data) && (
          <div {...interactive}>
            <OutputsView outputs={state.outputs} nodeId={data.id} />
          </div>
        )}
      </div>
    );
  }

  /**
   * The node's param widgets. Params that are unset and have no default of their own (the model's
   * sampling settings, say) fold under "more" until opened, to keep nodes short.
   */
  function Params({
    node,
    properties,
    issues,
    models,
  }: {
    node: PicNode;
    properties: Record<string, JsonSchema>;
    issues: Map<string, string>;
    models: string[];
  }) {
    const [open, setOpen] = useState(false);
    const entries = Object.entries(properties);
    const folded = entries.filter(([name, schema]) => isFoldable(schema) && node.params[name] === undefined && !issues.has(name));
    const shown = open ? entries : entries.filter((e) => !folded.includes(e));
    return (
      <div className="pf-params" {...interactive}>
        {shown.map(([name, schema]) => (
          <ParamField
            key={name}
            nodeId={node.id}
            name={name}
            schema={schema}
            value={node.params[name]}
            issue={issues.get(name)}
            models={models}
            upload={ctx.upload}
            onChange={(value) => ctx.setParam(node.id, name, value)}
          />
        ))}
        {folded.length > 0 && (
          <button type="button" className="link-button more-params" data-testid={`more-${node.id}`} aria-expanded={open} onClick={() => setOpen(!open)}>
            {open ? 'fewer' : `${folded.length} more: ${folded.map(([n]) => n).join(', ')}`}
          </button>
        )}
      </div>
    );
  }

  function Title({ node }: { node: PicNode }) {
    const [editing, setEditing] = useState(false);
    if (editing) {
      return (
        <input
          className="pf-title-input"
          aria-label="node title"
          autoFocus
          defaultValue={node.label}
          {...interactive}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              ctx.rename(node.id, e.currentTarget.value);
              setEditing(false);
            } else if (e.key === 'Escape') setEditing(false);
            e.stopPropagation();
          }}
          onBlur={(e) => {
            ctx.rename(node.id, e.currentTarget.value);
            setEditing(false);
          }}
        />
      );
    }
    return (
      <span
        className="pf-node-title"
        title={`${node.spec?.description ?? 'unknown node type'}\n(double-click to rename)`}
        onDoubleClick={(e) => {
          e.stopPropagation();
          setEditing(true);
        }}
      >
        <span className="pf-title-text" data-testid={`title-${node.id}`}>
          {node.label}
        </span>
        {node.label !== node.nodeType && <span className="pf-node-type">{node.nodeType}</span>}
        <span className="pf-node-id">#{node.id}</span>
      </span>
    );
  }

  function SocketView({ data }: { data: TypedSocket }) {
    return <div className={socketClass(data.type)} style={{ ['--socket' as string]: socketColour(data.type) }} title={data.type} />;
  }

  function LinkView({ data }: { data: Schemes['Connection'] }) {
    const { path } = Presets.classic.useConnection();
    if (!path) return null;
    const type = data.isPseudo ? undefined : getNode(data.source)?.outputType(data.sourceOutput);
    return (
      <svg className="pf-link" data-testid={data.isPseudo ? 'pseudo-link' : `link-${data.source}-${data.sourceOutput}-${data.target}-${data.targetInput}`}>
        <path d={path} style={{ stroke: type ? socketColour(type) : undefined }} />
      </svg>
    );
  }

  return { NodeView, SocketView, LinkView };
}
