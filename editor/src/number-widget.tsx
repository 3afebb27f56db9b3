// A number param's widget: a number box that keeps what is typed until it reads as a number, a
// slider when the range is small, and a dice button for seeds.

import { useState, type ChangeEvent } from 'react';
import { stepFor } from './param-schema';
import type { Common, WidgetProps } from './widget-props';

const MAX_SEED = 2 ** 31 - 1;

export function NumberWidget(props: WidgetProps & { common: Common }) {
  const { kind, schema, shown, onChange, common } = props;
  const step = stepFor(kind, schema);
  // The box keeps what is typed (e.g. "0." or "-") until it reads as a number.
  const [draft, setDraft] = useState<string | null>(null);
  const text = draft ?? (typeof shown === 'number' ? String(shown) : '');
  const commit = (e: ChangeEvent<HTMLInputElement>) => {
    const raw = e.target.value;
    setDraft(raw);
    if (raw.trim() === '') return onChange(undefined);
    const n = Number(raw);
    if (Number.isFinite(n)) onChange(n);
  };
  const slider =
    kind !== 'seed' && schema.minimum !== undefined && schema.maximum !== undefined && schema.maximum - schema.minimum <= 1000;
  return (
    <div className="number-row">
      {slider && (
        <input
          className={typeof shown === 'number' ? undefined : 'unset'}
          type="range"
          aria-label={`${props.name} slider`}
          data-testid={`${props.testId}-slider`}
          min={schema.minimum}
          max={schema.maximum}
          step={step}
          value={typeof shown === 'number' ? shown : (schema.minimum ?? 0)}
          onChange={(e) => {
            setDraft(null);
            onChange(Number(e.target.value));
          }}
        />
      )}
      <input
        {...common}
        type="number"
        inputMode={kind === 'number' ? 'decimal' : 'numeric'}
        min={schema.minimum}
        max={schema.maximum}
        step={step}
        placeholder="default"
        value={text}
        onChange={commit}
        onBlur={() => setDraft(null)}
      />
      {kind === 'seed' && (
        <button
          type="button"
          className="icon-button"
          data-testid={`${props.testId}-randomise`}
          aria-label="randomise seed"
          title="randomise seed"
          onClick={() => {
            setDraft(null);
            const min = Math.max(0, schema.minimum ?? 0);
            const max = Math.min(MAX_SEED, schema.maximum ?? MAX_SEED);
            onChange(min + Math.floor(Math.random() * (max - min + 1)));
          }}
        >
          ⚄
        </button>
      )}
    </div>
  );
}
