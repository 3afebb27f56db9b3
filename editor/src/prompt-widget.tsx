// A prompt's text box that knows the model's words: it offers completions for the word being typed
// (Tab or a click takes the first / the clicked one) and names the words the model would refuse
// before anything runs.

import { useRef, useState, type KeyboardEvent } from 'react';
import { completions, unknownWords, type Vocabulary } from './vocabulary';

export interface PromptWidgetProps {
  common: Record<string, unknown> & { id: string };
  value: string;
  maxLength?: number;
  vocabulary: Vocabulary;
  testId: string;
  onChange(text: string): void;
}

/** The word the caret is at the end of, and where it starts. */
function wordAtCaret(text: string, caret: number): { start: number; word: string } {
  const before = text.slice(0, caret);
  const match = /[A-Za-z]+$/.exec(before);
  return match ? { start: caret - match[0].length, word: match[0] } : { start: caret, word: '' };
}

export function PromptWidget({ common, value, maxLength, vocabulary, testId, onChange }: PromptWidgetProps) {
  const box = useRef<HTMLTextAreaElement>(null);
  const [caret, setCaret] = useState<number | null>(null);
  const at = caret === null ? null : wordAtCaret(value, caret);
  const offered = at ? completions(at.word, vocabulary) : [];
  // The word being typed is not marked while it can still become a known one.
  const typing = at && caret !== null && offered.length > 0 ? { from: at.start, to: caret } : null;
  const unknown = unknownWords(typing ? value.slice(0, typing.from) + value.slice(typing.to) : value, vocabulary);

  const take = (word: string) => {
    if (!at || caret === null) return;
    const next = `${value.slice(0, at.start)}${word} ${value.slice(caret)}`;
    onChange(next);
    const position = at.start + word.length + 1;
    setCaret(position);
    requestAnimationFrame(() => box.current?.setSelectionRange(position, position));
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Tab' && offered.length > 0) {
      e.preventDefault();
      take(offered[0]);
    } else if (e.key === 'Escape') setCaret(null);
  };

  return (
    <div className="prompt-widget">
      <textarea
        {...common}
        ref={box}
        rows={2}
        maxLength={maxLength}
        value={value}
        onChange={(e) => {
          setCaret(e.target.selectionStart);
          onChange(e.target.value);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => setTimeout(() => setCaret(null), 150)}
      />
      {offered.length > 0 && (
        <ul className="completions" role="listbox" data-testid={`${testId}-completions`}>
          {offered.map((word, i) => (
            <li key={word} role="option" aria-selected={i === 0}>
              <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={() => take(word)}>
                {word}
              </button>
            </li>
          ))}
        </ul>
      )}
      {unknown.length > 0 && (
        <div className="field-issue unknown-words" role="status" data-testid={`${testId}-unknown`}>
          the model does not know: {unknown.join(', ')}
        </div>
      )}
    </div>
  );
}
