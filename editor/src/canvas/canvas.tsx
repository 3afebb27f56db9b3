// The Rete.js v2 canvas: one editor, its area and plugins wired together, and the graph operations
// the app calls (load and serialise, add and remove nodes, copy and paste, undo). The app never
// touches Rete directly; it talks to this class and its parts: camera (zoom, pan, detail), selection,
// field edits (undoable params and titles) and link edits.

import { NodeEditor } from 'rete';
import { AreaExtensions, AreaPlugin, type RenderSignal } from 'rete-area-plugin';
import { ConnectionPlugin } from 'rete-connection-plugin';
import { HistoryPlugin, Presets as HistoryPresets } from 'rete-history-plugin';
import { fromWorkflow, freshId, remapFragment, toWorkflow, type GraphSnapshot } from '../serialize';
import { FrameSignal } from '../store';
import type { CatalogEntry, Workflow } from '../../../engine/contract';
import { bringPickedToFront, routeAreaEvents, type ContextMenuRequest } from './area-events';
import { Camera, ZOOM, type Box } from './camera';
import { ConnectedSockets } from './connected-sockets';
import { FieldEdits } from './field-edits';
import { addSnapshot, makeNodes, readSnapshot } from './graph-snapshot';
import { applyGeometry, bareHeight, NODE_WIDTH } from './layout';
import { LinkEdits } from './link-edits';
import { guardLinks } from './link-guard';
import { PicNode, type Schemes } from './node';
import { makeBody } from './node-body';
import { renderNodes, type NodeRenderer } from './node-renderer';
import { renderLinks } from './link-renderer';
import { watchLinkRelease, type LinkRelease } from './link-release';
import { freeSpot, spreadOut } from './placement';
import { Selection } from './selection';
import { FixedSocketPositions } from './socket-positions';
import type { ViewContext } from './view-context';

