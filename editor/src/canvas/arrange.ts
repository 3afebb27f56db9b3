// Auto-arrange with ELK. This module (and elkjs, ~1.5 MB) is loaded only when the user asks for a
// layout: the canvas imports it with `import()`. ELK lays out the linked nodes; nodes with no link
// (which it would stack in one tall column) go in a grid under them.

import type { NodeEditor } from 'rete';
import type { AreaPlugin } from 'rete-area-plugin';
import { AutoArrangePlugin, Presets } from 'rete-auto-arrange-plugin';
import type { Schemes } from './node';

const attached = new WeakMap<object, AutoArrangePlugin<Schemes>>();
const GAP = 48;

export async function arrange(editor: NodeEditor<Schemes>, // eslint-disable-next-line @typescript-eslint/no-explicit-any
  area: AreaPlugin<Schemes, any>): Promise<void> {
  let plugin = attached.get(area);
  if (!plugin) {
    plugin = new AutoArrangePlugin<Schemes>();
    plugin.addPreset(Presets.classic.setup({ spacing: 24, top: 72, bottom: 16 }));
    area.use(plugin);
    attached.set(area, plugin);
  }
  if (editor.getNodes().length === 0) return;
  await plugin.layout({
    options: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.spacing.nodeNode': '48',
      'elk.layered.spacing.nodeNodeBetweenLayers': '72',
    },
  });
  await gridUnlinked(editor, area);
}

/** Places the nodes that have no link in a near-square grid below the linked ones. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function gridUnlinked(editor: NodeEditor<Schemes>, area: AreaPlugin<Schemes, any>): Promise<void> {
  const linked = new Set(editor.getConnections().flatMap((c) => [c.source, c.target]));
  const loose = editor.getNodes().filter((n) => !linked.has(n.id));
  if (loose.length < 2) return;
  const placed = editor.getNodes().filter((n) => linked.has(n.id));
  const at = (id: string) => area.nodeViews.get(id)?.position ?? { x: 0, y: 0 };
  const left = placed.length ? Math.min(...placed.map((n) => at(n.id).x)) : 0;
  const top = placed.length ? Math.max(...placed.map((n) => at(n.id).y + n.height)) + GAP * 1.5 : 0;
  const columns = Math.ceil(Math.sqrt(loose.length));
  const cellW = Math.max(...loose.map((n) => n.width)) + GAP;
  const rows: number[] = [];
  for (let i = 0; i < loose.length; i += columns) rows.push(Math.max(...loose.slice(i, i + columns).map((n) => n.height)) + GAP);
  let y = top;
  for (const [r, rowHeight] of rows.entries()) {
    for (const [c, node] of loose.slice(r * columns, (r + 1) * columns).entries()) await area.translate(node.id, { x: left + c * cellW, y });
    y += rowHeight;
  }
}
