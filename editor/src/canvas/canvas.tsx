// The Rete.js v2 canvas: one editor, its area and plugins, and the graph operations the app calls.
// The app never touches Rete directly; it talks to this class.

import { NodeEditor } from 'rete';
import { AreaExtensions, AreaPlugin, type RenderSignal } from 'rete-area-plugin';
import { ClassicFlow, ConnectionPlugin, getSourceTarget } from 'rete-connection-plugin';
import { HistoryPlugin, Presets as HistoryPresets, type HistoryAction } from 'rete-history-plugin';
import { fromWorkflow, freshId, remapFragment, toWorkflow, type GraphSnapshot } from '../serialize';
import { Observable } from '../store';
import type { CatalogEntry, Workflow } from '../types';
import { linkRefusal, orderEnds, type LinkEnd } from './connect-rules';
import { applyGeometry } from './layout';
import { Link, PicNode, type Schemes } from './node';
import { makeBody } from './node-body';
import { renderNodes, type NodeRenderer } from './node-renderer';
import { renderLinks } from './link-renderer';
import { FixedSocketPositions } from './socket-positions';
import { bump, type ViewContext } from './view-context';

/** Signals the canvas adds to the area's: sockets, announced by node frames to the connection plugin. */
type AreaExtra = RenderSignal<'socket', { nodeId: string; side: 'input' | 'output'; key: string; payload: unknown }>;

/**
 * How much of a node is drawn, by zoom: in full; without widgets (ViewContext.lite); and far out,
 * where text would be under 4 px, without its port labels and status line too (the browser then
 * lays out a large graph in half the time).
 */
const DETAIL = { liteBelow: 0.45, farBelow: 0.3 };
/** The zoom range, for the pointer (restrictor), the buttons and framing a loaded graph alike. */
const ZOOM = { min: 0.08, max: 2.5 };
/** Fitting leaves this share of the view to the graph. */
const FIT_SCALE = 0.9;

export interface MinimapData {
  nodes: { id: string; x: number; y: number; w: number; h: number; selected: boolean }[];
  viewport: { x: number; y: number; w: number; h: number };
}

export interface ContextMenuRequest {
  kind: 'root' | 'node' | 'link';
  id?: string;
  clientX: number;
  clientY: number;
  /** Where on the canvas (graph coordinates) the menu was opened. */
  at: { x: number; y: number };
}

export interface CanvasHooks {
  /** The graph changed in a way that is saved (nodes, links, positions, params, titles). */
  onChange(): void;
  /** A link the user tried to make was refused; `reason` is shown to them. */
  onRefused(reason: string): void;
  onContextMenu(request: ContextMenuRequest): void;
  onSelectionChange?(): void;
}

class ParamAction implements HistoryAction {
  constructor(
    private readonly canvas: Canvas,
    readonly nodeId: string,
    readonly field: string,
    readonly before: unknown,
    public after: unknown,
    readonly kind: 'param' | 'title',
  ) {}
  undo() {
    this.canvas.applyField(this.nodeId, this.field, this.before, this.kind);
  }
  redo() {
    this.canvas.applyField(this.nodeId, this.field, this.after, this.kind);
  }
}

export class Canvas {
  readonly editor = new NodeEditor<Schemes>();
  readonly area: AreaPlugin<Schemes, AreaExtra>;
  readonly history = new HistoryPlugin<Schemes>();
  private readonly selector = AreaExtensions.selector();
  private readonly selectable: ReturnType<typeof AreaExtensions.selectableNodes>;
  private catalog = new Map<string, CatalogEntry>();
  /** While true (loading a file, undo of a batch), changes do not reach `onChange`. */
  private quiet = 0;
  private readonly connectedSockets = new Set<string>();
  private lastParamAction: { action: ParamAction; time: number } | null = null;
  private modifierHeld = false;
  private readonly cleanups: (() => void)[] = [];
  private readonly nodeRenderer: NodeRenderer;
  /** Bumped (at most once a frame) when what the minimap draws changes. */
  readonly view = new Observable(0);
  private viewFrame = 0;
  /** The container's size, kept by a ResizeObserver (reading it would force a layout mid-render). */
  private size = { width: 0, height: 0 };
  /** The last load asked for, settled (see load). */
  private loading: Promise<void> = Promise.resolve();
  /** Nodes whose links changed while quiet; they re-render once at the end. */
  private readonly pendingBumps = new Set<string>();

