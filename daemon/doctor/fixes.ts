// What the doctor tells a user to do about a failing check: one command to
// copy where one command fixes it, and a note saying what it does or what
// to do instead. Pure: the checks (doctor.ts) say what failed, this decides
// the fix from that alone.
import type { DoctorFix } from '../contract/api.js';
import type { GpuFailureKind } from '../gpu/failure.js';

export type EngineName = 'vllm' | 'sglang';

/** How an engine's import probe ended. */
export type EngineOutcome = 'ok' | 'python-not-found' | 'import-failed' | 'timeout';

/**
 * Where the python setting came from: the daemon's environment, which
 * overrides Settings, or Settings (the file, or the default).
 */
export type SettingOrigin = 'env' | 'settings';

export interface EngineFixInput {
  engine: EngineName;
  outcome: EngineOutcome;
  /** The python Berth is configured with for this engine, as configured. */
  python: string;
  origin: SettingOrigin;
  /** The version Berth's recipe targets (the catalogue's default). */
  version: string;
  /** The daemon user's home: a new virtualenv goes under it, as an absolute path the setting can hold. */
  home: string;
}

const LABEL: Record<EngineName, string> = { vllm: 'vLLM', sglang: 'SGLang' };
const SETTING: Record<EngineName, { key: string; env: string }> = {
  vllm: { key: 'vllmPython', env: 'BERTH_VLLM_PYTHON' },
  sglang: { key: 'sglangPython', env: 'BERTH_SGLANG_PYTHON' },
};

/**
 * The pip requirement for the version Berth targets. vLLM's wheel carries its
 * CUDA kernels. SGLang's serving runtime is an extra: the bare `sglang`
 * package is only its frontend language, and `[all]` is the install the
 * engine specs assume ("pip venv ... with sglang[all]==0.4.6",
 * shared/fixtures/engine-logs) and the one its release images build
 * (BUILD_TYPE=all, shared/engines/images.json).
 */
