// The UI's store: what a user sees after each message of the event stream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialState, NOTICES_PER_DEPLOYMENT, reduce, type Action, type LiveState } from '../../renderer/src/store/reducer.js';
import type { StreamEvent } from '../../daemon/contract/live.js';
import { deployment, snapshot, stats } from './samples.js';

const ev = (event: StreamEvent): Action => ({ kind: 'event', event });
const run = (...actions: Action[]): LiveState => actions.reduce(reduce, initialState);
const ts = '2025-01-01T00:00:01.000Z';
const replicaState = (name: string, state: 'starting' | 'ready'): StreamEvent => ({
  type: 'replica.state',
  ts,
  name,
  replica: `${name}-0`,
  from: 'pending',
  state,
  reason: null,
});

describe('live store reducer', () => {
  it('knows nothing until the first snapshot, then exactly what it says, sorted by name', () => {
    assert.equal(initialState.synced, false);
    const s = run(ev(snapshot([deployment('b'), deployment('a')], { stats: [stats('a')] })));
    assert.equal(s.synced, true);
    assert.deepEqual(s.deployments.map((d) => d.name), ['a', 'b']);
    assert.equal(s.stats.a?.requestsPerS, 1);
  });

  it('replaces everything on a later snapshot', () => {
    const s = run(
      ev(snapshot([deployment('a'), deployment('b')], { stats: [stats('a'), stats('b')] })),
      ev(snapshot([deployment('c')])),
    );
    assert.deepEqual(s.deployments.map((d) => d.name), ['c']);
    assert.deepEqual(s.stats, {});
  });

  it('keeps the timeline of deployments that survive a snapshot, drops the others', () => {
    const s = run(
      ev(snapshot([deployment('a'), deployment('b')])),
      ev(replicaState('a', 'starting')),
      ev(replicaState('b', 'starting')),
      ev(snapshot([deployment('a')])),
    );
    assert.equal(s.notices.a?.length, 1);
    assert.equal(s.notices.b, undefined);
  });

  it('upserts created and updated deployments with the status they carry', () => {
    const s = run(
      ev(snapshot([deployment('b')])),
      ev({ type: 'deployment.created', ts, name: 'a', deployment: deployment('a', 'pending') }),
      ev({ type: 'deployment.updated', ts, name: 'a', deployment: deployment('a', 'ready') }),
    );
    assert.deepEqual(s.deployments.map((d) => [d.name, d.state]), [['a', 'ready'], ['b', 'ready']]);
  });

  it('ignores an update without a status (a daemon older than the snapshot stream)', () => {
    const before = run(ev(snapshot([deployment('a')])));
    const legacy = { type: 'deployment.updated', ts, name: 'a' } as unknown as StreamEvent;
    assert.equal(reduce(before, ev(legacy)), before);
  });

  it('removes a deleted deployment with its stats and timeline', () => {
    const s = run(
      ev(snapshot([deployment('a'), deployment('b')], { stats: [stats('a')] })),
      ev(replicaState('a', 'ready')),
      ev({ type: 'deployment.deleted', ts, name: 'a' }),
    );
    assert.deepEqual(s.deployments.map((d) => d.name), ['b']);
    assert.equal(s.stats.a, undefined);
    assert.equal(s.notices.a, undefined);
  });

  it('keeps state, wake, sleep and scale notices per deployment, oldest first, bounded', () => {
    let s = run(ev(snapshot([deployment('a')])));
    s = reduce(s, ev({ type: 'deployment.wake', ts, name: 'a', evicted: [], seconds: 3 }));
    s = reduce(s, ev({ type: 'deployment.sleep', ts, name: 'a', reason: 'idle' }));
    s = reduce(s, ev({ type: 'deployment.scale', ts, name: 'a', from: 1, to: 2 }));
    assert.deepEqual(s.notices.a?.map((n) => n.type), ['deployment.wake', 'deployment.sleep', 'deployment.scale']);
    for (let i = 0; i < NOTICES_PER_DEPLOYMENT + 5; i++) s = reduce(s, ev({ type: 'deployment.scale', ts, name: 'a', from: i, to: i + 1 }));
    assert.equal(s.notices.a?.length, NOTICES_PER_DEPLOYMENT);
    const last = s.notices.a?.at(-1);
    assert.ok(last?.type === 'deployment.scale' && last.to === NOTICES_PER_DEPLOYMENT + 5);
  });

  it('keeps the latest stats sample and GPU report', () => {
    const s = run(
      ev(snapshot([deployment('a')], { stats: [stats('a', 1)] })),
      ev({ type: 'stats', ts, stats: [stats('a', 7)] }),
    );
    assert.equal(s.stats.a?.requestsPerS, 7);
  });

  it('follows the connection, and a repeated state changes nothing', () => {
    const open = run({ kind: 'connection', connection: 'open' });
    assert.equal(open.connection, 'open');
    assert.equal(reduce(open, { kind: 'connection', connection: 'open' }), open);
    const down = reduce(open, { kind: 'connection', connection: 'reconnecting' });
    assert.equal(down.connection, 'reconnecting');
    // Retries keep failing: "unreachable" stays until a connection opens.
    const gone = reduce(down, { kind: 'connection', connection: 'unreachable' });
    assert.equal(reduce(gone, { kind: 'connection', connection: 'reconnecting' }), gone);
    assert.equal(reduce(gone, { kind: 'connection', connection: 'open' }).connection, 'open');
    // What the user saw stays on screen while the stream reconnects.
    const synced = run(ev(snapshot([deployment('a')])), { kind: 'connection', connection: 'unreachable' });
    assert.equal(synced.deployments.length, 1);
  });
});
