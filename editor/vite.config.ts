import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The editor is a static app served by the picflow server from dist/editor at `/`.
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  resolve: {
    // elkjs's Node entry probes for worker threads with require.resolve; the browser build is self-contained.
    alias: [{ find: /^elkjs$/, replacement: 'elkjs/lib/elk.bundled.js' }],
  },
  build: {
    outDir: fileURLToPath(new URL('../dist/editor', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    // elkjs (auto-arrange) is large and loaded on demand; keep the warning for anything else.
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `vite --config editor/vite.config.ts` during development proxies the API to a running `picflow serve`.
    proxy: {
      '/api': 'http://127.0.0.1:8188',
      '/hooks': 'http://127.0.0.1:8188',
      '/socket.io': { target: 'ws://127.0.0.1:8188', ws: true },
    },
  },
});
