// The Rete.js v2 canvas: one editor, its area and plugins, and the graph operations the app calls
// (build and serialise, add, link, remove, select). The app never touches Rete directly; it talks to
// this class, its camera (zoom and pan) and its field edits (undoable params and titles).

import { NodeEditor } from 'rete';
import { AreaExtensions, AreaPlugin, type RenderSignal } from 'rete-area-plugin';
import { ClassicFlow, ConnectionPlugin, getSourceTarget } from 'rete-connection-plugin';
import { HistoryPlugin, Presets as HistoryPresets } from 'rete-history-plugin';
import { fromWorkflow, freshId, remapFragment, toWorkflow, type GraphSnapshot } from '../serialize';
import { Observable } from '../store';
import type { CatalogEntry, Workflow } from '../../../engine/contract';
import { Camera, READABLE_ZOOM, ZOOM } from './camera';
import { compatiblePort, linkRefusal, orderEnds, type LinkEnd } from './connect-rules';
import { FieldEdits } from './field-edits';
import { applyGeometry, bareHeight, NODE_WIDTH } from './layout';
import { Link, PicNode, type Schemes } from './node';
import { makeBody } from './node-body';
import { renderNodes, type NodeRenderer } from './node-renderer';
import { renderLinks } from './link-renderer';
import { watchLinkRelease, type LinkRelease } from './link-release';
import { Selection } from './selection';
import { FixedSocketPositions } from './socket-positions';
import { bump, type ViewContext } from './view-context';

/** Signals the canvas adds to the area's: sockets, announced by node frames to the connection plugin. */
type AreaExtra = RenderSignal<'socket', { nodeId: string; side: 'input' | 'output'; key: string; payload: unknown }>;

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
  /** A new link was let go on empty canvas (`at`: the drop point in graph coordinates). */
  onLinkReleased?(release: LinkRelease & { at: { x: number; y: number } }): void;
}

export class Canvas {
  readonly editor = new NodeEditor<Schemes>();
  readonly area: AreaPlugin<Schemes, AreaExtra>;
  readonly history = new HistoryPlugin<Schemes>();
  private catalog = new Map<string, CatalogEntry>();
  /** While true (loading a file, undo of a batch), changes do not reach `onChange`. */
  private quiet = 0;
  private readonly connectedSockets = new Set<string>();
  private readonly cleanups: (() => void)[] = [];
  private readonly nodeRenderer: NodeRenderer;
  /** Bumped (at most once a frame) when what the minimap draws changes. */
  readonly view = new Observable(0);
  private viewFrame = 0;
  readonly camera: Camera;
  readonly selection: Selection;
  readonly fields: FieldEdits;
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
    this.camera = new Camera(this.area, container, ctx, () => this.viewChanged());
    this.cleanups.push(() => this.camera.dispose());
    this.fields = new FieldEdits(this.editor, this.history, ctx, () => this.changed());
    const connection = new ConnectionPlugin<Schemes, AreaExtra>();
    this.selection = new Selection(this.editor, this.area, {
      position: (id) => this.position(id),
      reveal: (id) => this.reveal(id),
      onChange: () => this.hooks.onSelectionChange?.(),
    });
    this.cleanups.push(() => this.selection.dispose());

    const NodeBody = makeBody(ctx);
    const sockets = new FixedSocketPositions(this.editor, this.area as never);

    const release = watchLinkRelease(connection, this.editor, container, (r) =>
      this.hooks.onLinkReleased?.({ ...r, at: this.camera.clientToGraph(r.clientX, r.clientY) }),
    );
    this.cleanups.push(() => release.dispose());

