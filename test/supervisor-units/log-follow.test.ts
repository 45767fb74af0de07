// Which replica a followed log stream shows, as a table: it stays while its
// replica may print, moves to the newest one coming up, and otherwise keeps
// the last words of the one that died.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplicaState } from '../../daemon/contract/api.js';
import { isGoneForGood, replicaToShow } from '../../daemon/supervisor/log-follow.js';

interface R {
  id: string;
  state: ReplicaState;
}

const r = (id: string, state: ReplicaState): R => ({ id, state });

describe('replicaToShow', () => {
  const a0 = (s: ReplicaState) => r('a-0', s);
  const cases: { what: string; shown: (list: R[]) => R | null; list: R[]; want: string | null }[] = [
    { what: 'nothing yet, no replica', shown: () => null, list: [], want: null },
    { what: 'nothing yet, the first one pending', shown: () => null, list: [a0('pending')], want: 'a-0' },
    { what: 'nothing yet, only a failed one: its last lines', shown: () => null, list: [a0('failed')], want: 'a-0' },
    { what: 'nothing yet: the newest coming up over a newer one stopped', shown: () => null, list: [r('a-0', 'ready'), r('a-1', 'stopped')], want: 'a-0' },
    { what: 'ready: stays', shown: (l) => l[0]!, list: [a0('ready')], want: 'a-0' },
    { what: 'crashed, waiting out its backoff: stays (same replica, same log)', shown: (l) => l[0]!, list: [a0('pending')], want: 'a-0' },
    { what: 'stopping: stays for its shutdown lines', shown: (l) => l[0]!, list: [a0('stopping'), r('a-1', 'pending')], want: 'a-0' },
    { what: 'a scale-up beside it: stays', shown: (l) => l[0]!, list: [r('a-0', 'ready'), r('a-1', 'starting')], want: 'a-0' },
    { what: 'stopped by a scale-down: the one left', shown: (l) => l[1]!, list: [r('a-0', 'ready'), r('a-1', 'stopped')], want: 'a-0' },
    { what: 'failed, nothing else: stays on its last words', shown: (l) => l[0]!, list: [a0('failed')], want: 'a-0' },
    { what: 'replaced by a restart (the old one dropped)', shown: () => a0('stopped'), list: [r('a-1', 'starting')], want: 'a-1' },
    { what: 'dropped, nothing replaces it yet: stays', shown: () => a0('stopped'), list: [], want: 'a-0' },
    { what: 'several new ones: the newest', shown: () => a0('stopped'), list: [r('a-1', 'starting'), r('a-2', 'pending')], want: 'a-2' },
  ];
  for (const c of cases) {
    it(c.what, () => {
      assert.equal(replicaToShow(c.shown(c.list), c.list)?.id ?? null, c.want);
    });
  }
});

describe('isGoneForGood', () => {
  it('a named replica ends its stream once stopped, failed or dropped', () => {
    const live = (['pending', 'starting', 'ready', 'stopping'] as const).map((s) => r('a-0', s));
    for (const x of live) assert.equal(isGoneForGood(x, [x]), false, x.state);
    for (const s of ['stopped', 'failed'] as const) {
      const x = r('a-0', s);
      assert.equal(isGoneForGood(x, [x]), true, s);
    }
    assert.equal(isGoneForGood(r('a-0', 'ready'), []), true, 'dropped');
  });
});