  constructor(
    readonly container: HTMLElement,
    catalog: CatalogEntry[],
    private readonly ctx: ViewContext,
    private readonly hooks: CanvasHooks,
  ) {
    this.setCatalog(catalog);
    this.area = new AreaPlugin<Schemes, AreaExtra>(container);
    applyGeometry(container);
    this.size = { width: container.clientWidth, height: container.clientHeight };
    const sizeObserver = new ResizeObserver(([entry]) => {
      this.size = { width: entry.contentRect.width, height: entry.contentRect.height };
      this.viewChanged();
    });
    sizeObserver.observe(container);
    this.cleanups.push(() => sizeObserver.disconnect());
    const connection = new ConnectionPlugin<Schemes, AreaExtra>();

    // Ctrl/Cmd/Shift-click adds to the selection; read from the pointer event itself so it also
    // works when the key went down outside the page.
    const onPointer = (e: PointerEvent) => {
      this.modifierHeld = e.ctrlKey || e.metaKey || e.shiftKey;
    };
    window.addEventListener('pointerdown', onPointer, true);
    this.cleanups.push(() => window.removeEventListener('pointerdown', onPointer, true));
    this.selectable = AreaExtensions.selectableNodes(this.area, this.selector, { accumulating: { active: () => this.modifierHeld } });

    const NodeBody = makeBody(ctx);
    const sockets = new FixedSocketPositions(this.editor, this.area as never);

    connection.addPreset(
      () =>
        new ClassicFlow<Schemes, never[]>({
          canMakeConnection: (from, to) => {
            const ends = getSourceTarget(from, to);
            if (!ends) return false;
            const [output, input] = ends as unknown as [LinkEnd, LinkEnd];
            const reason = linkRefusal(this.editor, output, input);
            if (reason) {
              this.hooks.onRefused(reason);
              // Let go of the picked socket: a refused drop ends the drag instead of leaving a link in hand.
              setTimeout(() => connection.drop(), 0);
              return false;
            }
            return true;
          },
        }),
    );

    this.history.addPreset(HistoryPresets.classic.setup());

    this.editor.use(this.area);
    this.nodeRenderer = renderNodes(this.area as never, {
      container,
      ctx,
      body: (node) => <NodeBody node={node} />,
      announce: (signal) => void connection.emit(signal as never),
      distanceFromView: (node) => this.distanceFromView(node),
    });
    this.cleanups.push(() => this.nodeRenderer.dispose());
    renderLinks(this.area as never, this.editor, sockets);
    this.area.use(connection);
    this.area.use(this.history);

    this.keepOrder();
    AreaExtensions.restrictor(this.area, { scaling: ZOOM });

    this.editor.addPipe((context) => {
      switch (context.type) {
        case 'connectioncreated':
        case 'connectionremoved': {
          const c = context.data;
          const on = context.type === 'connectioncreated';
          for (const key of [`${c.target}:input:${c.targetInput}`, `${c.source}:output:${c.sourceOutput}`]) {
            if (on) this.connectedSockets.add(key);
            else this.connectedSockets.delete(key);
          }
          if (this.quiet > 0) {
            this.pendingBumps.add(c.target);
            this.pendingBumps.add(c.source);
          } else {
            bump(ctx.versions, c.target);
            bump(ctx.versions, c.source);
          }
          this.changed();
          break;
        }
        case 'nodecreated':
        case 'noderemoved':
          this.changed();
          this.viewChanged();
          break;
      }
      return context;
    });

    this.area.addPipe((context) => {
      if (context.type === 'translated' || context.type === 'zoomed' || context.type === 'resized') this.viewChanged();
      if (context.type === 'zoomed') this.setDetail(this.area.area.transform.k);
      if (context.type === 'nodetranslated') {
        this.changed();
        this.viewChanged();
      }
      if (context.type === 'nodepicked') queueMicrotask(() => this.hooks.onSelectionChange?.());
      if (context.type === 'contextmenu') {
        const { event, context: target } = context.data;
        event.preventDefault();
        event.stopPropagation();
        this.area.area.setPointerFrom(event);
        const at = { ...this.area.area.pointer };
        if (target === 'root') this.hooks.onContextMenu({ kind: 'root', clientX: event.clientX, clientY: event.clientY, at });
        else if (target instanceof PicNode) {
          if (!target.selected) void this.select(target.id, false);
          this.hooks.onContextMenu({ kind: 'node', id: target.id, clientX: event.clientX, clientY: event.clientY, at });
        } else this.hooks.onContextMenu({ kind: 'link', id: (target as Schemes['Connection']).id, clientX: event.clientX, clientY: event.clientY, at });
        return undefined;
      }
      return context;
    });
  }

