// Engine response fixtures: `$BERTH_SHARED_DIR`, else `shared/` beside the
// repository (CI clones it there).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ENGINE_RESPONSES = join(
  process.env.BERTH_SHARED_DIR ?? fileURLToPath(new URL('../../../shared', import.meta.url)),
  'fixtures',
  'engine-responses',
);

export const fixture = (name: string): Buffer => readFileSync(join(ENGINE_RESPONSES, name));

/** The `data:` payloads of an SSE body, in order. */
export const dataEvents = (body: Buffer | string): string[] =>
  body
    .toString()
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice('data: '.length));
