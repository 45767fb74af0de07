// The stats contract is imported by the UI and the scrape parser is pure; both
// promises are one stray import away from breaking, so check them here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

const importsOf = (path: string) =>
  [...readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map(
    (m) => m[1],
  );

it('the stats contract imports only from daemon/contract', () => {
  const specs = importsOf('daemon/contract/stats.ts');
  assert.ok(specs.length > 0);
  for (const s of specs) assert.match(s ?? '', /^\.\/[^/]+\.js$/, s);
});

it('the metrics parser imports only types from daemon/contract (pure, no I/O)', () => {
  const src = readFileSync(new URL('../../daemon/engines/metrics-scrape.ts', import.meta.url), 'utf8');
  const imports = [...src.matchAll(/^import\b.*$/gm)].map((m) => m[0]);
  assert.ok(imports.length > 0);
  for (const line of imports) assert.match(line, /^import type .* from '\.\.\/contract\/[^/]+\.js';$/, line);
});
