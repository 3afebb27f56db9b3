// The camera: zoom and pan of the canvas, framing boxes and nodes, the level of detail drawn at each
// zoom, and conversions between screen and graph coordinates. Computed from kept sizes, never from
// the DOM where avoidable (reading a box would force a layout of the whole graph).

import type { AreaPlugin } from 'rete-area-plugin';
import type { ViewContext } from './view-context';

/**
 * How much of a node is drawn, by zoom: in full; without widgets (ViewContext.lite); and far out,
 * where text would be under 4 px, without its port labels and status line too (the browser then
 * lays out a large graph in half the time).
 */
const DETAIL = { liteBelow: 0.45, farBelow: 0.3 };
/** The zoom range, for the pointer (restrictor), the buttons and framing a loaded graph alike. */
export const ZOOM = { min: 0.08, max: 2.5 };
/** Fitting leaves this share of the view to the graph. */
const FIT_SCALE = 0.9;
/** Fit (the button, F) never zooms out past where widgets and text stay readable; it pans instead. */
const READABLE_ZOOM = 0.5;
/** Where a graph too big to fit readably starts, from the view's top-left corner (screen px). */
const MARGIN = 40;
/**
 * A graph opened that would cover at most this many views at the readable zoom opens readable, at its
 * start; a bigger one opens framed whole, as an overview (and without mounting every node's widgets).
 */
const OPEN_READABLE_VIEWS = 4;

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The nodes as the camera frames them, and the canvas's size changes. */
export interface CameraHost {
  /** The boxes of the nodes named (all when none are). */
  boxes(ids?: string[]): Box[];
  element(id: string): HTMLElement | undefined;
  resized(): void;
}

/** The box around boxes. */
function bounds(boxes: Box[]): Box {
  const x = Math.min(...boxes.map((b) => b.x));
  const y = Math.min(...boxes.map((b) => b.y));
  return { x, y, w: Math.max(...boxes.map((b) => b.x + b.w)) - x, h: Math.max(...boxes.map((b) => b.y + b.h)) - y };
}

export class Camera {
  /** The container's size, kept by a ResizeObserver (reading it would force a layout mid-render). */
  private size = { width: 0, height: 0 };
  private readonly observer: ResizeObserver;

  constructor(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private readonly area: AreaPlugin<any, any>,
    private readonly container: HTMLElement,
    private readonly ctx: ViewContext,
    private readonly host: CameraHost,
  ) {
    this.size = { width: container.clientWidth, height: container.clientHeight };
    this.observer = new ResizeObserver(([entry]) => {
      this.size = { width: entry.contentRect.width, height: entry.contentRect.height };
      host.resized();
    });
    this.observer.observe(container);
  }

  dispose(): void {
    this.observer.disconnect();
  }

  private get transform() {
    return this.area.area.transform as { x: number; y: number; k: number };
  }

  /** Styled by the container's `data-detail` (full, lite or far). */
  setDetail(zoom: number): void {
    const detail = zoom >= DETAIL.liteBelow ? 'full' : zoom >= DETAIL.farBelow ? 'lite' : 'far';
    if (this.container.dataset.detail !== detail) this.container.dataset.detail = detail;
    this.ctx.lite.set(detail !== 'full');
  }

  /** The canvas's size on screen (px). */
  viewSize(): { width: number; height: number } {
    return { ...this.size };
  }

  /** The visible part of the graph, in graph coordinates. */
  viewport(): Box {
    const { x, y, k } = this.transform;
    return { x: -x / k, y: -y / k, w: this.size.width / k, h: this.size.height / k };
  }

  /** How far a box (graph coordinates) is from the visible part of the canvas, in screen pixels (0 when any of it shows). */
  distanceFromView(box: Box): number {
    const { x, y, k } = this.transform;
    const left = box.x * k + x;
    const top = box.y * k + y;
    const dx = Math.max(0, -(left + box.w * k), left - this.size.width);
    const dy = Math.max(0, -(top + box.h * k), top - this.size.height);
    return Math.hypot(dx, dy);
  }

