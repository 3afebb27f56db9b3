// The editor's entry point: makes the controller and renders the app.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { Controller } from './controller';
import './styles.css';

const controller = new Controller();
// Tests and the bench read the editor's state through this handle; the UI never needs it.
(window as unknown as { picflow: Controller }).picflow = controller;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App controller={controller} />
  </StrictMode>,
);
