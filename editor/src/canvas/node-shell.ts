// A node's frame as plain DOM: header (title, status, progress), typed ports with their sockets, and
// the error box. It is what a zoomed-out graph shows, so opening a large workflow builds no React
// tree at all; the widgets below the ports (node-body.tsx) mount only when the node is shown in full.
// Nodes of one kind share their DOM but for a few names: it is built once per kind and cloned.

import type { PicNode, TypedSocket } from './node';
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

/** What makes two nodes' frames alike: their type (known to the catalog or not), ports and whether they have widgets. */
function kindOf(node: PicNode, withBody: boolean): string {
  const ports = (list: { name: string; type: string }[]) => list.map((p) => `${p.name}:${p.type}`).join(',');
  return `${node.nodeType}|${Boolean(node.spec)}|${ports(node.ports.inputs)}|${ports(node.ports.outputs)}|${withBody}`;
}

/**
 * The frame of one kind of node, without what names a single node (ids, title). Its shape is what
 * NodeShell reads back: root > [header > [title > [text, type, id], status, progress > bar],
 * ports > [inputs > rows, outputs > rows], body?]; an input row starts with its socket, an output row
 * ends with it.
 */
function buildTemplate(node: PicNode, withBody: boolean): HTMLDivElement {
  const root = el('div', 'pf-node');
  root.dataset.nodeType = node.nodeType;
  const header = el('header', `pf-node-head category-${(node.spec?.category ?? 'unknown').replace(/[^a-z0-9-]/gi, '')}`);
  const title = el('span', 'pf-node-title');
  title.title = `${node.spec?.description ?? 'unknown node type'}\n(double-click to rename)`;
  title.append(el('span', 'pf-title-text'), el('span', 'pf-node-type', node.nodeType), el('span', 'pf-node-id'));
  const progress = el('div', 'progress');
  progress.append(el('div', 'progress-bar'));
  const status = el('span', 'pf-node-status');
  status.setAttribute('aria-live', 'polite');
  header.append(title, status, progress);

  const socket = (type: string) => {
    const ref = el('span', 'socket-ref');
    const dot = el('div', socketClass(type));
    dot.style.setProperty('--socket', socketColour(type));
    dot.title = type;
    ref.append(dot);
    return ref;
  };
  const inputs = el('div', 'pf-inputs');
  for (const port of node.ports.inputs) {
    const row = el('div', 'port-row input');
    row.append(socket(port.type), el('span', 'port-name', port.name), el('span', 'port-type', port.type));
    inputs.append(row);
  }
  const outputs = el('div', 'pf-outputs');
  for (const port of node.ports.outputs) {
    const row = el('div', 'port-row output');
    row.title = port.description ?? `${port.name}: ${port.type}`;
    row.append(el('span', 'port-type', port.type), el('span', 'port-name', port.name), socket(port.type));
    outputs.append(row);
  }
  const ports = el('div', 'pf-ports');
  ports.append(inputs, outputs);
  root.append(header, ports);
  if (withBody) root.append(el('div', 'pf-node-body'));
  return root;
}

const templates = new Map<string, HTMLDivElement>();

function cloneFrame(node: PicNode, withBody: boolean): HTMLDivElement {
  const kind = kindOf(node, withBody);
  let template = templates.get(kind);
  if (!template) templates.set(kind, (template = buildTemplate(node, withBody)));
  return template.cloneNode(true) as HTMLDivElement;
}

export class NodeShell {
  private readonly root: HTMLDivElement;
  /** Where the React widgets mount; null when the node has none. */
  readonly body: HTMLElement | null;
  private readonly title: HTMLElement;
  private readonly titleText: HTMLElement;
  private readonly typeLabel: HTMLElement;
  private readonly status: HTMLElement;
  private readonly progress: HTMLElement;
  private readonly progressBar: HTMLElement;
  private readonly inputRows: HTMLElement[];
  private readonly sockets: HTMLElement[] = [];
  private errors: HTMLDivElement | null = null;
  private readonly stops: (() => void)[];

  constructor(
    host: HTMLElement,
    readonly node: PicNode,
    private readonly ctx: ViewContext,
    /** Where sockets are announced, for the connection plugin. */
    private readonly announce: Emit,
    withBody: boolean,
  ) {
    const root = (this.root = cloneFrame(node, withBody));
    const [header, ports, body] = root.children as unknown as HTMLElement[];
    this.body = body ?? null;
    [this.title, this.status, this.progress] = header.children as unknown as HTMLElement[];
    [this.titleText, this.typeLabel] = this.title.children as unknown as HTMLElement[];
    this.progressBar = this.progress.firstElementChild as HTMLElement;
    const [inputs, outputs] = ports.children;
    this.inputRows = [...inputs.children] as HTMLElement[];
    const id = node.id;
    root.dataset.testid = `node-${id}`;
    root.dataset.nodeId = id;
    this.titleText.dataset.testid = `title-${id}`;
    this.title.lastElementChild!.textContent = `#${id}`;
    this.status.dataset.testid = `status-${id}`;
    this.progress.dataset.testid = `progress-${id}`;
    node.ports.inputs.forEach((port, i) => {
      const row = this.inputRows[i];
      row.dataset.testid = `input-${id}-${port.name}`;
      this.addSocket(row.firstElementChild as HTMLElement, 'input', port.name);
    });
    node.ports.outputs.forEach((port, i) => {
      const row = outputs.children[i] as HTMLElement;
      row.dataset.testid = `output-port-${id}-${port.name}`;
      this.addSocket(row.lastElementChild as HTMLElement, 'output', port.name);
    });
    this.refresh();
    host.append(root);
    this.stops = [ctx.versions, ctx.runStates, ctx.issues].map((store) => store.subscribe(id, () => this.refresh()));
  }

  /** Names a socket and announces it, so that the connection plugin picks links from it. */
  private addSocket(element: HTMLElement, side: 'input' | 'output', key: string): void {
    const port = side === 'input' ? this.node.inputs[key] : this.node.outputs[key];
    element.dataset.testid = `socket-${this.node.id}-${side === 'input' ? 'in' : 'out'}-${key}`;
    this.sockets.push(element);
    this.announce({ type: 'render', data: { type: 'socket', side, key, nodeId: this.node.id, element, payload: port!.socket as TypedSocket } });
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
    setAttr(root, 'aria-label', `${node.label} (${node.nodeType})`);

    setText(this.titleText, node.label);
    this.typeLabel.hidden = node.label === node.nodeType;
    setText(this.status, statusText(state));
    const share = progressShare(state);
    this.progress.hidden = share === null;
    this.progressBar.style.width = `${(share ?? 0) * 100}%`;

    const split = splitIssues(issues);
    node.ports.inputs.forEach((port, i) => {
      const row = this.inputRows[i];
      const issue = split.inputs.get(port.name);
      const open = !port.optional && !ctx.connected(node.id, 'input', port.name);
      setAttr(row, 'class', `port-row input${issue ? ' has-issue' : ''}${open ? ' required-open' : ''}`);
      setAttr(row, 'title', issue ?? port.description ?? `${port.name}: ${port.type}${port.optional ? ' (optional)' : ''}`);
    });
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

  /** Swaps the title for a text field (the renderer calls this on a double-click on the title). */
  editTitle(): void {
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
    for (const element of this.sockets) this.announce({ type: 'unmount', data: { element } });
    this.root.remove();
  }
}