  /**
   * A picked node comes to the front (links stay under all nodes by their z-index). Its element moves
   * only when another is in front of it: moving it on every press (as Rete's simpleNodesOrder does)
   * takes it out of the page between the two clicks of a double-click, and the browser then sees no
   * double-click.
   */
  private keepOrder(): void {
    const content = this.area.area.content;
    this.area.addPipe((context) => {
      if (context.type === 'nodepicked') {
        const element = this.area.nodeViews.get(context.data.id)?.element;
        if (element && content.holder.lastElementChild !== element) void content.reorder(element, null);
      }
      return context;
    });
  }

  /** Styled by the container's `data-detail` (full, lite or far). */
  private setDetail(zoom: number): void {
    const detail = zoom >= DETAIL.liteBelow ? 'full' : zoom >= DETAIL.farBelow ? 'lite' : 'far';
    if (this.container.dataset.detail !== detail) this.container.dataset.detail = detail;
    this.ctx.lite.set(detail !== 'full');
  }

  setCatalog(entries: CatalogEntry[]): void {
    this.catalog = new Map(entries.map((e) => [e.type, e]));
  }

  getCatalog(): Map<string, CatalogEntry> {
    return this.catalog;
  }

  connected = (nodeId: string, side: 'input' | 'output', key: string): boolean => this.connectedSockets.has(`${nodeId}:${side}:${key}`);

  private changed(): void {
    if (this.quiet === 0) this.hooks.onChange();
  }

  private async silently<T>(fn: () => Promise<T>): Promise<T> {
    this.quiet++;
    try {
      return await fn();
    } finally {
      this.quiet--;
      if (this.quiet === 0) {
        for (const id of this.pendingBumps) bump(this.ctx.versions, id);
        this.pendingBumps.clear();
      }
    }
  }

  /** Resolves once pending node renders are on screen and measured (two frames). */
  settled(): Promise<void> {
    return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
  }

  /** Schedules one minimap update for this frame. */
  viewChanged(): void {
    if (this.viewFrame) return;
    this.viewFrame = requestAnimationFrame(() => {
      this.viewFrame = 0;
      this.view.update((n) => n + 1);
    });
  }

  /** The nodes' boxes and the visible part of the graph, in graph coordinates. */
  minimapData(): MinimapData {
    const nodes = this.editor.getNodes().map((n) => {
      const p = this.position(n.id);
      return { id: n.id, x: p.x, y: p.y, w: n.width, h: n.height, selected: Boolean(n.selected) };
    });
    const { x, y, k } = this.area.area.transform;
    return { nodes, viewport: { x: -x / k, y: -y / k, w: this.size.width / k, h: this.size.height / k } };
  }

  /** How far a node's box is from the visible part of the canvas, in screen pixels (0 when any of it shows). */
  private distanceFromView(node: PicNode): number {
    const { x, y, k } = this.area.area.transform;
    const p = this.position(node.id);
    const left = p.x * k + x;
    const top = p.y * k + y;
    const dx = Math.max(0, -(left + node.width * k), left - this.size.width);
    const dy = Math.max(0, -(top + node.height * k), top - this.size.height);
    return Math.hypot(dx, dy);
  }

  /** Pans so that a graph point is in the middle of the view. */
  async centreOn(point: { x: number; y: number }): Promise<void> {
    const { k } = this.area.area.transform;
    await this.area.area.translate(this.size.width / 2 - point.x * k, this.size.height / 2 - point.y * k);
  }

  // ---- reading the graph ----

  nodes(): PicNode[] {
    return this.editor.getNodes();
  }