/** Signals the canvas adds to the area's: sockets, announced by node frames to the connection plugin. */
type AreaExtra = RenderSignal<'socket', { nodeId: string; side: 'input' | 'output'; key: string; payload: unknown }>;

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
  private readonly catalog: ReadonlyMap<string, CatalogEntry>;
  /** While above 0 (loading a file), changes do not reach `onChange`. */
  private quiet = 0;
  private readonly sockets: ConnectedSockets;
  private readonly cleanups: (() => void)[] = [];
  private readonly nodeRenderer: NodeRenderer;
  /** Poked when what the minimap draws changes (nodes, their places, the view). */
  readonly view = new FrameSignal();
  readonly camera: Camera;
  readonly selection: Selection;
  readonly fields: FieldEdits;
  readonly links: LinkEdits;
  /** The last load asked for, settled (see load). */
  private loading: Promise<void> = Promise.resolve();

  constructor(
    readonly container: HTMLElement,
    catalog: CatalogEntry[],
    private readonly ctx: ViewContext,
    private readonly hooks: CanvasHooks,
  ) {
    this.catalog = new Map(catalog.map((e) => [e.type, e]));
    this.area = new AreaPlugin<Schemes, AreaExtra>(container);
    applyGeometry(container);
    this.camera = new Camera(this.area, container, ctx, {
      boxes: (ids) => (ids ? ids.map((id) => this.editor.getNode(id)).filter((n) => n !== undefined) : this.editor.getNodes()).map((n) => this.box(n)),
      element: (id) => this.area.nodeViews.get(id)?.element,
      resized: () => this.view.poke(),
    });
    this.fields = new FieldEdits(this.editor, this.history, ctx, () => this.changed());
    this.links = new LinkEdits(this.editor, this.history);
    this.selection = new Selection(this.editor, this.area, {
      position: (id) => this.position(id),
      reveal: (id) => this.camera.reveal(id),
      onChange: () => this.hooks.onSelectionChange?.(),
    });
    const sockets = new FixedSocketPositions(this.editor, this.area as never);
    const connection = new ConnectionPlugin<Schemes, AreaExtra>();
    const release = watchLinkRelease(connection, this.editor, container, (r) =>
      this.hooks.onLinkReleased?.({ ...r, at: this.camera.clientToGraph(r.clientX, r.clientY) }),
    );
    guardLinks(connection, this.editor, release, (reason) => this.hooks.onRefused(reason));
    this.history.addPreset(HistoryPresets.classic.setup());

    this.editor.use(this.area);
    const NodeBody = makeBody(ctx);
    this.nodeRenderer = renderNodes(this.area as never, {
      container,
      ctx,
      body: (node) => <NodeBody node={node} />,
      announce: (signal) => void connection.emit(signal as never),
      distanceFromView: (node) => this.camera.distanceFromView(this.box(node)),
    });
    renderLinks(this.area as never, this.editor, sockets);
    this.area.use(connection);
    this.area.use(this.history);
    this.cleanups.push(
      () => this.camera.dispose(),
      () => this.selection.dispose(),
      () => release.dispose(),
      () => this.nodeRenderer.dispose(),
    );

    bringPickedToFront(this.area);
    AreaExtensions.restrictor(this.area, { scaling: ZOOM });
    this.sockets = new ConnectedSockets(this.editor, ctx.versions, () => this.quiet > 0, () => this.changed());
    this.editor.addPipe((context) => {
      if (context.type === 'nodecreated' || context.type === 'noderemoved') {
        this.changed();
        this.view.poke();
      }
      return context;
    });
    routeAreaEvents(this.area, this.camera, this.selection, {
      moved: () => this.changed(),
      viewChanged: () => this.view.poke(),
      onSelectionChange: () => this.hooks.onSelectionChange?.(),
      onContextMenu: (request) => this.hooks.onContextMenu(request),
    });
  }

  /** The catalog's entry for a node type. */
  entry(type: string): CatalogEntry | undefined {
    return this.catalog.get(type);
  }

  connected = (nodeId: string, side: 'input' | 'output', key: string): boolean => this.sockets.has(nodeId, side, key);

  private changed(): void {
    if (this.quiet === 0) this.hooks.onChange();
  }

  private async silently<T>(fn: () => Promise<T>): Promise<T> {
    this.quiet++;
    try {
      return await fn();
    } finally {
      this.quiet--;
      if (this.quiet === 0) this.sockets.flush();
    }
  }

  /**
   * Resolves once pending node renders are on screen and measured: after the widgets queued so far
   * mount (on a timer, see node-renderer.ts), two frames.
   */
  settled(): Promise<void> {
    return new Promise((resolve) => setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(() => resolve())), 0));
  }

  // ---- reading the graph ----

  nodes(): PicNode[] {
    return this.editor.getNodes();
  }

  position(id: string): { x: number; y: number } {
    const view = this.area.nodeViews.get(id);
    return view ? { ...view.position } : { x: 0, y: 0 };
  }

  /** A node's box in graph coordinates. */
  box(node: PicNode): Box {
    return { ...this.position(node.id), w: node.width, h: node.height };
  }

  private snapshot(only?: Set<string>): GraphSnapshot {
    return readSnapshot(this.editor, (id) => this.position(id), only);
  }

  toWorkflow(meta: { name?: string; description?: string }): Workflow {
    return toWorkflow(this.snapshot(), meta);
  }

  // ---- building the graph ----

  /** Adds a snapshot's nodes (made already, or made here) at their places, then its links. */
  private add(snapshot: GraphSnapshot, nodes = makeNodes(snapshot, this.catalog)): Promise<PicNode[]> {
    return addSnapshot(this.editor, this.area, snapshot, nodes);
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
      this.sockets.clear();
      this.ctx.runStates.clear();
      this.ctx.issues.clear();
      const snapshot = fromWorkflow(workflow);
      const nodes = makeNodes(snapshot, this.catalog);
      // Frame the graph before its nodes mount, so a large one mounts at the zoom it is shown at
      // (zoomed out, its nodes draw without widgets, and their heights are known without measuring).
      await this.camera.frameOpened(nodes.map((node, i) => ({ x: snapshot.nodes[i].x, y: snapshot.nodes[i].y, w: node.width, h: node.height })));
      await this.add(snapshot, nodes);
    });
    this.history.clear();
    this.fields.breakStep();
    // Nodes shown in full grow by their widgets: frame them again once they are drawn and measured.
    if (!this.ctx.lite.get() && this.editor.getNodes().length > 0) {
      await this.settled();
      await this.camera.frameOpened();
    }
  }

  /**
   * Adds a node of a type. `at` is where its top-left corner goes; with `centred`, the point its
   * middle goes to. Either way it moves down past any node it would cover.
   */
  async addNode(type: string, at?: { x: number; y: number }, options: { centred?: boolean } = {}): Promise<string | null> {
    const spec = this.catalog.get(type);
    if (!spec) return null;
    const id = freshId(type, (taken) => Boolean(this.editor.getNode(taken)));
    const size = { w: NODE_WIDTH, h: bareHeight(spec.inputs.length, spec.outputs.length) };
    let position = at ?? this.camera.viewportCenter();
    if (at && options.centred) position = { x: at.x - size.w / 2, y: at.y - size.h / 2 };
    position = freeSpot({ ...position, ...size }, this.editor.getNodes().map((n) => this.box(n)));
    this.history.separate();
    await this.add({ nodes: [{ id, type, params: {}, x: position.x, y: position.y }], links: [] });
    await this.selection.select(id, false);
    return id;
  }

  /** Pans so a node just added is in sight, once it is drawn with its widgets (and so at its height). */
  async bringIntoView(id: string): Promise<void> {
    await this.settled();
    await this.camera.reveal(id);
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
    const remapped = remapFragment(snapshot, (id) => Boolean(this.editor.getNode(id)), at);
    this.history.separate();
    const added = await this.add(remapped);
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

  /** Spreads out nodes that overlap (see placement.ts); returns how many moved. */
  async spreadOverlaps(): Promise<number> {
    await this.settled();
    const moved = spreadOut(this.editor.getNodes().map((n) => ({ id: n.id, ...this.box(n) })));
    for (const box of moved) await this.area.translate(box.id, { x: box.x, y: box.y });
    return moved.length;
  }

  /** Lays the graph out with ELK; the layout engine is downloaded on first use. */
  async arrange(): Promise<void> {
    const { arrange } = await import('./arrange');
    this.history.separate();
    await arrange(this.editor, this.area);
    await this.camera.fit();
  }

  destroy(): void {
    for (const fn of this.cleanups) fn();
    this.area.destroy();
  }
}
