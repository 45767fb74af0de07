// STYLE.md: lower layers never import upward, and the pure layers do no I/O.
// Checked over the real import graph so a shortcut fails here, not in review.
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

// Static `import`/`export ... from` (multi-line included) and dynamic `import('...')`.
const SPECIFIERS = /^(?:import|export)[^'"]*?from\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/gm;

interface Module {
  /** daemon-relative imports, as `folder/file.ts` paths. */
  local: string[];
  /** Packages and node builtins, as written. */
  external: string[];
}

function graph(): Map<string, Module> {
  const g = new Map<string, Module>();
  for (const f of files(DAEMON)) {
    const mod: Module = { local: [], external: [] };
    for (const m of readFileSync(f, 'utf8').matchAll(SPECIFIERS)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) mod.local.push(relative(DAEMON, resolve(dirname(f), spec)).replace(/\.js$/, '.ts'));
      else mod.external.push(spec);
    }
    g.set(relative(DAEMON, f), mod);
  }
  return g;
}

const layer = (p: string) => (p.includes('/') ? p.split('/')[0]! : p);

const ENTRY = ['server.ts', 'main.ts'];

// layer → layers (or single files) it must never import.
const FORBIDDEN: Record<string, string[]> = {
  contract: ['api', 'cli', 'config', 'engines', 'events', 'gateway', 'gpu', 'http', 'launchers', 'logs', 'metrics', 'scheduler', 'state', 'supervisor', ...ENTRY],
  engines: ['api', 'cli', 'gateway', 'launchers', 'metrics', 'supervisor', 'state', ...ENTRY],
  scheduler: ['api', 'cli', 'gateway', 'launchers', 'metrics', 'supervisor', 'state', 'engines', ...ENTRY],
  gpu: ['api', 'cli', 'gateway', 'launchers', 'metrics', 'supervisor', 'engines', ...ENTRY],
  config: ['api', 'cli', 'gateway', 'launchers', 'metrics', 'supervisor', ...ENTRY],
  launchers: ['api', 'cli', 'gateway', 'metrics', 'supervisor', ...ENTRY],
  logs: ['api', 'cli', 'gateway', 'metrics', 'supervisor', 'launchers', ...ENTRY],
  state: ['api', 'cli', 'gateway', 'metrics', 'supervisor', ...ENTRY],
  // Errors, middleware and the wire: every HTTP-facing layer builds on it, so it builds on none of them.
  http: ['api', 'cli', 'gateway', 'metrics', 'supervisor', 'launchers', 'state', 'events', 'logs', 'engines', 'scheduler', 'gpu', ...ENTRY],
  // Counts what the gateway and the supervisor report through plain calls; knows neither.
  metrics: ['api', 'cli', 'gateway', 'supervisor', 'launchers', 'state', ...ENTRY],
  supervisor: ['api', 'cli', 'gateway', 'metrics', ...ENTRY],
  // Platform manifests in and out: pure translation, which the API's apply route drives.
  manifests: ['api', 'cli', 'gateway', 'launchers', 'metrics', 'supervisor', 'state', 'events', 'logs', ...ENTRY],
  gateway: ['api', 'cli', ...ENTRY],
  api: ['cli', 'gateway', ...ENTRY],
  // The serving platforms' APIs: translate a body, then call the supervisor as /api does.
  platforms: ['cli', 'gateway', 'api', ...ENTRY],
  // The CLI talks HTTP to a daemon; only `berth plan` and `berth gpus` work
  // without one, through the same pure preview and nvidia-smi adapter.
  cli: ['api', 'gateway', 'metrics', 'launchers', 'state', 'events', 'logs', 'http', 'supervisor', ...ENTRY],
};

// Files a rule above would forbid, allowed on purpose.
const ALLOWED: Record<string, string[]> = {
  // `berth plan` previews offline; `berth serve` loads the daemon (a dynamic
  // import, so every other command starts without it).
  cli: ['supervisor/plan-preview.ts', 'main.ts'],
};

