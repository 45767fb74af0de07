import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStreamMessage, STREAM_EVENT_TYPES } from '../../renderer/src/store/messages.js';

describe('event stream messages', () => {
  it('listens for every event type of the contract', () => {
    assert.ok(STREAM_EVENT_TYPES.includes('snapshot'));
    assert.ok(STREAM_EVENT_TYPES.includes('replica.state'));
    assert.ok(STREAM_EVENT_TYPES.includes('stats'));
  });

  it('accepts a message whose body matches its event name', () => {
    const e = parseStreamMessage('deployment.deleted', JSON.stringify({ type: 'deployment.deleted', ts: 'x', name: 'a' }));
    assert.deepEqual(e, { type: 'deployment.deleted', ts: 'x', name: 'a' });
  });

  it('drops what does not parse, disagrees with its name, lacks a deployment name, or is unknown', () => {
    assert.equal(parseStreamMessage('deployment.deleted', '{nope'), null);
    assert.equal(parseStreamMessage('deployment.deleted', JSON.stringify({ type: 'deployment.created', name: 'a' })), null);
    assert.equal(parseStreamMessage('deployment.deleted', JSON.stringify({ type: 'deployment.deleted' })), null);
    assert.equal(parseStreamMessage('deployment.deleted', 'null'), null);
    assert.equal(parseStreamMessage('future.thing', JSON.stringify({ type: 'future.thing' })), null);
  });
});
