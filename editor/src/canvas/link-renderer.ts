// Links drawn as plain SVG, without React: a link is one path whose ends follow its sockets. (Rete's
// React preset gives every link a React root of its own, the largest cost of opening a big graph.)

import type { NodeEditor } from 'rete';
import type { BaseAreaPlugin } from 'rete-area-plugin';
import { classicConnectionPath } from 'rete-render-utils';
import type { Schemes } from './node';
import { socketColour } from './socket-colors';
import type { FixedSocketPositions } from './socket-positions';

type Point = { x: number; y: number };
type Payload = Schemes['Connection'];

const SVG = 'http://www.w3.org/2000/svg';

class LinkView {
  private readonly svg = document.createElementNS(SVG, 'svg');
  private readonly path = document.createElementNS(SVG, 'path');
  private start: Point | null = null;
  private end: Point | null = null;
  private stops: (() => void)[] = [];
  private watching = '';

  constructor(element: HTMLElement) {
    this.svg.classList.add('pf-link');
    this.svg.append(this.path);
    element.append(this.svg);
  }

  update(payload: Payload, editor: NodeEditor<Schemes>, sockets: FixedSocketPositions, start?: Point, end?: Point): void {
    const key = `${payload.source}:${String(payload.sourceOutput)}>${payload.target}:${String(payload.targetInput)}`;
    if (key !== this.watching) {
      this.watching = key;
      this.stopWatching();
      if (payload.source && !start) this.stops.push(sockets.listen(payload.source, 'output', String(payload.sourceOutput), (p) => this.set('start', p)));
      if (payload.target && !end) this.stops.push(sockets.listen(payload.target, 'input', String(payload.targetInput), (p) => this.set('end', p)));
      const type = payload.source
        ? editor.getNode(payload.source)?.outputType(String(payload.sourceOutput))
        : editor.getNode(payload.target)?.inputType(String(payload.targetInput));
      this.path.style.stroke = type ? socketColour(type) : '';
      this.svg.dataset.testid = payload.isPseudo ? 'pseudo-link' : `link-${key.replace(/[:>]/g, '-')}`;
    }
    if (start) this.start = start;
    if (end) this.end = end;
    this.draw();
  }

  private set(which: 'start' | 'end', p: Point): void {
    this[which] = p;
    this.draw();
  }

  private draw(): void {
    if (this.start && this.end) this.path.setAttribute('d', classicConnectionPath([this.start, this.end], 0.3));
  }

  private stopWatching(): void {
    for (const stop of this.stops) stop();
    this.stops = [];
  }

  destroy(): void {
    this.stopWatching();
    this.svg.remove();
  }
}

type LinkSignal =
  | { type: 'render'; data: { type: string; element: HTMLElement; payload: Payload; start?: Point; end?: Point } }
  | { type: 'unmount'; data: { element: HTMLElement } };

/**
 * Renders every link of the area as plain SVG, and marks each one filled so that no other renderer
 * draws it again.
 */
export function renderLinks(area: BaseAreaPlugin<Schemes, unknown>, editor: NodeEditor<Schemes>, sockets: FixedSocketPositions): void {
  const views = new Map<HTMLElement, LinkView>();
  area.addPipe((context) => {
    const c = context as LinkSignal;
    if (c.type === 'render' && c.data.type === 'connection') {
      let view = views.get(c.data.element);
      if (!view) views.set(c.data.element, (view = new LinkView(c.data.element)));
      view.update(c.data.payload, editor, sockets, c.data.start, c.data.end);
      return { ...c, data: { ...c.data, filled: true } } as typeof context;
    }
    if (c.type === 'unmount') {
      views.get(c.data.element)?.destroy();
      views.delete(c.data.element);
    }
    return context;
  });
}