  position(id: string): { x: number; y: number } {
    const view = this.area.nodeViews.get(id);
    return view ? { ...view.position } : { x: 0, y: 0 };
  }

  snapshot(only?: Set<string>): GraphSnapshot {
    const nodes = this.editor
      .getNodes()
      .filter((n) => !only || only.has(n.id))
      .map((n) => {
        const { x, y } = this.position(n.id);
        return { id: n.id, type: n.nodeType, title: n.title, params: n.params, x, y, uiExtra: n.uiExtra };
      });
    const links = this.editor
      .getConnections()
      .filter((c) => !only || (only.has(c.source) && only.has(c.target)))
      .map((c) => ({ source: c.source, sourceOutput: String(c.sourceOutput), target: c.target, targetInput: String(c.targetInput) }));
    return { nodes, links };
  }

  toWorkflow(meta: { name?: string; description?: string }): Workflow {
    return toWorkflow(this.snapshot(), meta);
  }

  // ---- building the graph ----

  private makeNode(entry: GraphSnapshot['nodes'][number], links: GraphSnapshot['links']): PicNode {
    const spec = this.catalog.get(entry.type) ?? null;
    const fallback = spec
      ? undefined
      : {
          inputs: [...new Set(links.filter((l) => l.target === entry.id).map((l) => l.targetInput))],
          outputs: [...new Set(links.filter((l) => l.source === entry.id).map((l) => l.sourceOutput))],
        };
    return new PicNode(entry.id, entry.type, spec, { ...entry.params }, entry.title, fallback, entry.uiExtra ?? {});
  }

  private makeNodes(snapshot: GraphSnapshot): PicNode[] {
    return snapshot.nodes.map((entry) => this.makeNode(entry, snapshot.links));
  }

  /** Adds a snapshot's nodes (made already, or made here) at their places, then its links. */
  private async addSnapshot(snapshot: GraphSnapshot, nodes = this.makeNodes(snapshot)): Promise<PicNode[]> {
    for (const [i, node] of nodes.entries()) {
      await this.editor.addNode(node);
      await this.area.translate(node.id, { x: snapshot.nodes[i].x, y: snapshot.nodes[i].y });
    }
    for (const l of snapshot.links) {
      const source = this.editor.getNode(l.source);
      const target = this.editor.getNode(l.target);
      // A link to a node or port that does not exist is left out here; the server names it on validation.
      if (!source || !target || !source.outputs[l.sourceOutput] || !target.inputs[l.targetInput]) continue;
      await this.editor.addConnection(new Link(source, l.sourceOutput, target, l.targetInput));
    }
    return nodes;
  }

  /**
   * Replaces the graph with a workflow; undo history starts afresh. Loads run one after another: two
   * interleaved would build one graph out of both (or fail on a node id they share).
   */
  load(workflow: Workflow): Promise<void> {
    const loaded = this.loading.then(() => this.replaceGraph(workflow));
    this.loading = loaded.catch(() => undefined);
    return loaded;
  }

  private async replaceGraph(workflow: Workflow): Promise<void> {
    await this.silently(async () => {
      await this.selector.unselectAll();
      await this.editor.clear();
      this.connectedSockets.clear();
      this.ctx.runStates.clear();
      this.ctx.issues.clear();
      const snapshot = fromWorkflow(workflow);
      const nodes = this.makeNodes(snapshot);
      // Frame the graph before its nodes mount, so a large one mounts at the zoom it is shown at
      // (zoomed out, its nodes draw without widgets, and their heights are known without measuring).
      await this.frame(
        nodes.map((node, i) => ({ x: snapshot.nodes[i].x, y: snapshot.nodes[i].y, w: node.width, h: node.height })),
        1,
      );
      await this.addSnapshot(snapshot, nodes);
    });
    this.history.clear();
    this.lastParamAction = null;
    // Nodes shown in full grow by their widgets: frame them again once they are drawn and measured.
    if (!this.ctx.lite.get() && this.editor.getNodes().length > 0) {
      await this.settled();
      await this.fit();
    }
  }

  newId(type: string): string {
    return freshId(type, (id) => Boolean(this.editor.getNode(id)));
  }

