#!/usr/bin/env node
// Bundles the Electron main process (main/index.ts → dist/main/index.js, ESM,
// which Electron 41 runs natively) and the window's preload (main/preload.ts →
// dist/main/preload.cjs: a sandboxed renderer loads preloads as CommonJS
// only). Both are single files with every dependency inside except `electron`
// itself, so the packaged app's main needs nothing from node_modules (those
// are the daemon's, unpacked from the asar; see electron-builder.yml).
// Run by scripts/build.mjs; alone: node scripts/build-main.mjs.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export async function buildMain(root) {
  const common = { bundle: true, platform: 'node', external: ['electron'], logLevel: 'warning', absWorkingDir: root, legalComments: 'none' };
  await build({
    ...common,
    entryPoints: [join(root, 'main/index.ts')],
    outfile: join(root, 'dist/main/index.js'),
    format: 'esm',
    target: 'node22',
    // CommonJS packages bundled into ESM (ajv, under electron-store) call require().
    banner: { js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);" },
  });
  await build({
    ...common,
    entryPoints: [join(root, 'main/preload.ts')],
    outfile: join(root, 'dist/main/preload.cjs'),
    format: 'cjs',
    target: 'chrome130',
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildMain(fileURLToPath(new URL('..', import.meta.url)));
}
