// Where the tests and the fakes find the captured engine and GPU facts: the one
// place that names it. The fixtures live inside the repository, because a
// user's clone has nothing beside it; they are copies of the `shared/` checkout
// the facts were gathered in, and test/fixtures-provenance.test.ts holds them
// to it when that checkout is beside the repository. Imported by the fake
// processes too, so it must stay free of anything heavier than node:path.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export const FIXTURES_DIR = join(REPO, 'test', 'fixtures');

/** nvidia-smi captures and their replay table (cases.json). */
export const NVIDIA_SMI_FIXTURES = join(FIXTURES_DIR, 'nvidia-smi');

/** vLLM / SGLang console logs and cases.json (how each run ended, which lines explain it). */
export const ENGINE_LOG_FIXTURES = join(FIXTURES_DIR, 'engine-logs');

/** vLLM / SGLang HTTP bodies: responses, SSE streams, /metrics text. */
export const ENGINE_RESPONSE_FIXTURES = join(FIXTURES_DIR, 'engine-responses');

/**
 * The engine CLI specs. The daemon ships these copies (resources/engines) and
 * reads them at run time, so the tests read the same files rather than a
 * second copy under test/fixtures.
 */
export const ENGINE_SPECS = join(REPO, 'resources', 'engines');

/**
 * Each copy and the folder of the `shared/` checkout it was taken from.
 * `skip` names the files of the copy that are ours, not copies (its README).
 */
export const FIXTURE_COPIES: readonly { copy: string; shared: string; skip: readonly string[] }[] = [
  { copy: NVIDIA_SMI_FIXTURES, shared: 'fixtures/nvidia-smi', skip: ['README.md'] },
  { copy: ENGINE_LOG_FIXTURES, shared: 'fixtures/engine-logs', skip: ['README.md'] },
  { copy: ENGINE_RESPONSE_FIXTURES, shared: 'fixtures/engine-responses', skip: ['README.md'] },
  { copy: ENGINE_SPECS, shared: 'engines', skip: ['catalogue.json'] },
];