    connection.addPreset(
      () =>
        new ClassicFlow<Schemes, never[]>({
          canMakeConnection: (from, to) => {
            const ends = getSourceTarget(from, to);
            if (!ends) return false;
            const [output, input] = ends as unknown as [LinkEnd, LinkEnd];
            const reason = linkRefusal(this.editor, output, input);
            if (reason) {
              release.refused();
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
      distanceFromView: (node) => this.camera.distanceFromView({ ...this.position(node.id), w: node.width, h: node.height }),
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
      if (context.type === 'zoomed') this.camera.setDetail(this.area.area.transform.k);
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
          if (!target.selected) void this.selection.select(target.id, false);
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

  setCatalog(entries: CatalogEntry[]): void {
    this.catalog = new Map(entries.map((e) => [e.type, e]));
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
    return { nodes, viewport: this.camera.viewport() };
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
      await this.selection.clearQuietly();
      await this.editor.clear();
      this.connectedSockets.clear();
      this.ctx.runStates.clear();
      this.ctx.issues.clear();
      const snapshot = fromWorkflow(workflow);
      const nodes = this.makeNodes(snapshot);
      // Frame the graph before its nodes mount, so a large one mounts at the zoom it is shown at
      // (zoomed out, its nodes draw without widgets, and their heights are known without measuring).
      await this.camera.frame(
        nodes.map((node, i) => ({ x: snapshot.nodes[i].x, y: snapshot.nodes[i].y, w: node.width, h: node.height })),
        1,
      );
      await this.addSnapshot(snapshot, nodes);
    });
    this.history.clear();
    this.fields.breakStep();
    // Nodes shown in full grow by their widgets: frame them again once they are drawn and measured.
    if (!this.ctx.lite.get() && this.editor.getNodes().length > 0) {
      await this.settled();
      await this.fit();
    }
  }

  newId(type: string): string {
    return freshId(type, (id) => Boolean(this.editor.getNode(id)));
  }

  /**
   * Adds a node of a type. `at` is where its top-left corner goes; with `centred`, the point its
   * middle goes to. Either way it moves down past any node it would cover.
   */
  async addNode(type: string, at?: { x: number; y: number }, options: { centred?: boolean } = {}): Promise<string | null> {
    const spec = this.catalog.get(type);
    if (!spec) return null;
    const id = this.newId(type);
    const size = { w: NODE_WIDTH, h: bareHeight(spec.inputs.length, spec.outputs.length) };
    let position = at ?? this.camera.viewportCenter();
    if (at && options.centred) position = { x: at.x - size.w / 2, y: at.y - size.h / 2 };
    position = this.freeSpot({ ...position, ...size });
    this.history.separate();
    await this.addSnapshot({ nodes: [{ id, type, params: {}, x: position.x, y: position.y }], links: [] });
    await this.selection.select(id, false);
    return id;
  }

  /** The nearest place at or below a box where it covers no node (with a gap). */
  private freeSpot(box: { x: number; y: number; w: number; h: number }, gap = 24): { x: number; y: number } {
    const others = this.editor.getNodes().map((n) => ({ ...this.position(n.id), w: n.width, h: n.height }));
    let { y } = box;
    for (let tries = 0; tries < others.length + 1; tries++) {
      const hit = others.find((o) => o.x < box.x + box.w + gap && box.x < o.x + o.w + gap && o.y < y + box.h + gap && y < o.y + o.h + gap);
      if (!hit) break;
      y = hit.y + hit.h + gap;
    }
    return { x: box.x, y };
  }

  /**
   * Adds a node of a type at a point and links it to a socket that a link was dragged from: its first
   * port that can take (or feed) that socket. Returns the node's id, or null for an unknown type.
   */
  async addLinkedNode(type: string, at: { x: number; y: number }, from: LinkEnd): Promise<string | null> {
    const source = this.editor.getNode(from.nodeId);
    const fromType = from.side === 'output' ? source?.outputType(from.key) : source?.inputType(from.key);
    const port = fromType && compatiblePort(this.catalog.get(type), from.side, fromType);
    // Dropped to the right of an output the new node starts at the point; left of an input it ends there.
    const place = from.side === 'output' ? { x: at.x, y: at.y - 40 } : { x: at.x - NODE_WIDTH, y: at.y - 40 };
    const id = await this.addNode(type, place);
    if (!id) return id;
    if (port) await this.connect(from, { nodeId: id, side: from.side === 'output' ? 'input' : 'output', key: port });
    await this.settled();
    await this.reveal(id);
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
      await this.selection.forget(id);
      await this.editor.removeNode(id);
      this.ctx.runStates.set(id, undefined);
      this.ctx.issues.set(id, undefined);
    }
    this.hooks.onSelectionChange?.();
  }

  /** Starts renaming the selected node (one node selected); false when there is none to rename. */
  renameSelected(): boolean {
    const selected = this.selection.selected();
    return selected.length === 1 && this.nodeRenderer.editTitle(selected[0].id);
  }

  async deleteSelected(): Promise<void> {
    await this.removeNodes(this.selection.selected().map((n) => n.id));
  }

  /** The selected nodes and the links among them, as a workflow fragment (what copy puts on the clipboard). */
  copySelection(): Workflow | null {
    const ids = new Set(this.selection.selected().map((n) => n.id));
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
    await this.selection.clearQuietly();
    for (const node of added) await this.selection.select(node.id, true);
    return added.map((n) => n.id);
  }

  async undo(): Promise<void> {
    this.fields.breakStep();
    await this.history.undo();
  }

  async redo(): Promise<void> {
    this.fields.breakStep();
    await this.history.redo();
  }

  // ---- view ----

  /** Frames the nodes (all, or some), at a zoom where their text stays readable. */
  async fit(ids?: string[]): Promise<void> {
    const nodes = ids ? ids.map((id) => this.editor.getNode(id)).filter((n): n is PicNode => Boolean(n)) : this.editor.getNodes();
    await this.camera.frame(
      nodes.map((n) => ({ ...this.position(n.id), w: n.width, h: n.height })),
      undefined,
      READABLE_ZOOM,
    );
  }

  /** Pans so a node is in view, keeping the zoom. */
  async reveal(id: string): Promise<void> {
    const el = this.area.nodeViews.get(id)?.element;
    if (el) await this.camera.reveal(el);
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
