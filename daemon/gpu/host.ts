// Facts about the host machine, next to the GPU inventory. Capacity on unified-memory parts
// (GB10 reports every memory.* field as [N/A]) has to come from system RAM.
import type { HostInfo } from '../contract/api.js';

type Fixed = Pick<HostInfo, 'cpu' | 'os'>;

// CPU and OS do not change while the daemon runs, so they are read once they have been read
// completely. Memory is read every time: free memory is the point of asking.
let fixed: Fixed | null = null;

const orNull = <T>(read: () => Promise<T>): Promise<T | null> => read().catch(() => null);

// Loaded on first use, not at daemon start: the daemon should be listening
// before anyone asks about the host.
const systemInformation = async () => (await import('systeminformation')).default;

async function readFixed(): Promise<Fixed> {
  if (fixed) return fixed;
  const [cpu, os] = await Promise.all([
    orNull(async () => {
      const c = await (await systemInformation()).cpu();
      return {
        brand: [c.manufacturer, c.brand].filter(Boolean).join(' '),
        cores: c.cores,
        physicalCores: c.physicalCores,
      };
    }),
    orNull(async () => {
      const o = await (await systemInformation()).osInfo();
      return { platform: o.platform, distro: o.distro, release: o.release, kernel: o.kernel, arch: o.arch };
    }),
  ]);
  if (cpu && os) fixed = { cpu, os };
  return { cpu, os };
}

/** CPU, memory and OS; a part that cannot be read is null. Never throws. */
export async function readHostInfo(): Promise<HostInfo> {
  const [{ cpu, os }, memory] = await Promise.all([
    readFixed(),
    orNull(async () => {
      const m = await (await systemInformation()).mem();
      // `available` counts reclaimable page cache; `free` on Linux does not.
      return { totalBytes: m.total, freeBytes: m.available };
    }),
  ]);
  return { cpu, memory, os };
}
