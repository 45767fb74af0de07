import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REPLICA_STATES, type ReplicaState } from '../../daemon/contract/api.js';
import { canTransition, ReplicaStateCell, TransitionError } from '../../daemon/supervisor/states.js';

// The expected table, written out independently of the code: a row per
// `from`, a column per `to`, in REPLICA_STATES order
// (pending, starting, ready, stopping, stopped, failed, pulling). 1 = legal.
const EXPECTED: Record<ReplicaState, string> = {
  //        pe st re sp sd fa pu
  pending: '0  1  0  1  0  1  1',
  starting: '1  0  1  1  0  1  0',
  ready: '1  0  0  1  0  1  0',
  stopping: '0  0  0  0  1  1  0',
  stopped: '1  0  0  0  0  0  0',
  failed: '1  0  0  0  1  0  0',
  pulling: '0  1  0  1  0  1  0',
};

function expected(from: ReplicaState, to: ReplicaState): boolean {
  const row = EXPECTED[from].split(/\s+/);
  return row[REPLICA_STATES.indexOf(to)] === '1';
}

describe('replica state machine', () => {
  test('the table has a row for every state and a column for every state', () => {
    assert.deepEqual(Object.keys(EXPECTED).sort(), [...REPLICA_STATES].sort());
    for (const row of Object.values(EXPECTED)) assert.equal(row.split(/\s+/).length, REPLICA_STATES.length);
  });

  for (const from of REPLICA_STATES) {
    for (const to of REPLICA_STATES) {
      const legal = expected(from, to);
      test(`${from} -> ${to} is ${legal ? 'legal' : 'illegal'}`, () => {
        assert.equal(canTransition(from, to), legal);
        const cell = new ReplicaStateCell({ initial: from });
        if (legal) {
          cell.transition(from, to, 'why');
          assert.equal(cell.state, to);
          assert.equal(cell.reason, 'why');
        } else {
          assert.throws(
            () => cell.transition(from, to, 'why'),
            (err: unknown) => err instanceof TransitionError && err.kind === 'illegal' && err.from === from && err.to === to,
          );
          assert.equal(cell.state, from, 'an illegal move changes nothing');
        }
      });
    }
  }
});

describe('ReplicaStateCell', () => {
  test('starts pending with no reason', () => {
    const cell = new ReplicaStateCell();
    assert.equal(cell.state, 'pending');
    assert.equal(cell.reason, null);
  });

  test('refuses a move from a state other than the expected one (a stale caller)', () => {
    const cell = new ReplicaStateCell({ initial: 'ready' });
    assert.throws(
      () => cell.transition('starting', 'ready'),
      (err: unknown) =>
        err instanceof TransitionError &&
        err.kind === 'unexpected' &&
        err.from === 'ready' &&
        err.to === 'ready' &&
        err.expected.join() === 'starting',
    );
    assert.equal(cell.state, 'ready');
  });

  test('accepts any of a list of expected states', () => {
    const cell = new ReplicaStateCell({ initial: 'starting' });
    cell.transition(['starting', 'ready'], 'stopping');
    assert.equal(cell.state, 'stopping');
    assert.throws(() => cell.transition(['starting', 'ready'], 'stopping'), TransitionError);
  });

  test('the reason belongs to the new state and is cleared by a move without one', () => {
    const cell = new ReplicaStateCell({ initial: 'ready' });
    cell.transition('ready', 'pending', 'crashed; restarting in 1s');
    assert.equal(cell.reason, 'crashed; restarting in 1s');
    cell.transition('pending', 'starting');
    assert.equal(cell.reason, null);
    cell.transition('starting', 'failed', 'ValueError: bad');
    assert.equal(cell.reason, 'ValueError: bad');
  });

  test('onChange hears (from, to, reason) after the change; unsubscribe works', () => {
    const cell = new ReplicaStateCell();
    const heard: unknown[] = [];
    const off = cell.onChange((from, to, reason) => heard.push([from, to, reason, cell.state]));
    cell.transition('pending', 'starting');
    off();
    cell.transition('starting', 'ready');
    assert.deepEqual(heard, [['pending', 'starting', null, 'starting']]);
  });

  test('a listener that transitions again does not reorder what others hear', () => {
    const cell = new ReplicaStateCell({ initial: 'starting' });
    cell.onChange((_from, to) => {
      if (to === 'ready') cell.transition('ready', 'stopping');
    });
    const heard: string[] = [];
    cell.onChange((from, to) => heard.push(`${from}->${to}`));
    cell.transition('starting', 'ready');
    assert.deepEqual(heard, ['starting->ready', 'ready->stopping']);
    assert.equal(cell.state, 'stopping');
  });

  test('a throwing listener is reported and the others still run', () => {
    const errors: unknown[] = [];
    const cell = new ReplicaStateCell({ onListenerError: (e) => errors.push(e) });
    let ran = false;
    cell.onChange(() => {
      throw new Error('listener bug');
    });
    cell.onChange(() => (ran = true));
    cell.transition('pending', 'starting');
    assert.equal(cell.state, 'starting');
    assert.ok(ran);
    assert.equal(errors.length, 1);
  });
});
