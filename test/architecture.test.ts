// STYLE.md: lower layers never import upward. Checked over the real import
// graph so a shortcut fails here, not in review.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DAEMON = join(ROOT, 'daemon');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** daemon-relative imports of each daemon file, as `folder/file.ts` paths. */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of files(DAEMON)) {
    const src = readFileSync(f, 'utf8');
    const deps = [...src.matchAll(/^(?:import|export)[^'"]*from\s+'(\.[^']+)'/gm)].map((m) =>
      relative(DAEMON, resolve(dirname(f), m[1]!)).replace(/\.js$/, '.ts'),
    );
    g.set(relative(DAEMON, f), deps);
  }
  return g;
}

const layer = (p: string) => (p.includes('/') ? p.split('/')[0]! : p);

// layer → layers it must never import.
const FORBIDDEN: Record<string, string[]> = {
  contract: ['api', 'cli', 'config', 'engines', 'events', 'gateway', 'gpu', 'http', 'launchers', 'logs', 'scheduler', 'state', 'supervisor', 'server.ts', 'main.ts'],
  engines: ['api', 'cli', 'gateway', 'launchers', 'supervisor', 'state', 'server.ts', 'main.ts'],
  scheduler: ['api', 'cli', 'gateway', 'launchers', 'supervisor', 'state', 'engines', 'server.ts', 'main.ts'],
  gpu: ['api', 'cli', 'gateway', 'launchers', 'supervisor', 'engines', 'server.ts', 'main.ts'],
  config: ['api', 'cli', 'gateway', 'launchers', 'supervisor', 'server.ts', 'main.ts'],
  launchers: ['api', 'cli', 'gateway', 'supervisor', 'server.ts', 'main.ts'],
  logs: ['api', 'cli', 'gateway', 'supervisor', 'launchers', 'server.ts', 'main.ts'],
  state: ['api', 'cli', 'gateway', 'supervisor', 'server.ts', 'main.ts'],
  supervisor: ['api', 'cli', 'gateway', 'server.ts', 'main.ts'],
  gateway: ['api', 'cli', 'server.ts', 'main.ts'],
  api: ['cli', 'gateway/router.ts', 'server.ts', 'main.ts'],
};

describe('import directions', () => {
  const g = graph();
  for (const [from, banned] of Object.entries(FORBIDDEN)) {
    it(`${from} imports nothing above it`, () => {
      const bad: string[] = [];
      for (const [file, deps] of g) {
        if (layer(file) !== from) continue;
        for (const d of deps) if (banned.some((b) => d === b || layer(d) === b)) bad.push(`${file} -> ${d}`);
      }
      assert.deepEqual(bad, []);
    });
  }

  it('the graph covers every layer (the rules are not vacuous)', () => {
    const layers = new Set([...g.keys()].map(layer));
    for (const l of Object.keys(FORBIDDEN)) assert.ok(layers.has(l), `no files in daemon/${l}`);
    assert.ok([...g.values()].flat().length > 100);
  });
});
