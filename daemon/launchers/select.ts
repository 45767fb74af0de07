// One Launcher for the supervisor over the two ways an engine runs: a spec
// that carries a container plan goes to Docker, any other to a pty. The
// supervisor hands over a plan and never asks which.
import type { Launcher } from './types.js';

export function createLauncher(parts: { process: Launcher; container: Launcher }): Launcher {
  const pick = (container: boolean) => (container ? parts.container : parts.process);
  return {
    start: (spec) => pick(spec.container !== undefined).start(spec),
    async prepare(spec, hooks, signal) {
      await pick(spec.container !== undefined).prepare?.(spec, hooks, signal);
    },
    async reapLeftovers() {
      let n = 0;
      for (const l of [parts.process, parts.container]) n += (await l.reapLeftovers?.()) ?? 0;
      return n;
    },
  };
}
