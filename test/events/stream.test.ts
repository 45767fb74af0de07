// The event stream's numbering, ring, resume and coalescing, without HTTP.
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { BerthEvent, DeploymentStatus } from '../../daemon/contract/api.js';
import type { SnapshotEvent, StreamEvent } from '../../daemon/contract/live.js';
import { EventStream, parseEventId, resumeRange, startId, type StreamMessage, type StreamSources } from '../../daemon/events/stream.js';

const TS = '2025-01-01T00:00:00.000Z';

/** A stand-in status: only the fields the stream passes through matter here. */
const status = (name: string, state: DeploymentStatus['state']) => ({ name, state }) as DeploymentStatus;

function sources(states: Map<string, DeploymentStatus['state']>): StreamSources {
  return {
    status: (name) => {
      const s = states.get(name);
      return s ? status(name, s) : null;
    },
    snapshot: () => ({
      daemon: { version: '0.1.0', apiVersion: 1, startedAt: TS },
      deployments: [...states].map(([n, s]) => status(n, s)),
      gpus: null,
      usage: null,
      stats: [],
    }),
  };
}

const replicaState = (name: string, state: DeploymentStatus['state']): BerthEvent => ({
  type: 'replica.state',
  ts: TS,
  name,
  replica: `${name}-1`,
  from: 'starting',
  state,
  reason: null,
});

const parse = (m: StreamMessage) => JSON.parse(m.json) as StreamEvent;

function collect(stream: EventStream, since?: string) {
  const got: StreamMessage[] = [];
  const conn = stream.connect(since, (m) => got.push(m));
  return { conn, all: () => [...conn.first, ...got], live: got };
}

describe('event ids', () => {
  it('parseEventId accepts only the decimal integers the stream issues', () => {
    const cases: [string | undefined, number | null][] = [
      ['1717000000000000', 1717000000000000],
      [' 42 ', 42],
      ['0', 0],
      [undefined, null],
      ['', null],
      ['-1', null],
      ['1.5', null],
      ['abc', null],
      ['99999999999999999', null], // beyond 16 digits: not ours
    ];
    for (const [raw, want] of cases) assert.equal(parseEventId(raw), want, String(raw));
  });

  it('resumeRange: resumable only when every missed id is still held', () => {
    // [since, oldest held, last issued] -> range or null
    const cases: [number, number | null, number, { from: number; to: number } | null][] = [
      [10, 5, 12, { from: 11, to: 12 }], // missed 11 and 12, both held
      [12, 5, 12, { from: 13, to: 12 }], // nothing missed
      [4, 5, 12, { from: 5, to: 12 }], // missed exactly from the oldest
      [3, 5, 12, null], // 4 was dropped
      [13, 5, 12, null], // an id this stream never issued (another daemon's)
      [7, null, 7, { from: 8, to: 7 }], // empty ring, up to date
      [6, null, 7, null], // empty ring, one missed and gone
    ];
    for (const [since, oldest, last, want] of cases) assert.deepEqual(resumeRange(since, oldest, last), want, `${since} ${oldest} ${last}`);
  });

  it('ids start from the daemon start time, so a restarted daemon never resumes an old id', () => {
    assert.equal(startId(1_700_000_000_000), 1_700_000_000_000_000);
    assert.ok(Number.isSafeInteger(startId(Date.UTC(2200, 0, 1))));
  });
});

