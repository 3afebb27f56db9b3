// The dialog that asks for an API token when the server wants one (see auth.ts).

import { useState } from 'react';
import { tokenQuestion } from './auth';
import { DialogActions, Modal } from './modal';
import { useValue } from './store';

/** Asks for the API token when the server wants one (see auth.ts). */
export function TokenDialog() {
  const question = useValue(tokenQuestion);
  const [token, setToken] = useState('');
  if (!question) return null;
  const decline = () => question.answer(null);
  return (
    <Modal title="API token" onClose={decline} testId="token-dialog">
      <form
        onKeyDown={(e) => {
          if (e.key !== 'Escape') return;
          e.preventDefault(); // the editor's own Escape handling leaves it alone
          decline();
        }}
        onSubmit={(e) => {
          e.preventDefault();
          const entered = token.trim();
          if (!entered) return;
          setToken('');
          question.answer(entered);
        }}
      >
        <p className="muted">This server needs an API token. Create one on the server with <code>picflow token create</code>; it is kept in this browser.</p>
        {question.reason && (
          <p className="error-text" data-testid="token-reason">
            {question.reason}
          </p>
        )}
        <label className="stack">
          Token
          <input autoFocus type="password" autoComplete="off" data-testid="token-input" value={token} onChange={(e) => setToken(e.target.value)} placeholder="pf_…" />
        </label>
        <DialogActions onCancel={decline} label="Use token" testId="token-confirm" />
      </form>
    </Modal>
  );
}