  async addNode(type: string, at?: { x: number; y: number }): Promise<string | null> {
    if (!this.catalog.has(type)) return null;
    const id = this.newId(type);
    const position = at ?? this.viewportCenter();
    this.history.separate();
    await this.addSnapshot({ nodes: [{ id, type, params: {}, x: position.x, y: position.y }], links: [] });
    await this.select(id, false);
    return id;
  }

  /** Links an output to an input, with the same checks as dragging; returns the refusal reason if any. */
  async connect(output: LinkEnd, input: LinkEnd): Promise<string | null> {
    const ends = orderEnds(output, input);
    if (!ends) return 'pick an output and an input';
    const reason = linkRefusal(this.editor, ends[0], ends[1]);
    if (reason) return reason;
    const source = this.editor.getNode(ends[0].nodeId)!;
    const target = this.editor.getNode(ends[1].nodeId)!;
    this.history.separate();
    for (const c of this.editor.getConnections()) {
      if (c.target === target.id && c.targetInput === ends[1].key) await this.editor.removeConnection(c.id);
    }
    await this.editor.addConnection(new Link(source, ends[0].key, target, ends[1].key));
    return null;
  }

  async disconnectInput(nodeId: string, input: string): Promise<void> {
    this.history.separate();
    for (const c of this.editor.getConnections()) {
      if (c.target === nodeId && c.targetInput === input) await this.editor.removeConnection(c.id);
    }
  }

  async removeLink(id: string): Promise<void> {
    this.history.separate();
    await this.editor.removeConnection(id);
  }

  async removeNodes(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    this.history.separate();
    const doomed = new Set(ids);
    for (const c of this.editor.getConnections()) {
      if (doomed.has(c.source) || doomed.has(c.target)) await this.editor.removeConnection(c.id);
    }
    for (const id of ids) {
      await this.selector.remove({ id, label: 'node' });
      await this.editor.removeNode(id);
      this.ctx.runStates.set(id, undefined);
      this.ctx.issues.set(id, undefined);
    }
    this.hooks.onSelectionChange?.();
  }

  /** Starts renaming the selected node (one node selected); false when there is none to rename. */
  renameSelected(): boolean {
    const selected = this.selected();
    return selected.length === 1 && this.nodeRenderer.editTitle(selected[0].id);
  }

  async deleteSelected(): Promise<void> {
    await this.removeNodes(this.selected().map((n) => n.id));
  }

  /** The selected nodes and the links among them, as a workflow fragment (what copy puts on the clipboard). */
  copySelection(): Workflow | null {
    const ids = new Set(this.selected().map((n) => n.id));
    if (ids.size === 0) return null;
    return toWorkflow(this.snapshot(ids), { name: 'picflow clipboard' });
  }

  async paste(fragment: Workflow, at?: { x: number; y: number }): Promise<string[]> {
    const snapshot = fromWorkflow(fragment);
    if (snapshot.nodes.length === 0) return [];
    const target = at ?? (() => {
      const minX = Math.min(...snapshot.nodes.map((n) => n.x));
      const minY = Math.min(...snapshot.nodes.map((n) => n.y));
      return { x: minX + 40, y: minY + 40 };
    })();
    const remapped = remapFragment(snapshot, (id) => Boolean(this.editor.getNode(id)), target);
    this.history.separate();
    const added = await this.addSnapshot(remapped);
    await this.selector.unselectAll();
    for (const node of added) await this.select(node.id, true);
    return added.map((n) => n.id);
  }

  // ---- params and titles (undoable) ----

  setParam(nodeId: string, name: string, value: unknown): void {
    this.recordField(nodeId, name, value, 'param');
  }

  rename(nodeId: string, title: string): void {
    const node = this.editor.getNode(nodeId);
    if (!node) return;
    const next = title.trim() === '' || title.trim() === node.nodeType ? undefined : title.trim();
    if (next === node.title) return;
    this.recordField(nodeId, 'title', next, 'title');
  }

  private recordField(nodeId: string, field: string, value: unknown, kind: 'param' | 'title'): void {
    const node = this.editor.getNode(nodeId);
    if (!node) return;
    const before = kind === 'title' ? node.title : node.params[field];
    this.applyField(nodeId, field, value, kind);
    // Typing into one field is one undo step, not one per key.
    const last = this.lastParamAction;
    const now = Date.now();
    const recent = this.history.getRecent(1500);
    if (last && now - last.time < 1500 && last.action.nodeId === nodeId && last.action.field === field && recent.some((r) => r.action === last.action)) {
      last.action.after = value;
      last.time = now;
      return;
    }
    const action = new ParamAction(this, nodeId, field, before, value, kind);
    this.history.separate();
    this.history.add(action);
    this.lastParamAction = { action, time: now };
  }

