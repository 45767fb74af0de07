// The engine response fixtures (test/fixtures/engine-responses) as text.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_RESPONSE_FIXTURES } from '../helpers/fixtures.js';

export function readEngineFixture(name: string): string {
  return readFileSync(join(ENGINE_RESPONSE_FIXTURES, name), 'utf8');
}
