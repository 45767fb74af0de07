#!/usr/bin/env node
// Compiles daemon/**/*.ts to dist/daemon/**/*.js, file for file, so the `berth`
// command runs plain JavaScript instead of paying tsx's transpile at every run,
// then bundles the UI (renderer/) into dist/renderer with Vite, which the
// daemon serves at `/`, and the Electron main process into dist/main
// (scripts/build-main.mjs). Both run on `npm ci` (through `prepare`) and before
// every `npm test`, so a fresh clone serves the UI and no test sees a stale one.
// esbuild rather than tsc: it only strips types (tsconfig's isolatedModules and
// verbatimModuleSyntax make that exact), a full build takes a fraction of a
// second where even tsc's no-op incremental rebuild takes seconds, so
// `npm test` can rebuild every time and never run a stale dist/. Types are
// checked by `npm run typecheck`, not here.
import { readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { build as viteBuild } from 'vite';
import { buildMain } from './build-main.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'daemon');
const out = join(root, 'dist/daemon');

function walk(dir, keep) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? walk(p, keep) : keep(e.name) ? [p] : [];
  });
}

const entryPoints = walk(src, (n) => n.endsWith('.ts') && !n.endsWith('.d.ts'));
const result = await build({
  entryPoints,
  outbase: src,
  outdir: out,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  logLevel: 'warning',
  absWorkingDir: root,
  write: true,
  metafile: true,
});

// A source deleted or renamed since the last build must not leave a module in
// dist/ that still imports and runs.
const built = new Set(Object.keys(result.metafile.outputs).map((p) => join(root, p)));
for (const f of walk(out, (n) => n.endsWith('.js'))) {
  if (!built.has(f)) rmSync(f);
}
if (process.argv.includes('--verbose')) console.log(`built ${built.size} files into ${relative(root, out)}/`);

// `--daemon` skips the UI and the desktop app, for scripts that time only the CLI.
if (!process.argv.includes('--daemon')) {
  await buildMain(root);
  if (process.argv.includes('--verbose')) console.log('built the Electron main process into dist/main/');

  await viteBuild({ configFile: join(root, 'renderer/vite.config.ts'), logLevel: 'warn', root: join(root, 'renderer') });
  if (process.argv.includes('--verbose')) console.log('built the UI into dist/renderer/');
}
