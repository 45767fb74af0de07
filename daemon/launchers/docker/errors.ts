// Docker's refusals, in words a user can act on. The Engine API gives a
// status and the daemon's message, no code, so the message is read here and
// only here; each pattern is Docker's own wording.
import { LaunchError } from '../launch-error.js';
import { DockerApiError } from './engine-api.js';

/** `--gpus` with no NVIDIA Container Toolkit: Docker has no device driver for "gpu". */
export const GPU_DRIVER_MISSING = /could not select device driver "[^"]*" with capabilities: \[\[gpu\]\]/;

/** The one-line fix for GPU_DRIVER_MISSING (NVIDIA Container Toolkit install guide). */
export const GPU_DRIVER_FIX = 'install the NVIDIA Container Toolkit, then run `sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker`';

export function explainDockerError(message: string): string {
  if (GPU_DRIVER_MISSING.test(message)) return `Docker cannot give the container GPUs (${message.trim()}): ${GPU_DRIVER_FIX}`;
  if (/port is already allocated|address already in use/i.test(message)) return `the engine port is already taken on the host (${message.trim()})`;
  return message.trim();
}

/** A failed Engine API call during a launch, as the LaunchError the supervisor shows. */
export function dockerLaunchError(what: string, err: unknown): LaunchError {
  if (err instanceof LaunchError) return err;
  if (err instanceof DockerApiError) {
    if (err.status === 0) {
      const hint = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? ': is Docker running? (`berth doctor` checks)' : err.code === 'EACCES' ? ': add the daemon\'s user to the docker group' : '';
      return new LaunchError('EDOCKER', `${err.message}${hint}`, { cause: err });
    }
    return new LaunchError('EDOCKER', `${what}: ${explainDockerError(err.message)}`, { cause: err });
  }
  return new LaunchError('EDOCKER', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
