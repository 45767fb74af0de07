// A test daemon whose Docker is a fresh fake Docker (server.ts), with GPU
// accounting wired between the fake engine and the fake nvidia-smi.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SettingsInput } from '../../../daemon/config/settings.js';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { startFakeDocker, type FakeDocker, type FakeDockerOptions } from './server.js';

export interface ContainerRig {
  d: TestDaemon;
  docker: FakeDocker;
  /** Where the fake engines and the fake nvidia-smi share GPU processes. */
  gpuApps: string;
  stop(): Promise<void>;
}

export async function startContainerRig(opts: {
  docker?: FakeDockerOptions;
  settings?: Partial<SettingsInput>;
  env?: Record<string, string>;
  machine?: string;
  home?: string;
  log?: Logger;
} = {}): Promise<ContainerRig> {
  const gpuApps = mkdtempSync(join(tmpdir(), 'berth-gpu-apps-'));
  // The fake nvidia-smi runs as the daemon's child with this process's environment.
  process.env.FAKE_GPU_APPS_DIR = gpuApps;
  const docker = await startFakeDocker({ ...opts.docker, imageEnv: { FAKE_GPU_APPS_DIR: gpuApps, ...opts.docker?.imageEnv } });
  const d = await startTestDaemon({
    machine: opts.machine ?? 'h100x8',
    home: opts.home,
    settings: { docker: `unix://${docker.socketPath}`, stopGraceMs: 2000, ...opts.settings },
    env: opts.env,
    log: opts.log,
  });
  return {
    d,
    docker,
    gpuApps,
    async stop() {
      await d.stop();
      await docker.close();
      rmSync(gpuApps, { recursive: true, force: true });
    },
  };
}

/** The create bodies the daemon sent, in order. */
export function creates(docker: FakeDocker): { name: string; body: Record<string, unknown> }[] {
  return docker.calls.filter((c) => c.method === 'POST' && c.path === '/containers/create').map((c) => ({ name: c.query.name ?? '', body: c.body as Record<string, unknown> }));
}
