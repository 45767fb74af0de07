// The fixtures under test/fixtures (and the engine specs the daemon ships in
// resources/engines) are copies of the `shared/` checkout the facts were
// gathered in. This is the one test that may look outside the repository: CI
// clones `shared/` beside it, and there a copy that drifted from its original
// fails. A user's clone has nothing beside it, so there the comparison is
// skipped and says why in its name.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FIXTURE_COPIES } from './helpers/fixtures.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const SHARED = process.env.BERTH_SHARED_DIR ?? join(REPO, '..', 'shared');
const sharedHere = existsSync(SHARED);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p).map((f) => join(name, f)) : [name];
  });
}

describe('fixture copies', () => {
  for (const { copy, shared, skip } of FIXTURE_COPIES) {
    const name = `${relative(REPO, copy)} matches ../shared/${shared}`;
    test(sharedHere ? name : `${name} (skipped: no ../shared beside this clone)`, { skip: !sharedHere }, () => {
      const files = filesUnder(copy).filter((f) => !skip.includes(f));
      assert.ok(files.length > 0, `${copy} is empty`);
      const differ = files.filter((f) => {
        const original = join(SHARED, shared, f);
        return !existsSync(original) || !readFileSync(original).equals(readFileSync(join(copy, f)));
      });
      assert.deepEqual(differ, [], 'copies missing from or different to ../shared: copy them again from there');
    });
  }
});

// The copies exist so that nothing else reaches outside the repository; a new
// reader of `../shared` would bring back the failures of a fresh clone.
test('no test, fake or helper but this one reads ../shared', () => {
  const self = fileURLToPath(import.meta.url);
  const outside = /\.\.\/(?:\.\.\/)*shared\b|BERTH_SHARED_DIR/;
  const readers = filesUnder(join(REPO, 'test'))
    .map((f) => join(REPO, 'test', f))
    .filter((f) => f !== self && f.endsWith('.ts') && outside.test(readFileSync(f, 'utf8')));
  assert.deepEqual(readers.map((f) => relative(REPO, f)), []);
});