  /** Sets a param or title without recording history (used by undo/redo). */
  applyField(nodeId: string, field: string, value: unknown, kind: 'param' | 'title'): void {
    const node = this.editor.getNode(nodeId);
    if (!node) return;
    if (kind === 'title') {
      node.title = value as string | undefined;
      node.label = node.title || node.nodeType;
    } else if (value === undefined) delete node.params[field];
    else node.params[field] = value;
    // An edited node's last result no longer matches it.
    this.ctx.runStates.set(nodeId, undefined);
    // A field the user touched no longer carries the server's complaint about it.
    const issues = this.ctx.issues.get(nodeId);
    if (issues) {
      const left = issues.filter((i) => i.field !== `params.${field}`);
      this.ctx.issues.set(nodeId, left.length ? left : undefined);
    }
    bump(this.ctx.versions, nodeId);
    this.changed();
  }

  async undo(): Promise<void> {
    this.lastParamAction = null;
    await this.history.undo();
  }

  async redo(): Promise<void> {
    this.lastParamAction = null;
    await this.history.redo();
  }

  // ---- selection ----

  selected(): PicNode[] {
    return this.editor.getNodes().filter((n) => n.selected);
  }

  async select(id: string, accumulate: boolean): Promise<void> {
    await this.selectable.select(id, accumulate);
    this.hooks.onSelectionChange?.();
  }

  async selectAll(): Promise<void> {
    const nodes = this.editor.getNodes();
    for (const n of nodes) await this.selectable.select(n.id, true);
    this.hooks.onSelectionChange?.();
  }

  async unselectAll(): Promise<void> {
    await this.selector.unselectAll();
    this.hooks.onSelectionChange?.();
  }

  /** Selects the nodes whose boxes meet a rectangle given in client (screen) coordinates. */
  async selectInRect(rect: { left: number; top: number; right: number; bottom: number }, accumulate: boolean): Promise<void> {
    if (!accumulate) await this.selector.unselectAll();
    for (const n of this.editor.getNodes()) {
      const el = this.area.nodeViews.get(n.id)?.element;
      if (!el) continue;
      const box = el.getBoundingClientRect();
      if (box.right >= rect.left && box.left <= rect.right && box.bottom >= rect.top && box.top <= rect.bottom) {
        await this.selectable.select(n.id, true);
      }
    }
    this.hooks.onSelectionChange?.();
  }

  /** Moves the selected nodes by dx, dy graph units (keyboard nudging). */
  async nudgeSelected(dx: number, dy: number): Promise<void> {
    for (const n of this.selected()) {
      const p = this.position(n.id);
      await this.area.translate(n.id, { x: p.x + dx, y: p.y + dy });
    }
  }

  /** Selects the next (or previous) node in reading order: keyboard navigation between nodes. */
  async cycleSelection(step: 1 | -1): Promise<string | null> {
    const nodes = this.editor.getNodes().map((n) => ({ id: n.id, ...this.position(n.id) }));
    if (nodes.length === 0) return null;
    nodes.sort((a, b) => a.x - b.x || a.y - b.y);
    const current = this.selected()[0];
    const index = current ? nodes.findIndex((n) => n.id === current.id) : -1;
    const next = nodes[(index + step + nodes.length) % nodes.length];
    await this.select(next.id, false);
    await this.reveal(next.id);
    return next.id;
  }

  // ---- view ----

  async fit(ids?: string[]): Promise<void> {
    const nodes = ids ? ids.map((id) => this.editor.getNode(id)).filter((n): n is PicNode => Boolean(n)) : this.editor.getNodes();
    await this.frame(nodes.map((n) => ({ ...this.position(n.id), w: n.width, h: n.height })));
  }