export function requirement(engine: EngineName, version: string): string {
  return engine === 'sglang' ? `sglang[all]==${version}` : `vllm==${version}`;
}

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** `s` as one word of a POSIX shell command: unchanged when nothing in it is special, else single-quoted. */
export function shellWord(s: string): string {
  return SAFE.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * The distribution's own python, found on PATH or in the system's bin
 * folders. pip refuses to install into it on current distributions
 * (PEP 668, "externally-managed-environment"), and it should not be touched
 * anyway: the fix for it is a virtualenv of its own.
 */
export function isSystemPython(python: string): boolean {
  if (!python.includes('/')) return /^python(\d+(\.\d+)?)?$/.test(python);
  return /^\/(usr\/(local\/)?)?bin\/python(\d+(\.\d+)?)?$/.test(python);
}

/** `/x/venv` for `/x/venv/bin/python` (or python3): where a missing virtualenv's python says it should be. */
function venvOf(python: string): string | null {
  const m = /^(\/.+)\/bin\/python3?$/.exec(python);
  return m ? m[1]! : null;
}

/** How to point Berth at another python, given where the current value came from. */
function pointAt(engine: EngineName, origin: SettingOrigin, python: string): string {
  const { key, env } = SETTING[engine];
  const value = shellWord(python);
  if (origin === 'env') return `set ${env}=${value} in the daemon's environment (it overrides Settings) and restart the daemon`;
  return `set ${LABEL[engine]} Python in Settings (${key}, or ${env}) to ${value} and restart the daemon`;
}

const VENV_PACKAGE = 'On Debian and Ubuntu, `python3 -m venv` needs the python3-venv package.';

/** The fix for an engine check; null when it passed. */
export function engineFix(input: EngineFixInput): DoctorFix | null {
  const { engine, outcome, python, origin, version, home } = input;
  const label = LABEL[engine];
  const req = shellWord(requirement(engine, version));
  switch (outcome) {
    case 'ok':
      return null;
    case 'timeout':
      return {
        command: null,
        note: `The first import of ${label} can take minutes on a cold cache: check again. If it keeps timing out, run ${shellWord(python)} -c "import ${engine}" to see where it stops.`,
      };
    case 'python-not-found': {
      // A virtualenv's python that is not there: create the virtualenv where the setting points.
      const venv = venvOf(python);
      if (venv) {
        return {
          command: `python3 -m venv ${shellWord(venv)} && ${shellWord(python)} -m pip install ${req}`,
          note: `Creates the virtualenv Berth is configured to run ${label} from (${python}) with ${label} ${version} in it; check again when it is done. ${VENV_PACKAGE}`,
        };
      }
      return newVenv(input, 'python3');
    }
    case 'import-failed':
      if (isSystemPython(python)) return newVenv(input, python);
      return {
        command: `${shellWord(python)} -m pip install ${req}`,
        note: `Installs ${label} ${version}, the version Berth's recipe targets, into the environment Berth runs it from (${python}); check again when it is done.`,
      };
  }
}

/** A virtualenv of the engine's own under the daemon user's home, made with `creator`, and the setting pointed at it. */
function newVenv({ engine, version, origin, home }: EngineFixInput, creator: string): DoctorFix {
  const venv = `${home.replace(/\/+$/, '')}/venvs/${engine}`;
  const python = `${venv}/bin/python`;
  return {
    command: `${shellWord(creator)} -m venv ${shellWord(venv)} && ${shellWord(python)} -m pip install ${shellWord(requirement(engine, version))}`,
    note: `Installs ${LABEL[engine]} ${version} in a virtualenv of its own; then ${pointAt(engine, origin, python)}. ${VENV_PACKAGE}`,
  };
}

const SETTINGS_PATH = "or, if nvidia-smi is installed somewhere else, set nvidia-smi's path in Settings (nvidiaSmi, or BERTH_NVIDIA_SMI)";

/**
 * The fix for nvidia-smi's failure, by what daemon/gpu/failure.ts found.
 * The words follow NVIDIA's own messages (test/fixtures/nvidia-smi/README.md,
 * "Exit codes"): a version mismatch is a driver updated under a running
 * kernel module, which a reboot replaces.
 */
const GPU_FIXES: Record<GpuFailureKind, DoctorFix | null> = {
  'not-installed': {
    command: null,
    note: `Install the NVIDIA driver from your distribution (nvidia-smi comes with it), ${SETTINGS_PATH}.`,
  },
  'not-loaded': {
    command: 'sudo modprobe nvidia',
    note: 'Loads the driver’s kernel module. If it fails, the driver is not built for the running kernel: reinstall the driver, or reboot into the kernel it was built for.',
  },
  'version-mismatch': {
    command: 'sudo reboot',
    note: 'The driver was updated while the old kernel module stayed loaded; a reboot loads the module that matches the installed libraries.',
  },
  'off-the-bus': {
    command: 'sudo reboot',
    note: 'A GPU that fell off the bus comes back only after a reboot. If it happens again, check its power and seating, and `sudo dmesg` for Xid errors.',
  },
  'no-devices': {
    command: null,
    note: 'The driver is loaded but sees no GPU: check that the card is seated and powered and that `lspci | grep -i nvidia` lists it. Deployments with GPU count 0 still run.',
  },
  'no-supported-gpu': {
    command: null,
    note: 'The installed driver does not support this GPU: install a driver version whose supported-products list includes it.',
  },
  'no-nvml': {
    command: null,
    note: 'The NVIDIA driver is only partly installed (libnvidia-ml is missing): reinstall the driver.',
  },
  'nvml-init': {
    command: null,
    note: 'Seen in containers that lost their /dev/nvidia* devices after a cgroup reload: restart the container (or the machine).',
  },
  permission: {
    command: null,
    note: 'Run the daemon as a user allowed to open the GPU devices (/dev/nvidia*; often the video group).',
  },
  timeout: {
    command: null,
    note: 'nvidia-smi hangs like this after a GPU falls off the bus: look for Xid errors in `sudo dmesg`, then reboot.',
  },
  'not-started': { command: null, note: `Check that nvidia-smi is executable by the daemon's user, ${SETTINGS_PATH}.` },
  rejected: { command: null, note: 'nvidia-smi refused Berth’s query: the driver is likely too old. Update the NVIDIA driver.' },
  unknown: null,
};

export function gpuFix(kind: GpuFailureKind): DoctorFix | null {
  return GPU_FIXES[kind];
}

/** Docker matters only to deployments in container mode, and what to install differs by distribution. */
export function dockerFix(socket: string): DoctorFix {
  return {
    command: null,
    note: `Only container mode needs it: install Docker Engine and the NVIDIA Container Toolkit, then run \`sudo nvidia-ctk runtime configure --runtime=docker\` and restart Docker. If Docker listens elsewhere than ${socket} (rootless Docker, Podman), set its socket in Settings (docker, or BERTH_DOCKER), e.g. unix://$XDG_RUNTIME_DIR/docker.sock.`,
  };
}

/** Docker answers but cannot reach the daemon's socket: permissions, or a stopped service. */
export function dockerUnreachableFix(code: string | null): DoctorFix {
  if (code === 'EACCES') {
    return { command: 'sudo usermod -aG docker "$USER"', note: "Lets the daemon's user talk to Docker; log out and back in (or restart the daemon under the new group) for it to apply." };
  }
  return { command: 'sudo systemctl start docker', note: 'Starts the Docker service; `sudo systemctl enable docker` keeps it on after a reboot.' };
}

/**
 * Docker without GPU support: `--gpus` fails with `could not select device
 * driver "" with capabilities: [[gpu]]`. The toolkit's own configure command
 * registers the nvidia runtime (NVIDIA Container Toolkit install guide).
 */
export function dockerGpuFix(): DoctorFix {
  return {
    command: 'sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker',
    note: 'Registers the NVIDIA runtime with Docker, which is what `could not select device driver "" with capabilities: [[gpu]]` asks for; install the NVIDIA Container Toolkit first if nvidia-ctk is missing.',
  };
}

/** A catalogued image not yet on this machine: Berth pulls it on first start, or pull it now. */
export function imageFix(image: string): DoctorFix {
  return { command: `docker pull ${shellWord(image)}`, note: 'Optional: a container deployment pulls it on its first start (several GB); pulling now makes that start quick.' };
}
