// The GPU feed: read only while someone watches, publish only what changed.
import assert from 'node:assert/strict';
import { setImmediate as settle } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { GpuInventory } from '../../daemon/contract/api.js';
import { changeKey, GpuFeed, NUDGE_DELAY_MS, type GpuReading } from '../../daemon/events/gpu-feed.js';

const MiB = 1024 * 1024;

function reading(o: { checkedAt?: string; at?: string; util?: number; freeBytes?: number; usedMiB?: number } = {}): GpuReading {
  const gpus: GpuInventory = {
    available: true,
    reason: null,
    driverVersion: '590.48.01',
    cudaVersion: '13.1',
    gpus: [
      {
        index: 0, uuid: 'GPU-0', name: 'NVIDIA H100 80GB HBM3', busId: null, memoryTotalMiB: 81559, memoryUsedMiB: 0, memoryFreeMiB: 81081,
        utilizationPct: o.util ?? 0, memoryUtilizationPct: 0, temperatureC: 41, powerDrawW: 70, powerLimitW: 700, computeCap: '9.0', migEnabled: false, processes: [],
      },
    ],
    lost: [],
    host: { cpu: null, memory: { totalBytes: 64 * 1024 * MiB, freeBytes: o.freeBytes ?? 32 * 1024 * MiB }, os: null },
    checkedAt: o.checkedAt ?? '2025-01-01T00:00:00.000Z',
  };
  const usage = {
    shares: [{ gpuIndex: 0, gpuUuid: 'GPU-0', deployment: 'q', replica: 'q-1', allocatedMiB: 73403, usedMiB: o.usedMiB ?? 1000, pids: [1] }],
    foreign: [],
    at: o.at ?? '2025-01-01T00:00:00.000Z',
  };
  return { gpus, usage };
}

describe('changeKey', () => {
  it('ignores the timestamps and host memory moves below 64 MiB; sees the rest', () => {
    const base = changeKey(reading());
    assert.equal(changeKey(reading({ checkedAt: 'later', at: 'later' })), base);
    assert.equal(changeKey(reading({ freeBytes: 32 * 1024 * MiB + 5 * MiB })), base);
    assert.notEqual(changeKey(reading({ freeBytes: 31 * 1024 * MiB })), base);
    assert.notEqual(changeKey(reading({ util: 40 })), base);
    assert.notEqual(changeKey(reading({ usedMiB: 2000 })), base);
  });
});

describe('GpuFeed', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setInterval', 'setTimeout'] }));
  afterEach(() => mock.timers.reset());

  function harness() {
    let clientWatcher: (n: number) => void = () => undefined;
    const next = { value: reading() };
    let reads = 0;
    const published: GpuReading[] = [];
    const feed = new GpuFeed({
      read: async () => {
        reads++;
        return next.value;
      },
      publish: (r) => published.push(r),
      onClients: (fn) => {
        clientWatcher = fn;
        return () => {
          clientWatcher = () => undefined;
        };
      },
      intervalMs: 3000,
    });
    const clients = async (n: number) => {
      clientWatcher(n);
      await settle();
    };
    const tick = async () => {
      mock.timers.tick(3000);
      await settle();
    };
    return { feed, next, published, clients, tick, reads: () => reads };
  }

  it('runs nvidia-smi only while a client watches; publishes at once, then only changes', async () => {
    const h = harness();
    for (let i = 0; i < 5; i++) await h.tick();
    assert.equal(h.reads(), 0, 'nobody watching: no reading');
    assert.equal(h.feed.last, null);

    await h.clients(1);
    assert.equal(h.reads(), 1, 'the first client gets the GPUs at once');
    assert.equal(h.published.length, 1);
    h.next.value = reading({ checkedAt: 'later', at: 'later' });
    await h.tick();
    assert.equal(h.reads(), 2);
    assert.equal(h.published.length, 1, 'only the time changed');
    h.next.value = reading({ usedMiB: 5000 });
    await h.clients(2);
    await h.tick();
    assert.equal(h.published.length, 2);
    assert.equal(h.published[1]!.usage.shares[0]!.usedMiB, 5000);

    await h.clients(0);
    const reads = h.reads();
    for (let i = 0; i < 5; i++) await h.tick();
    assert.equal(h.reads(), reads, 'the last client left: no more readings');
    h.feed.close();
  });

  it('an API call reads on demand without a client, and the reading is what a snapshot shows', async () => {
    const h = harness();
    const r = await h.feed.read();
    assert.equal(h.feed.last, r);
    assert.equal(h.published.length, 0, 'an on-demand reading is not broadcast');
    h.feed.close();
  });

  it('a nudge reads again after a short pause, once for a burst, and only while watched', async () => {
    const h = harness();
    h.feed.nudge();
    mock.timers.tick(NUDGE_DELAY_MS);
    await settle();
    assert.equal(h.reads(), 0, 'nobody watching: a nudge reads nothing');

    await h.clients(1);
    assert.equal(h.reads(), 1);
    h.next.value = reading({ usedMiB: 7000 });
    h.feed.nudge();
    h.feed.nudge();
    h.feed.nudge();
    mock.timers.tick(NUDGE_DELAY_MS);
    await settle();
    assert.equal(h.reads(), 2, 'three nudges, one reading');
    assert.equal(h.published.at(-1)!.usage.shares[0]!.usedMiB, 7000, 'published before the next interval');
    h.feed.close();
  });

  it('close() stops the polling and ignores later clients', async () => {
    const h = harness();
    await h.clients(1);
    h.feed.close();
    await h.clients(1);
    const reads = h.reads();
    for (let i = 0; i < 3; i++) await h.tick();
    assert.equal(h.reads(), reads);
  });
});
