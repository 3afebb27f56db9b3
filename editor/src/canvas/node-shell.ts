// A node's frame as plain DOM: header (title, status, progress), typed ports with their sockets, and
// the error box. It is what a zoomed-out graph shows, so opening a large workflow builds no React
// tree at all; the widgets below the ports (node-body.tsx) mount only when the node is shown in full.

import type { PicNode, TypedSocket } from './node';
import { BORDER, HEAD, NODE_WIDTH, PORTS_PAD, ROW } from './layout';
import { progressShare, splitIssues, statusText } from './node-state';
import { socketClass, socketColour } from './socket-colors';
import type { ViewContext } from './view-context';

export type Emit = (signal: unknown) => void;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Writes only what changed, so that a refresh of an unchanged node costs no style or layout work. */
function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}
function setAttr(element: HTMLElement, name: string, value: string): void {
  if (element.getAttribute(name) !== value) element.setAttribute(name, value);
}

const stop = (e: Event) => e.stopPropagation();

export class NodeShell {
  readonly root = el('div');
  /** Where the React widgets mount; null when the node has none. */
  readonly body: HTMLDivElement | null;
  private readonly title = el('span', 'pf-node-title');
  private readonly titleText = el('span', 'pf-title-text');
  private readonly typeLabel = el('span', 'pf-node-type');
  private readonly status = el('span', 'pf-node-status');
  private readonly progress = el('div', 'progress');
  private readonly progressBar = el('div', 'progress-bar');
  private readonly inputRows = new Map<string, HTMLDivElement>();
  private readonly sockets: HTMLElement[] = [];
  private errors: HTMLDivElement | null = null;
  private readonly stops: (() => void)[];

  constructor(
    host: HTMLElement,
    readonly node: PicNode,
    private readonly ctx: ViewContext,
    private readonly emit: Emit,
    withBody: boolean,
  ) {
    const { root } = this;
    root.style.width = `${NODE_WIDTH}px`;
    root.style.borderWidth = `${BORDER}px`;
    root.dataset.testid = `node-${node.id}`;
    root.dataset.nodeId = node.id;
    root.dataset.nodeType = node.nodeType;
    root.setAttribute('aria-label', `${node.label} (${node.nodeType})`);
    root.append(this.header(), this.ports());
    this.body = withBody ? root.appendChild(el('div', 'pf-node-body')) : null;
    host.append(root);
    this.refresh();
    this.stops = [ctx.versions, ctx.runStates, ctx.issues].map((store) => store.subscribe(node.id, () => this.refresh()));
  }

  private header(): HTMLElement {
    const { node } = this;
    const header = el('header', `pf-node-head category-${(node.spec?.category ?? 'unknown').replace(/[^a-z0-9-]/gi, '')}`);
    header.style.height = `${HEAD}px`;
    this.title.title = `${node.spec?.description ?? 'unknown node type'}\n(double-click to rename)`;
    this.title.addEventListener('dblclick', (e) => {
      e.stopPropagation();
      this.editTitle();
    });
    this.titleText.dataset.testid = `title-${node.id}`;
    this.typeLabel.textContent = node.nodeType;
    this.title.append(this.titleText, this.typeLabel, el('span', 'pf-node-id', `#${node.id}`));
    this.status.dataset.testid = `status-${node.id}`;
    this.status.setAttribute('aria-live', 'polite');
    this.progress.dataset.testid = `progress-${node.id}`;
    this.progress.append(this.progressBar);
    header.append(this.title, this.status, this.progress);
    return header;
  }

  private ports(): HTMLElement {
    const { node } = this;
    const ports = el('div', 'pf-ports');
    ports.style.padding = `${PORTS_PAD}px 0`;
    const inputs = el('div', 'pf-inputs');
    for (const port of node.ports.inputs) {
      const row = el('div', 'port-row input');
      row.style.height = `${ROW}px`;
      row.dataset.testid = `input-${node.id}-${port.name}`;
      const input = node.inputs[port.name];
      if (input) row.append(this.socket('input', port.name, input.socket as TypedSocket));
      row.append(el('span', 'port-name', port.name), el('span', 'port-type', port.type));
      inputs.append(row);
      this.inputRows.set(port.name, row);
    }
    const outputs = el('div', 'pf-outputs');
    for (const port of node.ports.outputs) {
      const row = el('div', 'port-row output');
      row.style.height = `${ROW}px`;
      row.dataset.testid = `output-port-${node.id}-${port.name}`;
      row.title = port.description ?? `${port.name}: ${port.type}`;
      row.append(el('span', 'port-type', port.type), el('span', 'port-name', port.name));
      const output = node.outputs[port.name];
      if (output) row.append(this.socket('output', port.name, output.socket as TypedSocket));
      outputs.append(row);
    }
    ports.append(inputs, outputs);
    return ports;
  }

