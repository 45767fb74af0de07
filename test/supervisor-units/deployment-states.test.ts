import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  canDeploymentTransition,
  DEPLOYMENT_STATES,
  DeploymentStateCell,
  DeploymentTransitionError,
  desiredOf,
  type DeploymentState,
} from '../../daemon/supervisor/deployment-states.js';

// The expected table, written out independently of the code: a row per
// `from`, a column per `to`, in DEPLOYMENT_STATES order
// (stopped, running, sleeping, waking, draining, removing). 1 = legal.
const EXPECTED: Record<DeploymentState, string> = {
  //        st ru sl wa dr rm
  stopped: '0  1  1  0  0  1',
  running: '0  0  1  0  1  1',
  sleeping: '0  1  0  1  1  1',
  waking: '0  1  1  0  1  1',
  draining: '1  0  0  0  0  1',
  removing: '0  0  0  0  0  0',
};

function expected(from: DeploymentState, to: DeploymentState): boolean {
  return EXPECTED[from].split(/\s+/)[DEPLOYMENT_STATES.indexOf(to)] === '1';
}

describe('deployment state machine', () => {
  test('the table has a row for every state and a column for every state', () => {
    assert.deepEqual(Object.keys(EXPECTED).sort(), [...DEPLOYMENT_STATES].sort());
    for (const row of Object.values(EXPECTED)) assert.equal(row.split(/\s+/).length, DEPLOYMENT_STATES.length);
  });

  for (const from of DEPLOYMENT_STATES) {
    for (const to of DEPLOYMENT_STATES) {
      const legal = expected(from, to);
      test(`${from} -> ${to} is ${legal ? 'legal' : 'illegal'}`, () => {
        assert.equal(canDeploymentTransition(from, to), legal);
        const cell = new DeploymentStateCell('qwen', from);
        if (legal) {
          cell.transition(from, to);
          assert.equal(cell.state, to);
        } else {
          assert.throws(
            () => cell.transition(from, to),
            (err: unknown) =>
              err instanceof DeploymentTransitionError && err.kind === 'illegal' && err.from === from && err.to === to && err.deployment === 'qwen',
          );
          assert.equal(cell.state, from, 'an illegal move changes nothing');
        }
      });
    }
  }

  test('a stale caller is refused: the deployment is not in the state it expected', () => {
    const cell = new DeploymentStateCell('qwen', 'stopped');
    assert.throws(
      () => cell.transition('sleeping', 'waking'),
      (err: unknown) => err instanceof DeploymentTransitionError && err.kind === 'unexpected' && err.from === 'stopped' && err.expected.join() === 'sleeping',
    );
    assert.equal(cell.state, 'stopped');
    cell.transition(['sleeping', 'stopped'], 'running');
    assert.equal(cell.state, 'running');
  });

  test('every state but removing can be removed, and nothing leaves removing', () => {
    for (const s of DEPLOYMENT_STATES) assert.equal(canDeploymentTransition(s, 'removing'), s !== 'removing');
    for (const s of DEPLOYMENT_STATES) assert.equal(canDeploymentTransition('removing', s), false);
  });

  test('desired state: running while serving, asleep or waking; stopped otherwise', () => {
    const running = DEPLOYMENT_STATES.filter((s) => desiredOf(s) === 'running');
    assert.deepEqual(running, ['running', 'sleeping', 'waking']);
  });
});
