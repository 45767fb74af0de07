#!/usr/bin/env node
// Runs every test file under test/ with node's own runner. Node 20's `--test`
// does not expand globs or find .ts files by itself, so we list them here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const only = process.argv.slice(2);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'fixtures') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

let files = walk(join(root, 'test')).sort();
if (only.length) files = files.filter((f) => only.some((o) => relative(root, f).includes(o)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// The CLI and process tests run the shipped bin, which loads dist/: rebuild it
// first (a fraction of a second) so no test ever runs a stale build.
const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit', cwd: root });
if (build.status !== 0) process.exit(build.status ?? 1);

// The fake nvidia-smi and the fake engine start hundreds of times per run.
// Under tsx each start transpiles its TypeScript again (0.4 s of CPU); bundled
// once here they start in a quarter of that, which is what keeps a loaded
// two-core machine from missing the daemon's 10 s nvidia-smi deadline. The
// bin scripts use a bundle only when this variable names its folder, so a
// test run by hand (without this script) never meets a stale one.
const fakes = join(root, 'dist', 'test-fakes');
const bundle = spawnSync(
  join(root, 'node_modules', '.bin', 'esbuild'),
  [
    `nvidia-smi=${join(root, 'test/fakes/nvidia-smi/main.ts')}`,
    `engine=${join(root, 'test/fakes/engine/main.ts')}`,
    '--bundle',
    '--platform=node',
    '--format=esm',
    '--out-extension:.js=.mjs',
    `--outdir=${fakes}`,
    '--log-level=warning',
  ],
  { stdio: 'inherit', cwd: root },
);
if (bundle.status !== 0) process.exit(bundle.status ?? 1);

const concurrency = process.env.BERTH_TEST_CONCURRENCY ?? '4';
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, FAKE_BUNDLE_DIR: fakes } },
);
process.exit(r.status ?? 1);
