// decideByTtft: ScaleGenAI's ttft_latency_sec strategy as a pure decision,
// table-driven: the mean time to first token against the allowed band.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideByTtft, type TtftInput } from '../../daemon/scheduler/autoscale.js';

const NOW = 1_000_000;
const base: TtftInput = { now: NOW, samples: [], since: 0, windowMs: 60_000, current: 2, min: 1, max: 4, upper: 1, lower: 0.2 };
const at = (...vs: number[]) => vs.map((v, i) => ({ t: NOW - 1000 * (i + 1), v }));

describe('scaling on time to first token', () => {
  const cases: [string, Partial<TtftInput>, number][] = [
    ['slow first tokens: one more replica', { samples: at(1.5, 2, 0.9) }, 3],
    ['fast first tokens: one fewer', { samples: at(0.1, 0.05) }, 1],
    ['inside the band: hold', { samples: at(0.5, 0.6) }, 2],
    ['no samples (no streams): hold', { samples: [] }, 2],
    ['never above max', { samples: at(5), current: 4 }, 4],
    ['never below min', { samples: at(0.01), current: 1 }, 1],
    ['samples older than the window do not count', { samples: [{ t: NOW - 61_000, v: 9 }] }, 2],
    ['samples from before the last change do not count', { samples: at(3, 3), since: NOW - 500 }, 2],
    ['exactly the upper bound is not above it', { samples: at(1) }, 2],
  ];
  for (const [what, over, want] of cases) {
    it(what, () => assert.equal(decideByTtft({ ...base, ...over }), want));
  }
});