// Packages and builtins that reach outside the process: files, processes,
// sockets, the host. A layer that must be pure imports none of them.
const IO_MODULES = [
  'fs', 'child_process', 'net', 'http', 'https', 'http2', 'dgram', 'dns', 'tls', 'os', 'worker_threads', 'cluster',
  'execa', 'node-pty', 'systeminformation', 'express', 'undici', 'pino', 'prom-client',
];

const isIo = (spec: string) => IO_MODULES.includes(spec.replace(/^node:/, '').split('/')[0]!);

// What must be pure: engines, scheduler, and gpu's parsers (not its adapters).
const PURE = (file: string) => {
  const l = layer(file);
  if (l === 'engines' || l === 'scheduler' || l === 'manifests') return true;
  return l === 'gpu' && !GPU_ADAPTERS.includes(file);
};
/** gpu/ files that run things: nvidia-smi through execa, the host through systeminformation. */
const GPU_ADAPTERS = ['gpu/inventory.ts', 'gpu/host.ts'];
// Read-only data shipped with Berth (resources/engines/*.json), read once and
// cached: the engine specs are data, and buildPlan() stays pure over them.
const IO_EXCEPTIONS: Record<string, string[]> = {
  'engines/spec.ts': ['node:fs'],
  'engines/catalogue.ts': ['node:fs'],
};

describe('import directions', () => {
  const g = graph();
  for (const [from, banned] of Object.entries(FORBIDDEN)) {
    it(`${from} imports nothing above it`, () => {
      const bad: string[] = [];
      for (const [file, { local }] of g) {
        if (layer(file) !== from) continue;
        for (const d of local) {
          if (ALLOWED[from]?.includes(d)) continue;
          if (banned.some((b) => d === b || layer(d) === b)) bad.push(`${file} -> ${d}`);
        }
      }
      assert.deepEqual(bad, []);
    });
  }

  it('the graph covers every layer (the rules are not vacuous)', () => {
    const layers = new Set([...g.keys()].map(layer));
    for (const l of Object.keys(FORBIDDEN)) assert.ok(layers.has(l), `no files in daemon/${l}`);
    assert.ok([...g.values()].flatMap((m) => m.local).length > 100);
    for (const [from, files] of Object.entries(ALLOWED)) {
      for (const f of files) {
        const used = [...g].some(([file, m]) => layer(file) === from && m.local.includes(f));
        assert.ok(used, `${from} no longer imports ${f}: drop the exception`);
      }
    }
  });
});

describe('pure layers do no I/O', () => {
  const g = graph();

  it('engines/, scheduler/, manifests/ and the gpu/ parsers import no I/O module', () => {
    const bad: string[] = [];
    for (const [file, { external }] of g) {
      if (!PURE(file)) continue;
      for (const spec of external) if (isIo(spec) && !IO_EXCEPTIONS[file]?.includes(spec)) bad.push(`${file} -> ${spec}`);
    }
    assert.deepEqual(bad, []);
  });

  it('the check sees what it must (the rule is not vacuous)', () => {
    const pure = [...g.keys()].filter(PURE);
    for (const l of ['engines', 'scheduler', 'gpu']) assert.ok(pure.some((f) => layer(f) === l), `no pure files in daemon/${l}`);
    for (const f of GPU_ADAPTERS) assert.ok(g.get(f)?.external.some(isIo), `${f} is no longer an I/O adapter: drop it from GPU_ADAPTERS`);
    for (const [f, specs] of Object.entries(IO_EXCEPTIONS)) {
      for (const s of specs) assert.ok(g.get(f)?.external.includes(s), `${f} no longer imports ${s}: drop the exception`);
    }
    // The detector itself: the adapters' imports are I/O, a pure helper's are not.
    assert.ok(isIo('node:child_process') && isIo('fs/promises') && isIo('execa'));
    assert.ok(!isIo('node:path') && !isIo('zod'));
  });
});
