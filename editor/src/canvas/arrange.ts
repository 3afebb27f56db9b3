// Auto-arrange with ELK. This module (and elkjs, ~1.5 MB) is loaded only when the user asks for a
// layout: the canvas imports it with `import()`.

import type { NodeEditor } from 'rete';
import type { AreaPlugin } from 'rete-area-plugin';
import { AutoArrangePlugin, Presets } from 'rete-auto-arrange-plugin';
import type { Schemes } from './node';

const attached = new WeakMap<object, AutoArrangePlugin<Schemes>>();

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
}
