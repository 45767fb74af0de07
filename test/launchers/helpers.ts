// Shared by the launcher tests: start through the real pty launcher, wait for
// output, and make sure no test leaves a process group behind.
import { createPtyLauncher } from '../../daemon/launchers/pty.js';
import type { LaunchSpec, RunningProcess } from '../../daemon/launchers/types.js';
import { SAFETY_MS } from '../helpers/limits.js';

export const launcher = createPtyLauncher();

/** The minimal environment the test children need: just a PATH. */
export const TEST_ENV: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

const started = new Set<number>();

export async function start(argv: string[], spec: Partial<LaunchSpec> = {}): Promise<Spawned> {
  const proc = await launcher.start({ argv, env: TEST_ENV, ...spec });
  started.add(proc.pid);
  return new Spawned(proc);
}

/** SIGKILLs every group a test started; for `after()` hooks. */
export function killAllStarted(): void {
  for (const pgid of started) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  started.clear();
}

/** A started process with its output collected from the first byte. */
export class Spawned {
  output = '';
  private waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  constructor(readonly proc: RunningProcess) {
    proc.onData((chunk) => {
      this.output += chunk;
      this.waiters = this.waiters.filter((w) => {
        const m = this.output.match(w.re);
        if (m) w.resolve(m);
        return !m;
      });
    });
  }

  /** Resolves with the first match of `re` in the output so far or to come. */
  waitFor(re: RegExp, timeoutMs = SAFETY_MS): Promise<RegExpMatchArray> {
    const m = this.output.match(re);
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output so far: ${JSON.stringify(this.output)}`)), timeoutMs);
      this.waiters.push({
        re,
        resolve: (match) => {
          clearTimeout(timer);
          resolve(match);
        },
      });
    });
  }
}
