// The platform manifests under test/fixtures/manifests (see its README).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../helpers/fixtures.js';

export const MANIFEST_FIXTURES = join(FIXTURES_DIR, 'manifests');

export const manifest = (name: 'llmaz-higress-walkthrough' | 'kserve-openshift-ai-granite' | 'kserve-openshift-ai-granite-local' | 'knative-kpa-vllm-qwen') =>
  readFileSync(join(MANIFEST_FIXTURES, `${name}.yaml`), 'utf8');
