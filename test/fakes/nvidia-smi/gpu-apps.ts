// The handshake between the two fakes that lets GPU accounting be tested at the
// process boundary: a fake engine started with FAKE_GPU_APPS_DIR writes
// `<dir>/<pid>.json` (below) and removes it when it exits; the fake nvidia-smi,
// run with the same variable, lists each live one as a compute app on the
// machine's GPUs at the indexes its CUDA_VISIBLE_DEVICES names, as the real
// driver lists an engine that holds memory there.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GpuProcess } from '../../../daemon/contract/api.js';

/** Read by both fakes; the daemon passes FAKE_* variables through to engines. */
export const GPU_APPS_DIR_ENV = 'FAKE_GPU_APPS_DIR';

/** One process that holds GPU memory. */
export interface GpuAppFile {
  pid: number;
  /** As nvidia-smi prints it for the process. */
  name: string;
  /** The process's CUDA_VISIBLE_DEVICES; null when unset (every GPU, as CUDA reads it). */
  cudaVisibleDevices: string | null;
  /** Memory it holds on each of those GPUs. */
  usedMiB: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The compute apps of the engines recorded in `dir`, on a machine whose GPU
 * uuids by index are `uuids`. A file whose process is gone (killed before it
 * could remove it) is skipped, as the driver forgets a dead process; indexes
 * the machine does not have are skipped, as CUDA ignores them.
 */
export function gpuApps(dir: string, uuids: ReadonlyMap<number, string>): GpuProcess[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^\d+\.json$/.test(n));
  } catch {
    return [];
  }
  const out: GpuProcess[] = [];
  for (const n of names.sort()) {
    let app: GpuAppFile;
    try {
      app = JSON.parse(readFileSync(join(dir, n), 'utf8')) as GpuAppFile;
    } catch {
      continue; // removed between the listing and the read
    }
    if (!alive(app.pid)) continue;
    const indexes =
      app.cudaVisibleDevices === null
        ? [...uuids.keys()]
        : app.cudaVisibleDevices.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
    for (const i of indexes) {
      const uuid = uuids.get(i);
      if (uuid) out.push({ pid: app.pid, name: app.name, gpuUuid: uuid, usedMiB: app.usedMiB });
    }
  }
  return out;
}
