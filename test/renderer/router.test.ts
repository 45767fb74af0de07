import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { href, parseRoute } from '../../renderer/src/router.js';

describe('hash routes', () => {
  it('maps every page', () => {
    assert.deepEqual(parseRoute(''), { page: 'dashboard' });
    assert.deepEqual(parseRoute('#/'), { page: 'dashboard' });
    assert.deepEqual(parseRoute('#/new'), { page: 'new', from: null });
    assert.deepEqual(parseRoute('#/new?from=qwen'), { page: 'new', from: 'qwen' });
    assert.deepEqual(parseRoute('#/deployments/qwen'), { page: 'deployment', name: 'qwen' });
    assert.deepEqual(parseRoute('#/deployments/qwen/edit'), { page: 'edit', name: 'qwen' });
    assert.deepEqual(parseRoute('#/settings'), { page: 'settings' });
  });

  it('round-trips the links it builds', () => {
    assert.deepEqual(parseRoute(href.deployment('a b')), { page: 'deployment', name: 'a b' });
    assert.deepEqual(parseRoute(href.edit('x')), { page: 'edit', name: 'x' });
    assert.deepEqual(parseRoute(href.newDeployment('x')), { page: 'new', from: 'x' });
  });

  it('says when a hash names no page', () => {
    assert.equal(parseRoute('#/deployments').page, 'not-found');
    assert.equal(parseRoute('#/deployments/a/b/c').page, 'not-found');
    assert.equal(parseRoute('#/deployments/%E0%A4%A').page, 'not-found');
    assert.equal(parseRoute('#/nope').page, 'not-found');
  });
});
