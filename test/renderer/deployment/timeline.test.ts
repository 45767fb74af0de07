// The deployment page's state timeline, from the event stream's notices.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamEvent } from '../../../daemon/contract/live.js';
import { timelineRows } from '../../../renderer/src/deployment/timeline.js';

const notices: StreamEvent[] = [
  { type: 'replica.state', ts: '2026-01-01T10:00:00Z', name: 'qwen', replica: 'qwen-0', from: 'pending', state: 'starting', reason: null },
  { type: 'replica.state', ts: '2026-01-01T10:00:01Z', name: 'other', replica: 'other-0', from: 'pending', state: 'starting', reason: null },
  { type: 'replica.state', ts: '2026-01-01T10:00:09Z', name: 'qwen', replica: 'qwen-0', from: 'starting', state: 'failed', reason: 'CUDA out of memory' },
  { type: 'deployment.sleep', ts: '2026-01-01T10:05:00Z', name: 'qwen', reason: 'idle' },
  { type: 'deployment.wake', ts: '2026-01-01T10:06:00Z', name: 'qwen', evicted: ['other'], seconds: 12.34 },
  { type: 'deployment.scale', ts: '2026-01-01T10:07:00Z', name: 'qwen', from: 1, to: 2 },
];

describe('timelineRows', () => {
  it("lists this deployment's changes newest first, with replica, from → to and reason", () => {
    const rows = timelineRows(notices, 'qwen');
    assert.deepEqual(
      rows.map((r) => [r.replica, r.from, r.to, r.tone]),
      [
        [null, '1 replica', '2 replicas', 'neutral'],
        [null, 'sleeping', 'awake', 'ok'],
        [null, 'running', 'sleeping', 'neutral'],
        ['qwen-0', 'starting', 'failed', 'err'],
        ['qwen-0', 'pending', 'starting', 'warn'],
      ],
    );
    assert.equal(rows[3]!.reason, 'CUDA out of memory');
    assert.match(rows[1]!.reason!, /ready in 12\.3 s; evicted other/);
    assert.match(rows[2]!.reason!, /^idle/);
  });

  it('keeps at most the newest `limit` rows', () => {
    assert.deepEqual(
      timelineRows(notices, 'qwen', 2).map((r) => r.ts),
      ['2026-01-01T10:07:00Z', '2026-01-01T10:06:00Z'],
    );
  });
});
