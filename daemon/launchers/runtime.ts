// Builds the daemon's launchers from its settings: the pty launcher, the
// container launcher over the Engine API, the one Launcher that picks
// between them, and the resolver for `mode: auto`.
import type { Settings } from '../config/settings.js';
import { readGpuInventory } from '../gpu/inventory.js';
import { createContainerLauncher } from './docker/container-launcher.js';
import { createModes, dockerApiFor } from './mode-probes.js';
import { createPtyLauncher } from './pty.js';
import { createLauncher } from './select.js';
import type { Launcher, ModeResolver } from './types.js';

type RuntimeSettings = Pick<Settings, 'docker' | 'home' | 'vllmPython' | 'sglangPython' | 'nvidiaSmi'>;

export function createRuntime(settings: RuntimeSettings, env: Record<string, string>): { launcher: Launcher; modes: ModeResolver } {
  const api = dockerApiFor(settings, env);
  const container = createContainerLauncher({
    api,
    stateDir: settings.home,
    gpuPids: async () => {
      // Only the processes matter: skip the host facts (systeminformation is slow).
      const inv = await readGpuInventory({ nvidiaSmi: settings.nvidiaSmi, host: async () => ({ cpu: null, memory: null, os: null }) });
      if (!inv.available) throw new Error(inv.reason ?? 'no GPU inventory');
      return new Set(inv.gpus.flatMap((g) => g.processes.map((p) => p.pid)));
    },
  });
  return { launcher: createLauncher({ process: createPtyLauncher(), container }), modes: createModes(settings, env, api) };
}
