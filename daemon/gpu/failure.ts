// Why an nvidia-smi run gave nothing usable, in plain words. Pure.
// nvidia-smi prints its errors on stdout, not stderr (every capture whose stream could be
// told apart), so the exit code is the signal and stdout the detail. Evidence:
// test/fixtures/nvidia-smi/README.md ("Exit codes").

/** What one nvidia-smi run produced, as the exec adapter saw it. */
export interface NvidiaSmiRun {
  /** null when the process never started, or was killed. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Set when the binary could not be started; `code` is Node's (ENOENT, EACCES). */
  spawnError?: { code?: string | undefined } | null;
  /** Set to the limit when the run was killed for not answering in time. */
  timedOutAfterMs?: number | null;
}

export const NOT_INSTALLED = 'no NVIDIA driver tools (nvidia-smi not found)';
export const NO_GPU = 'No NVIDIA GPU found';

const NO_DEVICES = `${NO_GPU} (the driver is loaded but sees no devices)`;
const NO_SUPPORTED = `${NO_GPU} (the driver is loaded but no supported GPU is bound to it)`;
const NOT_LOADED = 'The NVIDIA driver is not loaded (nvidia-smi could not communicate with it)';
const MISMATCH =
  'NVIDIA driver/library version mismatch: the loaded kernel module differs from the installed ' +
  'libraries (reboot after a driver update)';
const OFF_THE_BUS = 'An NVIDIA GPU has fallen off the bus (reboot to recover it)';
const DENIED = 'nvidia-smi was denied permission';
const NO_NVML = 'The NVML library was not found (the NVIDIA driver is not fully installed)';
// Reasons with a variable tail: the prefix is what gpuFailureKind() recognises.
const TIMED_OUT = 'nvidia-smi did not answer within';
const NOT_STARTED = 'nvidia-smi could not be started';
const REJECTED = 'nvidia-smi rejected the query:';
const NVML_INIT = 'The NVIDIA driver could not be initialised';

const firstLine = (text: string): string =>
  text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .find((line) => line !== '') ?? '';

const rejected = (run: NvidiaSmiRun): string => `${REJECTED} ${firstLine(run.stdout) || firstLine(run.stderr)}`;

// The man page's RETURN VALUE list. Codes not here (255 "other error", 3, 10, 13...) are
// shared by several causes, so those fall through to the text.
const BY_EXIT_CODE: Readonly<Record<number, (run: NvidiaSmiRun) => string | null>> = {
  0: () => null,
  2: rejected, // invalid argument: an unknown field or option (invalid-field, unknown-option)
  4: () => DENIED,
  6: () => NO_DEVICES,
  9: () => NOT_LOADED,
  12: () => NO_NVML,
  // infoROM corrupted: the table and rows are complete, a WARNING line follows
  // (inforom-corrupted). Throwing that output away would lose a working GPU.
  14: () => null,
  15: () => OFF_THE_BUS,
  18: () => MISMATCH, // NVML_ERROR_LIB_RM_VERSION_MISMATCH (version-mismatch, `echo $?`)
};

// For exit 255 and codes nobody captured (version-mismatch-old, gpu-lost).
const BY_TEXT: readonly [RegExp, (match: RegExpExecArray, run: NvidiaSmiRun) => string][] = [
  [/No devices were found/i, () => NO_DEVICES],
  [/couldn't communicate with the NVIDIA driver/i, () => NOT_LOADED],
  [/Driver\/library version mismatch/i, () => MISMATCH],
  [/No supported GPUs were found/i, () => NO_SUPPORTED],
  [/Unable to determine the device handle for/i, () => OFF_THE_BUS],
  [
    /Failed to initialize NVML: ([^\r\n]+)/i,
    // Seen inside containers that lost /dev/nvidia* after a cgroup reload (nvml-unknown-error).
    (m) => `${NVML_INIT} (NVML: ${m[1]?.trim()})`,
  ],
  [/is not a valid field to query|is not recognized/i, (_, run) => rejected(run)],
];

/** A plain-words reason when `run` gave nothing usable; null when its output can be parsed. */
export function classifyFailure(run: NvidiaSmiRun): string | null {
  if (run.timedOutAfterMs != null) {
    return `${TIMED_OUT} ${run.timedOutAfterMs / 1000} s`;
  }
  // ENOENT from spawn, or 127 when a shell ran it: nothing to ask.
  if (run.spawnError?.code === 'ENOENT' || run.exitCode === 127) return NOT_INSTALLED;
  if (run.spawnError) return `${NOT_STARTED} (${run.spawnError.code ?? 'unknown error'})`;

  const byCode = run.exitCode === null ? undefined : BY_EXIT_CODE[run.exitCode];
  if (byCode) return byCode(run);

  const text = `${run.stdout}\n${run.stderr}`;
  for (const [pattern, reason] of BY_TEXT) {
    const match = pattern.exec(text);
    if (match) return reason(match, run);
  }
  const detail = firstLine(run.stdout) || firstLine(run.stderr);
  return `nvidia-smi failed (exit ${run.exitCode ?? 'unknown'})${detail ? `: ${detail}` : ''}`;
}

/**
 * What went wrong, as a kind a program can act on (the doctor picks its fix
 * by it). The inventory carries only the words, so this reads back a reason
 * this module wrote: its own constants, never nvidia-smi's text.
 */
export type GpuFailureKind =
  | 'not-installed'
  | 'not-loaded'
  | 'version-mismatch'
  | 'no-devices'
  | 'no-supported-gpu'
  | 'off-the-bus'
  | 'no-nvml'
  | 'nvml-init'
  | 'permission'
  | 'timeout'
  | 'not-started'
  | 'rejected'
  | 'unknown';

const KIND_OF_REASON: ReadonlyMap<string, GpuFailureKind> = new Map([
  [NOT_INSTALLED, 'not-installed'],
  [NOT_LOADED, 'not-loaded'],
  [MISMATCH, 'version-mismatch'],
  // The query answered with no rows and no error: nothing to tell apart from no devices.
  [NO_GPU, 'no-devices'],
  [NO_DEVICES, 'no-devices'],
  [NO_SUPPORTED, 'no-supported-gpu'],
  [OFF_THE_BUS, 'off-the-bus'],
  [NO_NVML, 'no-nvml'],
  [DENIED, 'permission'],
]);

const KIND_OF_PREFIX: readonly [string, GpuFailureKind][] = [
  [TIMED_OUT, 'timeout'],
  [NOT_STARTED, 'not-started'],
  [REJECTED, 'rejected'],
  [NVML_INIT, 'nvml-init'],
];

/** The kind of a reason classifyFailure() gave (or the inventory's NO_GPU); `unknown` for any other text. */
export function gpuFailureKind(reason: string): GpuFailureKind {
  const exact = KIND_OF_REASON.get(reason);
  if (exact) return exact;
  return KIND_OF_PREFIX.find(([prefix]) => reason.startsWith(prefix))?.[1] ?? 'unknown';
}
