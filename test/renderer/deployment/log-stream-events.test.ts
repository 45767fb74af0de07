// The log stream's named messages as the page reads them: the replica it
// moves to, why it ended, and nothing from data that is not what it claims.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogStreamEvents } from '../../../daemon/contract/api.js';
import { endReasonOf, replicaMarker, replicaOf } from '../../../renderer/src/deployment/log-stream-events.js';

describe('log stream events', () => {
  it('reads the replica a stream moves to, and the marker that heads its lines', () => {
    const sent: LogStreamEvents['replica'] = { replica: 'qwen-1' };
    assert.equal(replicaOf(JSON.stringify(sent)), 'qwen-1');
    assert.equal(replicaMarker('qwen-1'), '— replica qwen-1 —');
  });

  it('reads why the stream ended', () => {
    const sent: LogStreamEvents['end'] = { reason: 'replica qwen-0 stopped' };
    assert.equal(endReasonOf(JSON.stringify(sent)), 'replica qwen-0 stopped');
  });

  it('takes nothing from data of another shape', () => {
    for (const data of ['', 'not json', '"qwen-1"', 'null', '[]', '{"replica":3}', '{"replica":""}', '{"id":"qwen-1"}']) {
      assert.equal(replicaOf(data), null, data);
    }
    assert.equal(endReasonOf('{"replica":"qwen-1"}'), null);
  });
});