  /**
   * Zooms and pans so that boxes (graph coordinates) fill the view. Computed from the nodes' kept
   * sizes, never from the DOM: reading a box would force a layout of the whole graph.
   */
  private async frame(boxes: { x: number; y: number; w: number; h: number }[], maxZoom = ZOOM.max): Promise<void> {
    if (boxes.length === 0) return;
    const left = Math.min(...boxes.map((b) => b.x));
    const top = Math.min(...boxes.map((b) => b.y));
    const width = Math.max(...boxes.map((b) => b.x + b.w)) - left;
    const height = Math.max(...boxes.map((b) => b.y + b.h)) - top;
    const view = this.size;
    const k = Math.min(maxZoom, Math.max(ZOOM.min, FIT_SCALE * Math.min(view.width / width, view.height / height)));
    const t = this.area.area.transform;
    t.x = view.width / 2 - (left + width / 2) * k;
    t.y = view.height / 2 - (top + height / 2) * k;
    await this.area.area.zoom(k, 0, 0);
  }

  /** Pans so a node is in view, keeping the zoom. */
  async reveal(id: string): Promise<void> {
    const el = this.area.nodeViews.get(id)?.element;
    if (!el) return;
    const box = el.getBoundingClientRect();
    const view = this.container.getBoundingClientRect();
    if (box.left >= view.left && box.right <= view.right && box.top >= view.top && box.bottom <= view.bottom) return;
    const { x, y } = this.area.area.transform;
    await this.area.area.translate(x + (view.left + view.width / 2 - (box.left + box.width / 2)), y + (view.top + view.height / 2 - (box.top + box.height / 2)));
  }

  /** Zooms to a scale, keeping the middle of the view where it is. */
  async zoomTo(scale: number): Promise<void> {
    await this.zoomBy(scale / this.area.area.transform.k);
  }

  async zoomBy(factor: number): Promise<void> {
    const { x, y, k } = this.area.area.transform;
    const next = Math.min(ZOOM.max, Math.max(ZOOM.min, k * factor));
    // Keeps the middle of the view where it is (the area moves by the offset times the relative change).
    const delta = next / k - 1;
    await this.area.area.zoom(next, (x - this.size.width / 2) * delta, (y - this.size.height / 2) * delta);
  }

  async pan(dx: number, dy: number): Promise<void> {
    const { x, y } = this.area.area.transform;
    await this.area.area.translate(x + dx, y + dy);
  }

  /** The graph coordinates at the middle of the visible canvas. */
  viewportCenter(): { x: number; y: number } {
    const rect = this.container.getBoundingClientRect();
    return this.clientToGraph(rect.left + rect.width / 2 - 120, rect.top + rect.height / 2 - 80);
  }

  clientToGraph(clientX: number, clientY: number): { x: number; y: number } {
    const rect = this.container.getBoundingClientRect();
    const { x, y, k } = this.area.area.transform;
    return { x: (clientX - rect.left - x) / k, y: (clientY - rect.top - y) / k };
  }

  /**
   * Moves nodes down just enough that none overlaps another, keeping columns and order (files laid
   * out for smaller nodes stay readable). Returns how many nodes moved.
   */
  async spreadOverlaps(gap = 24): Promise<number> {
    await this.settled();
    const boxes = this.editor
      .getNodes()
      .map((n) => ({ id: n.id, ...this.position(n.id), w: n.width, h: n.height }))
      .sort((a, b) => a.y - b.y || a.x - b.x);
    const placed: typeof boxes = [];
    let moved = 0;
    for (const box of boxes) {
      const y0 = box.y;
      for (;;) {
        const hit = placed.find((p) => p.x < box.x + box.w && box.x < p.x + p.w && p.y < box.y + box.h + gap && box.y < p.y + p.h + gap);
        if (!hit) break;
        box.y = hit.y + hit.h + gap;
      }
      if (box.y !== y0) {
        moved++;
        await this.area.translate(box.id, { x: box.x, y: box.y });
      }
      placed.push(box);
    }
    return moved;
  }

  /** Lays the graph out with ELK; the layout engine is downloaded on first use. */
  async arrange(): Promise<void> {
    const { arrange } = await import('./arrange');
    this.history.separate();
    await arrange(this.editor, this.area);
    await this.fit();
  }

  destroy(): void {
    for (const fn of this.cleanups) fn();
    this.area.destroy();
  }
}
