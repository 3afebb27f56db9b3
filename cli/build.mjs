// Builds the CLI into dist/cli: one ES module per lazily imported part (code splitting), packages left to
// node_modules, so `bin/picflow.js` runs plain JavaScript with no TypeScript compiler at run time and each
// command loads only what it imports. Run by `npm run build:cli` (and so by `npm install`, `npm test`, `npm start`).
import { readFileSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = resolve(root, 'dist', 'cli');

/**
 * Sources find files next to themselves with `new URL('../../models', import.meta.url)` or
 * `join(import.meta.dirname, 'page')`. Bundled, their code lives in dist/cli, so each source's
 * `import.meta.url`, `.filename` and `.dirname` become what its own file would have had: the relative
 * layout of the checkout (models/, workflows/, dist/editor/, server/apps/page/, package.json) keeps working.
 */
const IMPORT_META_PLACE = /\bimport\.meta\.(url|filename|dirname)\b/g;
const PATH_HELPERS = "import { fileURLToPath as __sourcePath } from 'node:url';\nimport { dirname as __sourceDir } from 'node:path';\n";
const sourceUrls = {
  name: 'source-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.')) return undefined;
      const ownUrl = `new URL(${JSON.stringify(relative(outdir, args.path).split('\\').join('/'))}, import.meta.url)`;
      const place = { url: `${ownUrl}.href`, filename: `__sourcePath(${ownUrl})`, dirname: `__sourceDir(__sourcePath(${ownUrl}))` };
      const contents = text.replace(IMPORT_META_PLACE, (_whole, name) => place[name]);
      // The path helpers only for a source that asks for a path, not only a URL.
      const helpers = /import\.meta\.(filename|dirname)\b/.test(text) ? PATH_HELPERS : '';
      return { contents: helpers + contents, loader: 'ts' };
    });
  },
};

/**
 * Packages bundled in rather than imported from node_modules. zod is imported by every command that reads a
 * workflow, and as ES modules it is 95 files for Node to resolve and load (a fifth of `picflow validate`'s
 * start-up); zod-openapi comes along because it is zod's one other user, so both share one copy of zod.
 */
const BUNDLED = new Set(['zod', 'zod-openapi']);
const manifest = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const external = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter((name) => !BUNDLED.has(name));

// Built into a fresh folder beside dist/cli and swapped in: chunk names carry content hashes, so no stale
// chunk may stay behind, and a `picflow serve` running from dist/cli (it imports chunks lazily) or a second
// build must not find the folder emptied or half-written for the length of a build.
const staging = `${outdir}.next-${process.pid}`;
const retired = `${outdir}.old-${process.pid}`;
await rm(staging, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  // the CLI, and the thread a worker model lane runs (engine/runtime/lanes.ts starts it)
  entryPoints: { picflow: 'cli/picflow.ts', 'lane-worker': 'engine/runtime/lane-worker.ts' },
  define: { PICFLOW_COMPILED: 'true' },
  outdir: staging,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [sourceUrls],
});
await rename(outdir, retired).catch(unless('ENOENT'));
// A build running alongside may have put its own folder in place between the two renames: it was built from
// the same sources, so it stays and this one goes.
await rename(staging, outdir).catch(unless('ENOTEMPTY', 'EEXIST'));
await Promise.all([rm(retired, { recursive: true, force: true }), rm(staging, { recursive: true, force: true })]);

/** A catch handler that lets errors with these codes pass and throws any other. */
function unless(...codes) {
  return (err) => {
    if (!codes.includes(err.code)) throw err;
  };
}
