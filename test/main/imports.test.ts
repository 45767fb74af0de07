// main/ talks to the daemon over HTTP only: from daemon/ it imports the
// contract and nothing else. The bridge imports nothing (the sandboxed preload
// and the renderer's DOM-only build both include it), and the preload only
// Electron and the bridge. Checked over the real import graph.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../helpers/daemon.js';

const MAIN = join(REPO, 'main');
const SPECIFIERS = /^(?:import|export)[^'"]*?from\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/gm;

function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(SPECIFIERS)].map((m) => {
    const spec = (m[1] ?? m[2])!;
    return spec.startsWith('.') ? relative(REPO, resolve(dirname(file), spec)) : spec;
  });
}

const files = readdirSync(MAIN).filter((n) => n.endsWith('.ts'));

describe('main/ imports', () => {
  it('from daemon/, only daemon/contract/', () => {
    const bad: string[] = [];
    for (const f of files) {
      for (const spec of importsOf(join(MAIN, f))) {
        if (spec.startsWith('daemon/') && !spec.startsWith('daemon/contract/')) bad.push(`main/${f} -> ${spec}`);
        if (spec.startsWith('renderer/')) bad.push(`main/${f} -> ${spec}`);
      }
    }
    assert.deepEqual(bad, []);
    assert.ok(files.some((f) => importsOf(join(MAIN, f)).some((s) => s.startsWith('daemon/contract/'))), 'the rule sees the contract imports');
  });

  it('the bridge imports nothing; the preload only electron and the bridge', () => {
    assert.deepEqual(importsOf(join(MAIN, 'bridge.ts')), []);
    assert.deepEqual(importsOf(join(MAIN, 'preload.ts')).sort(), ['electron', 'main/bridge.js']);
  });

  it('only index.ts loads electron and electron-store at run time; the rest takes them as parameters', () => {
    const runtime = /^import\s+(?!type\b)[^'"]*?from\s+'(electron|electron-store)'/m;
    const loaders = files.filter((f) => runtime.test(readFileSync(join(MAIN, f), 'utf8')));
    assert.deepEqual(loaders.sort(), ['index.ts', 'preload.ts']);
  });
});
