// Engine response fixtures (test/fixtures/engine-responses) as the bytes the engine sends.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_RESPONSE_FIXTURES } from '../helpers/fixtures.js';

export const fixture = (name: string): Buffer => readFileSync(join(ENGINE_RESPONSE_FIXTURES, name));

/** The `data:` payloads of an SSE body, in order. */
export const dataEvents = (body: Buffer | string): string[] =>
  body
    .toString()
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice('data: '.length));