  /** Pans so that a graph point is in the middle of the view. */
  async centreOn(point: { x: number; y: number }): Promise<void> {
    const { k } = this.transform;
    await this.area.area.translate(this.size.width / 2 - point.x * k, this.size.height / 2 - point.y * k);
  }

  /**
   * Zooms and pans so that boxes (graph coordinates) fill the view. When that would take a zoom under
   * `minZoom`, it zooms to `minZoom` and shows the boxes' top-left part (where a graph starts).
   */
  private async frame(boxes: Box[], maxZoom = ZOOM.max, minZoom = ZOOM.min): Promise<void> {
    if (boxes.length === 0) return;
    const { x: left, y: top, w: width, h: height } = bounds(boxes);
    const view = this.size;
    const fitting = FIT_SCALE * Math.min(view.width / width, view.height / height);
    const k = Math.min(maxZoom, Math.max(minZoom, ZOOM.min, fitting));
    const t = this.transform;
    const wide = width * k > view.width - 2 * MARGIN;
    const tall = height * k > view.height - 2 * MARGIN;
    t.x = wide ? MARGIN - left * k : view.width / 2 - (left + width / 2) * k;
    t.y = tall ? MARGIN - top * k : view.height / 2 - (top + height / 2) * k;
    await this.area.area.zoom(k, 0, 0);
  }

  /** Frames the nodes (all, or some), at a zoom where their text stays readable. */
  async fit(ids?: string[]): Promise<void> {
    await this.frame(this.host.boxes(ids), undefined, READABLE_ZOOM);
  }

  /**
   * Frames a graph just opened (by default the nodes as drawn), never zoomed in past 100%: readable
   * at its start when it is not too big to find one's way in that way, else whole.
   */
  async frameOpened(boxes = this.host.boxes()): Promise<void> {
    if (boxes.length === 0) return;
    const { w, h } = bounds(boxes);
    const readable = w * h * READABLE_ZOOM ** 2 <= OPEN_READABLE_VIEWS * this.size.width * this.size.height;
    await this.frame(boxes, 1, readable ? READABLE_ZOOM : ZOOM.min);
  }

  /** Pans so a node is in view, keeping the zoom. */
  async reveal(id: string): Promise<void> {
    const el = this.host.element(id);
    if (!el) return;
    const box = el.getBoundingClientRect();
    const view = this.container.getBoundingClientRect();
    if (box.left >= view.left && box.right <= view.right && box.top >= view.top && box.bottom <= view.bottom) return;
    const { x, y } = this.transform;
    await this.area.area.translate(x + (view.left + view.width / 2 - (box.left + box.width / 2)), y + (view.top + view.height / 2 - (box.top + box.height / 2)));
  }

  /** Zooms to a scale, keeping the middle of the view where it is. */
  async zoomTo(scale: number): Promise<void> {
    await this.zoomBy(scale / this.transform.k);
  }

  async zoomBy(factor: number): Promise<void> {
    const { x, y, k } = this.transform;
    const next = Math.min(ZOOM.max, Math.max(ZOOM.min, k * factor));
    // Keeps the middle of the view where it is (the area moves by the offset times the relative change).
    const delta = next / k - 1;
    await this.area.area.zoom(next, (x - this.size.width / 2) * delta, (y - this.size.height / 2) * delta);
  }

  async pan(dx: number, dy: number): Promise<void> {
    const { x, y } = this.transform;
    await this.area.area.translate(x + dx, y + dy);
  }

  /** The graph coordinates at the middle of the visible canvas. */
  viewportCenter(): { x: number; y: number } {
    const rect = this.container.getBoundingClientRect();
    return this.clientToGraph(rect.left + rect.width / 2 - 120, rect.top + rect.height / 2 - 80);
  }

  clientToGraph(clientX: number, clientY: number): { x: number; y: number } {
    const rect = this.container.getBoundingClientRect();
    const { x, y, k } = this.transform;
    return { x: (clientX - rect.left - x) / k, y: (clientY - rect.top - y) / k };
  }
}
