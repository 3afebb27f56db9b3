import { useEffect, useRef, useState, type SyntheticEvent } from 'react';
import { OutputsView } from '../outputs-view';
import { ParamField, resolveSchema } from '../schema-widgets';
import { useKeyed, useValue } from '../store';
import type { JsonSchema, NodeRunState, WorkflowIssue } from '../types';
import { BORDER, HEAD, NODE_WIDTH, PORTS_PAD, ROW } from './layout';
import type { PicNode, TypedSocket } from './node';
import type { Emit } from './node-renderer';
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

export function makeViews(ctx: ViewContext) {
  function NodeView({ data, emit }: { data: PicNode; emit: Emit }) {
    useKeyed(ctx.versions, data.id);
    const state = useKeyed(ctx.runStates, data.id);
    const issues = useKeyed(ctx.issues, data.id);
    const models = useValue(ctx.models);
    const lite = useValue(ctx.lite);
    const root = useRef<HTMLDivElement>(null);

    // Keeps the node's height current for the minimap, fit-to-view and auto-arrange. The observer
    // reports after layout, so mounting many nodes never forces a layout per node.
    useEffect(() => {
      const el = root.current;
      if (!el) return;
      const observer = new ResizeObserver((entries) => {
        const box = entries[entries.length - 1].borderBoxSize?.[0];
        const height = box ? box.blockSize : el.offsetHeight;
        if (height !== data.height) {
          data.height = height;
          ctx.resized(data.id);
        }
      });
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
    if (lite) classes.push('lite');
    const status = statusText(state);
    const progress = phase === 'running' && state?.total ? Math.min(1, (state.step ?? 0) / state.total) : null;

    return (
      <div
        ref={root}
        className={classes.join(' ')}
        style={{ width: NODE_WIDTH, borderWidth: BORDER }}
        data-testid={`node-${data.id}`}
        data-node-id={data.id}
        data-node-type={data.nodeType}
        data-phase={phase}
        data-selected={data.selected ? 'true' : 'false'}
        aria-label={`${data.label} (${data.nodeType})`}
      >
        <header className={`pf-node-head category-${(data.spec?.category ?? 'unknown').replace(/[^a-z0-9-]/gi, '')}`} style={{ height: HEAD }}>
          <Title node={data} />
          <span className="pf-node-status" data-testid={`status-${data.id}`} aria-live="polite">
            {status}
          </span>
          <div className="progress" data-testid={`progress-${data.id}`} hidden={progress === null}>
            <div className="progress-bar" style={{ width: `${(progress ?? 0) * 100}%` }} />
          </div>
        </header>
        <div className="pf-ports" style={{ paddingTop: PORTS_PAD, paddingBottom: PORTS_PAD }}>
          <div className="pf-inputs">
            {data.ports.inputs.map((port) => {
              const input = data.inputs[port.name];
              const issue = split.inputs.get(port.name);
              const connected = ctx.connected(data.id, 'input', port.name);
              return (
                <div
                  key={port.name}
                  style={{ height: ROW }}
                  className={`port-row input${issue ? ' has-issue' : ''}${!port.optional && !connected ? ' required-open' : ''}`}
                  data-testid={`input-${data.id}-${port.name}`}
                  title={issue ?? port.description ?? `${port.name}: ${port.type}${port.optional ? ' (optional)' : ''}`}
                >
                  {input && <SocketRef emit={emit} nodeId={data.id} side="input" portKey={port.name} socket={input.socket as TypedSocket} />}
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
                <div
                  key={port.name}
                  style={{ height: ROW }}
                  className="port-row output"
                  data-testid={`output-port-${data.id}-${port.name}`}
                  title={port.description ?? `${port.name}: ${port.type}`}
                >
                  <span className="port-type">{port.type}</span>
                  <span className="port-name">{port.name}</span>
                  {output && <SocketRef emit={emit} nodeId={data.id} side="output" portKey={port.name} socket={output.socket as TypedSocket} />}
                </div>
              );
            })}
          </div>
        </div>
        {!lite && Object.keys(properties).length > 0 && (
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
        {!lite && state?.outputs && showsOutputs(data) && (
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

  /**
   * A socket: drawn here, inside the node's own React tree, and announced to Rete (the connection
   * plugin picks links from it) without a React root of its own per socket.
   */
  function SocketRef({ emit, nodeId, side, portKey, socket }: { emit: Emit; nodeId: string; side: 'input' | 'output'; portKey: string; socket: TypedSocket }) {
    const ref = useRef<HTMLSpanElement>(null);
    useEffect(() => {
      const element = ref.current!;
      emit({ type: 'render', data: { type: 'socket', side, key: portKey, nodeId, element, payload: socket } });
      return () => emit({ type: 'unmount', data: { element } });
    }, [emit, nodeId, side, portKey, socket]);
    return (
      <span ref={ref} className="socket-ref" data-testid={`socket-${nodeId}-${side === 'input' ? 'in' : 'out'}-${portKey}`}>
        <div className={socketClass(socket.type)} style={{ ['--socket' as string]: socketColour(socket.type) }} title={socket.type} />
      </span>
    );
  }

  return { NodeView };
}
