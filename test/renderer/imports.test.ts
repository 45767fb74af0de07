// The UI talks to the daemon only over HTTP, through the contract's types: no
// module of renderer/ may import the daemon's own code or a Node builtin. From
// main/ it may read only the preload bridge's types (`window.berthDesktop` in
// the desktop window), with `import type`/`export type`, so none of main's
// code reaches the bundle a browser loads.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(ROOT, 'renderer', 'src');
const SPECIFIERS = /^(?:import|export)(\s+type\b)?[^'"]*?from\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)|^import\s+'([^']+)'/gm;
const BRIDGE = 'main/bridge.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : /\.tsx?$/.test(p) ? [p] : [];
  });
}

describe('renderer imports', () => {
  it('reach into daemon/ only for daemon/contract, into main/ only for the bridge\'s types, and never into Node', () => {
    const bad: string[] = [];
    for (const f of files(SRC)) {
      for (const m of readFileSync(f, 'utf8').matchAll(SPECIFIERS)) {
        const typeOnly = m[1] !== undefined;
        const spec = (m[2] ?? m[3] ?? m[4])!;
        const where = relative(ROOT, f);
        if (spec.startsWith('node:')) bad.push(`${where} imports ${spec}`);
        if (!spec.startsWith('.')) continue;
        const target = relative(ROOT, resolve(dirname(f), spec));
        if (target === BRIDGE) {
          if (!typeOnly) bad.push(`${where} imports ${target} for more than its types (use import type)`);
          continue;
        }
        if (!target.startsWith('renderer/') && !target.startsWith('daemon/contract/')) bad.push(`${where} imports ${target}`);
      }
    }
    assert.deepEqual(bad, []);
  });
});
