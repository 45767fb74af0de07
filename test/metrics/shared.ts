// Where the engine response fixtures live: `$BERTH_SHARED_DIR`, else `shared/`
// beside the repository (CI clones it there).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const sharedDir = process.env.BERTH_SHARED_DIR ?? join(repoRoot, '..', 'shared');

export const engineFixturesDir = join(sharedDir, 'fixtures', 'engine-responses');

export function readEngineFixture(name: string): string {
  return readFileSync(join(engineFixturesDir, name), 'utf8');
}
