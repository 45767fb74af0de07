import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareVersions, isVersion } from '../../daemon/engines/versions.js';

describe('compareVersions', () => {
  it('orders numerically and by PEP 440 suffix', () => {
    const sorted = ['0.4.10', '0.4.6.post2', '0.4.7', '0.4.6', '0.4.6rc1', '0.4.6.dev1', '0.4.6.post10', '0.4.6.post2.dev1', '0.4.9'];
    assert.deepEqual(sorted.sort(compareVersions), [
      '0.4.6.dev1',
      '0.4.6rc1',
      '0.4.6',
      '0.4.6.post2.dev1',
      '0.4.6.post2',
      '0.4.6.post10',
      '0.4.7',
      '0.4.9',
      '0.4.10',
    ]);
  });

  it('pads releases with zeros', () => {
    assert.equal(compareVersions('0.9', '0.9.0.0'), 0);
    assert.ok(compareVersions('0.9.0.1', '0.9.0') > 0);
  });

  it('rejects what is not a version', () => {
    assert.equal(isVersion('latest'), false);
    assert.throws(() => compareVersions('latest', '0.1'));
  });
});
