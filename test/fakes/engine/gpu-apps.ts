// FAKE_GPU_APPS_DIR: the engine records the GPU memory it "holds" where the fake
// nvidia-smi lists it from (test/fakes/nvidia-smi/gpu-apps.ts), and takes the
// record back when it exits. A process killed by SIGKILL cannot; the fake
// nvidia-smi skips records of dead pids, as the driver forgets dead processes.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GpuAppFile } from '../nvidia-smi/gpu-apps.js';
import type { Knobs } from './knobs.js';

const recorded: string[] = [];

/** Records `pid` as holding knobs.gpuMemoryMiB on each GPU of our CUDA_VISIBLE_DEVICES. */
export function recordGpuUse(knobs: Knobs, pid: number, name: string): void {
  if (!knobs.gpuAppsDir) return;
  const app: GpuAppFile = { pid, name, cudaVisibleDevices: process.env.CUDA_VISIBLE_DEVICES ?? null, usedMiB: knobs.gpuMemoryMiB };
  const file = join(knobs.gpuAppsDir, `${pid}.json`);
  // Renamed into place, so the fake nvidia-smi never reads half a record.
  writeFileSync(`${file}.tmp`, JSON.stringify(app));
  renameSync(`${file}.tmp`, file);
  if (recorded.length === 0) process.on('exit', () => {
    for (const f of recorded) rmSync(f, { force: true });
  });
  recorded.push(file);
}