  /** A socket, announced to Rete so that the connection plugin picks links from it. */
  private socket(side: 'input' | 'output', key: string, socket: TypedSocket): HTMLElement {
    const ref = el('span', 'socket-ref');
    ref.dataset.testid = `socket-${this.node.id}-${side === 'input' ? 'in' : 'out'}-${key}`;
    const dot = el('div', socketClass(socket.type));
    dot.style.setProperty('--socket', socketColour(socket.type));
    dot.title = socket.type;
    ref.append(dot);
    this.sockets.push(ref);
    this.emit({ type: 'render', data: { type: 'socket', side, key, nodeId: this.node.id, element: ref, payload: socket } });
    return ref;
  }

  /** Brings the frame up to date with the node, its run state and its issues. */
  refresh(): void {
    const { node, ctx, root } = this;
    const state = ctx.runStates.get(node.id);
    const issues = ctx.issues.get(node.id);
    const phase = state?.phase ?? 'idle';
    const classes = ['pf-node', `phase-${phase}`];
    if (node.selected) classes.push('selected');
    if ((issues?.length ?? 0) > 0) classes.push('has-issues');
    if (!node.spec) classes.push('unknown-type');
    setAttr(root, 'class', classes.join(' '));
    setAttr(root, 'data-phase', phase);
    setAttr(root, 'data-selected', node.selected ? 'true' : 'false');

    setText(this.titleText, node.label);
    this.typeLabel.hidden = node.label === node.nodeType;
    setText(this.status, statusText(state));
    const share = progressShare(state);
    this.progress.hidden = share === null;
    this.progressBar.style.width = `${(share ?? 0) * 100}%`;

    const split = splitIssues(issues);
    for (const port of node.ports.inputs) {
      const row = this.inputRows.get(port.name)!;
      const issue = split.inputs.get(port.name);
      const open = !port.optional && !ctx.connected(node.id, 'input', port.name);
      setAttr(row, 'class', `port-row input${issue ? ' has-issue' : ''}${open ? ' required-open' : ''}`);
      setAttr(row, 'title', issue ?? port.description ?? `${port.name}: ${port.type}${port.optional ? ' (optional)' : ''}`);
    }
    this.showErrors([...(phase === 'error' && state?.message ? [state.message] : []), ...split.general.map((i) => [i.field, i.message] as const)]);
  }

  /** The error box: the run's error and the issues not shown on a port or widget (as text, never HTML). */
  private showErrors(lines: (string | readonly [field: string, message: string])[]): void {
    if (lines.length === 0) {
      this.errors?.remove();
      this.errors = null;
      return;
    }
    if (!this.errors) {
      this.errors = el('div', 'pf-node-errors');
      this.errors.setAttribute('role', 'alert');
      this.errors.dataset.testid = `node-error-${this.node.id}`;
      for (const type of ['pointerdown', 'dblclick', 'wheel', 'contextmenu']) this.errors.addEventListener(type, stop);
      this.root.insertBefore(this.errors, this.body);
    }
    const paragraphs = lines.map((line) => {
      if (typeof line === 'string') return el('p', '', line);
      const p = el('p');
      p.append(el('strong', '', line[0]), `: ${line[1]}`);
      return p;
    });
    this.errors.replaceChildren(...paragraphs);
  }

  private editTitle(): void {
    const input = el('input', 'pf-title-input');
    input.setAttribute('aria-label', 'node title');
    input.value = this.node.label;
    let done = false;
    const finish = (save: boolean) => {
      if (done) return;
      done = true;
      input.replaceWith(this.title);
      if (save) this.ctx.rename(this.node.id, input.value);
    };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') finish(true);
      else if (e.key === 'Escape') finish(false);
      e.stopPropagation();
    });
    input.addEventListener('blur', () => finish(true));
    for (const type of ['pointerdown', 'dblclick', 'wheel', 'contextmenu']) input.addEventListener(type, stop);
    this.title.replaceWith(input);
    input.focus();
  }

  destroy(): void {
    for (const unsubscribe of this.stops) unsubscribe();
    for (const element of this.sockets) this.emit({ type: 'unmount', data: { element } });
    this.root.remove();
  }
}
