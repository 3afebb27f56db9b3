// The node palette: searchable, grouped by category; click or Enter adds a node, dragging one onto
// the canvas drops it where it is let go.

import { useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { socketColour } from './canvas/socket-colors';
import type { CatalogEntry } from '../../engine/contract';

export const NODE_DRAG_TYPE = 'application/x-picflow-node';

const CATEGORY_ORDER = ['text', 'model', 'image', 'logic', 'utility', 'output'];

function rank(category: string): number {
  const i = CATEGORY_ORDER.indexOf(category);
  return i === -1 ? CATEGORY_ORDER.length : i;
}

export function matches(entry: CatalogEntry, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  const words = q.split(/\s+/);
  const hay = `${entry.type} ${entry.category} ${entry.description} ${entry.outputs.map((o) => o.type).join(' ')}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}

export function groupCatalog(catalog: CatalogEntry[], query: string): [string, CatalogEntry[]][] {
  const groups = new Map<string, CatalogEntry[]>();
  for (const entry of catalog) {
    if (!matches(entry, query)) continue;
    const list = groups.get(entry.category) ?? [];
    list.push(entry);
    groups.set(entry.category, list);
  }
  return [...groups].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

export function Palette({
  catalog,
  onAdd,
  autoFocus,
  testId = 'palette',
  onEscape,
}: {
  catalog: CatalogEntry[];
  onAdd(type: string): void;
  autoFocus?: boolean;
  testId?: string;
  onEscape?(): void;
}) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const groups = useMemo(() => groupCatalog(catalog, query), [catalog, query]);
  const flat = groups.flatMap(([, list]) => list);
  const listRef = useRef<HTMLDivElement>(null);
  const current = flat[Math.min(active, flat.length - 1)];

  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = (active + (e.key === 'ArrowDown' ? 1 : -1) + flat.length) % Math.max(flat.length, 1);
      setActive(next);
      listRef.current?.querySelector(`[data-index="${next}"]`)?.scrollIntoView({ block: 'nearest' });
    } else if (e.key === 'Enter' && current) {
      e.preventDefault();
      onAdd(current.type);
      // Back to the canvas, where the new node is selected: the next keys (L, F2, arrows) act on it.
      setQuery('');
      e.currentTarget.blur();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      // The first Escape clears the search, the next one leaves it (or closes the menu it is in).
      if (query) setQuery('');
      else if (onEscape) onEscape();
      else e.currentTarget.blur();
    }
  };

  let index = 0;
  return (
    <div className="palette" data-testid={testId}>
      <input
        type="search"
        className="palette-search"
        data-testid={`${testId}-search`}
        placeholder="Search nodes…"
        aria-label="search nodes"
        autoFocus={autoFocus}
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={onKey}
      />
      <div className="palette-list" ref={listRef} role="listbox" aria-label="node types">
        {groups.length === 0 && <p className="muted">No node matches “{query}”.</p>}
        {groups.map(([category, list]) => (
          <section key={category} className="palette-group">
            <h3>{category}</h3>
            {list.map((entry) => {
              const i = index++;
              return (
                <button
                  key={entry.type}
                  type="button"
                  role="option"
                  aria-selected={current?.type === entry.type}
                  data-index={i}
                  className={`palette-item${current?.type === entry.type ? ' active' : ''}`}
                  data-testid={`${testId}-item-${entry.type}`}
                  title={entry.description}
                  draggable
                  onDragStart={(e) => {
                    e.dataTransfer.setData(NODE_DRAG_TYPE, entry.type);
                    e.dataTransfer.setData('text/plain', entry.type);
                    e.dataTransfer.effectAllowed = 'copy';
                  }}
                  onMouseEnter={() => setActive(i)}
                  onClick={() => onAdd(entry.type)}
                >
                  <span className="palette-type">{entry.type}</span>
                  <span className="palette-sockets">
                    {entry.outputs.map((o) => (
                      <span key={o.name} className="dot" style={{ background: socketColour(o.type) }} title={`${o.name}: ${o.type}`} />
                    ))}
                  </span>
                  <span className="palette-desc">{entry.description}</span>
                </button>
              );
            })}
          </section>
        ))}
      </div>
    </div>
  );
}
