// The part of a node drawn with React: its param widgets and its last results. It is mounted only
// when the node is shown in full (see node-renderer.ts); the frame around it is plain DOM.

import { useState, type SyntheticEvent } from 'react';
import { OutputsView } from '../outputs-view';
import { resolveSchema, widgetKind } from '../param-schema';
import { ParamField } from '../schema-widgets';
import { useKeyed, useValue } from '../store';
import type { JsonSchema } from '../../../engine/contract';
import type { ModelChoice } from '../types';
import type { PicNode } from './node';
import { showsOutputs, splitIssues } from './node-state';
import type { ViewContext } from './view-context';
import { vocabularyFor, type Vocabulary } from '../vocabulary';

const stop = (e: SyntheticEvent) => e.stopPropagation();
/** Lets widgets take the pointer, wheel and double-click without dragging, selecting or zooming. */
const interactive = { onPointerDown: stop, onDoubleClick: stop, onWheel: stop, onContextMenu: stop };

/** An image to upload is what a node like `load-image` needs first: its drop zone never folds. */
function isFoldable(name: string, schema: JsonSchema): boolean {
  return widgetKind(name, schema) !== 'artifact' && resolveSchema(schema).default === undefined && schema.default === undefined;
}

/** Upload zones first, then the params in the catalog's order. */
function byWidget([a, sa]: [string, JsonSchema], [b, sb]: [string, JsonSchema]): number {
  return Number(widgetKind(b, sb) === 'artifact') - Number(widgetKind(a, sa) === 'artifact');
}

/** The words a node's text params may use: its own model's, or those every model knows. */
function vocabularyOfNode(node: PicNode, all: Map<string, Vocabulary>): Vocabulary {
  const model = node.params.model ?? node.spec?.params.properties?.model?.default;
  return vocabularyFor(all, typeof model === 'string' ? model : undefined);
}

export function makeBody(ctx: ViewContext) {
  function NodeBody({ node }: { node: PicNode }) {
    useKeyed(ctx.versions, node.id);
    const state = useKeyed(ctx.runStates, node.id);
    const issues = useKeyed(ctx.issues, node.id);
    const models = useValue(ctx.models);
    const vocabularies = useValue(ctx.vocabularies);
    const properties = node.spec?.params.properties ?? {};
    return (
      <div {...interactive}>
        {Object.keys(properties).length > 0 && <Params node={node} properties={properties} issues={splitIssues(issues).params} models={models} vocabulary={vocabularyOfNode(node, vocabularies)} />}
        {state?.outputs && showsOutputs(node) && <OutputsView outputs={state.outputs} nodeId={node.id} />}
      </div>
    );
  }

  /**
   * The node's param widgets. Params that are unset and have no default of their own (the model's
   * sampling settings, say) fold under "more" until opened, to keep nodes short; image uploads
   * come first and never fold.
   */
  function Params({
    node,
    properties,
    issues,
    models,
    vocabulary,
  }: {
    node: PicNode;
    properties: Record<string, JsonSchema>;
    issues: Map<string, string>;
    models: ModelChoice[];
    vocabulary: Vocabulary;
  }) {
    const [open, setOpen] = useState(false);
    const entries = Object.entries(properties).sort(byWidget);
    const folded = entries.filter(([name, schema]) => isFoldable(name, schema) && node.params[name] === undefined && !issues.has(name));
    const shown = open ? entries : entries.filter((e) => !folded.includes(e));
    return (
      <div className="pf-params">
        {shown.map(([name, schema]) => (
          <ParamField
            key={name}
            nodeId={node.id}
            name={name}
            schema={schema}
            value={node.params[name]}
            issue={issues.get(name)}
            models={models}
            vocabulary={vocabulary}
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

  return NodeBody;
}