describe('EventStream', () => {
  it('a new client gets a snapshot as of the last id, then deltas with strictly increasing ids', async () => {
    const states = new Map<string, DeploymentStatus['state']>([['a', 'starting']]);
    const stream = new EventStream(sources(states), { firstId: 100 });
    stream.fromBus(replicaState('a', 'starting'));
    const c = collect(stream);
    assert.equal(c.conn.snapshot, true);
    assert.equal(c.conn.first.length, 1);
    const snap = parse(c.conn.first[0]!) as SnapshotEvent;
    assert.equal(snap.type, 'snapshot');
    assert.deepEqual(snap.deployments.map((d) => d.name), ['a']);
    assert.equal(c.conn.first[0]!.id, 101, 'the snapshot carries the id of the last message it reflects');
    states.set('a', 'ready');
    stream.fromBus(replicaState('a', 'ready'));
    await tick();
    assert.deepEqual(c.live.map((m) => m.type), ['replica.state', 'deployment.updated'], 'both events of the tick, one update');
    assert.deepEqual(c.all().map((m) => m.id), [101, 102, 103]);
    stream.close();
  });

  it('a reconnect with a held id gets exactly the missed messages, no snapshot', () => {
    const states = new Map<string, DeploymentStatus['state']>([['a', 'ready']]);
    const stream = new EventStream(sources(states), { firstId: 0 });
    const reference = collect(stream);
    stream.publish({ type: 'deployment.sleep', ts: TS, name: 'a', reason: 'idle' });
    const seen = stream.lastId;
    stream.publish({ type: 'deployment.scale', ts: TS, name: 'a', from: 0, to: 1 });
    stream.publish({ type: 'stats', ts: TS, stats: [] });
    const resumed = collect(stream, String(seen));
    assert.equal(resumed.conn.snapshot, false);
    assert.deepEqual(resumed.conn.first, reference.live.filter((m) => m.id > seen));
    assert.deepEqual(resumed.conn.first.map((m) => m.type), ['deployment.scale', 'stats']);
    const upToDate = collect(stream, String(stream.lastId));
    assert.deepEqual(upToDate.conn.first, [], 'nothing missed: nothing sent first, not even a snapshot');
    stream.close();
  });

  it('an id older than the ring, from another daemon, or garbage gets a snapshot', () => {
    const stream = new EventStream(sources(new Map()), { firstId: 1000, capacity: 3 });
    for (let i = 0; i < 5; i++) stream.publish({ type: 'stats', ts: TS, stats: [] });
    // Held now: 1003, 1004, 1005.
    assert.equal(collect(stream, '1002').conn.snapshot, false, 'missed 1003..1005, all held');
    for (const since of ['1001', '1', '2000', 'x', undefined]) {
      const c = collect(stream, since);
      assert.equal(c.conn.snapshot, true, String(since));
      assert.equal(c.conn.first[0]!.type, 'snapshot');
    }
    stream.close();
  });

  it('the ring is bounded by bytes too, but always keeps the newest message', () => {
    const stream = new EventStream(sources(new Map()), { firstId: 0, capacity: 100, maxBytes: 200 });
    const big = (n: number): StreamEvent => ({ type: 'deployment.deleted', ts: TS, name: 'x'.repeat(n) });
    stream.publish(big(10));
    stream.publish(big(10));
    stream.publish(big(500)); // alone over the limit
    assert.equal(collect(stream, '2').conn.first.length, 1, 'message 3 is held');
    assert.equal(collect(stream, '1').conn.snapshot, true, 'message 2 was dropped for it');
    stream.close();
  });

  it('bus events: created and updated carry the whole status, one update per deployment per tick, deleted stays a name', async () => {
    const states = new Map<string, DeploymentStatus['state']>([
      ['a', 'pending'],
      ['b', 'pending'],
    ]);
    const stream = new EventStream(sources(states), { firstId: 0 });
    const c = collect(stream);
    stream.fromBus({ type: 'deployment.created', ts: TS, name: 'a' });
    stream.fromBus(replicaState('a', 'starting'));
    stream.fromBus(replicaState('b', 'starting'));
    states.set('a', 'ready');
    stream.fromBus(replicaState('a', 'ready'));
    stream.fromBus({ type: 'deployment.updated', ts: TS, name: 'b' });
    await tick();
    const events = c.live.map(parse);
    assert.deepEqual(
      events.map((e) => `${e.type} ${'name' in e ? e.name : ''}`),
      ['deployment.created a', 'replica.state a', 'replica.state b', 'replica.state a', 'deployment.updated a', 'deployment.updated b'],
      'the bus deployment.updated is replaced by the coalesced one',
    );
    const created = events[0] as Extract<StreamEvent, { type: 'deployment.created' }>;
    assert.equal(created.deployment.state, 'pending');
    const updated = events[4] as Extract<StreamEvent, { type: 'deployment.updated' }>;
    assert.equal(updated.deployment.state, 'ready', 'the status as of the flush, not of the first event');

    stream.fromBus(replicaState('b', 'stopping'));
    states.delete('b');
    stream.fromBus({ type: 'deployment.deleted', ts: TS, name: 'b' });
    stream.fromBus(replicaState('a', 'ready'));
    states.delete('a'); // gone before the flush: nothing to upsert
    await tick();
    const tail = c.live.slice(6).map(parse);
    assert.deepEqual(tail.map((e) => e.type), ['replica.state', 'deployment.deleted', 'replica.state']);
    assert.deepEqual(Object.keys(tail[1]!).sort(), ['name', 'ts', 'type']);
    stream.close();
  });

  it('counts clients, and close() cancels a pending update and stops delivery', async () => {
    const stream = new EventStream(sources(new Map([['a', 'ready']])), { firstId: 0 });
    const counts: number[] = [];
    stream.onClients((n) => counts.push(n));
    const one = collect(stream);
    const two = collect(stream);
    two.conn.close();
    two.conn.close();
    assert.deepEqual(counts, [1, 2, 1]);
    stream.fromBus(replicaState('a', 'ready'));
    stream.close();
    await tick();
    stream.publish({ type: 'stats', ts: TS, stats: [] });
    assert.deepEqual(one.live.map((m) => m.type), ['replica.state'], 'no update flushed and nothing delivered after close');
  });

  it('a client that throws does not stop the others', () => {
    const stream = new EventStream(sources(new Map()), { firstId: 0 });
    stream.connect(undefined, () => {
      throw new Error('broken');
    });
    const ok = collect(stream);
    stream.publish({ type: 'stats', ts: TS, stats: [] });
    assert.equal(ok.live.length, 1);
    stream.close();
  });
});
