// The thin I/O adapter: run nvidia-smi, hand its output to the pure parsers, never throw.
import type { GpuInventory, HostInfo, LostGpu } from '../contract/api.js';
import { readHostInfo } from './host.js';
import {
  classifyFailure,
  COMPUTE_APPS_ARGV,
  NO_GPU,
  parseComputeApps,
  parseLostGpus,
  parseQueryGpu,
  parseTableHeader,
  parseVersion,
  QUERY_GPU_ARGV,
  type DriverVersions,
  type NvidiaSmiRun,
} from './nvidia-smi.js';

export interface InventoryOptions {
  /** The nvidia-smi binary: a name looked up on PATH, or a path. */
  nvidiaSmi: string;
  /** Limit per nvidia-smi run. It can hang after a GPU falls off the bus. Default 10 s. */
  timeoutMs?: number;
  /** Host facts; readHostInfo by default. */
  host?: () => Promise<HostInfo>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
// After SIGTERM at the limit, SIGKILL follows this much later. A process stuck in the driver
// (uninterruptible sleep) survives even SIGKILL, so past this we stop waiting for it at all.
const KILL_GRACE_MS = 1_000;

type Run = (argv: readonly string[]) => Promise<NvidiaSmiRun>;

function runner(bin: string, timeoutMs: number): Run {
  return async (argv) => {
    const gaveUp: NvidiaSmiRun = { exitCode: null, stdout: '', stderr: '', timedOutAfterMs: timeoutMs };
    let timer: NodeJS.Timeout | undefined;
    try {
      // Loaded on first use: execa is some 250 modules, and the daemon should
      // be listening before anyone asks for GPUs.
      const { execa } = await import('execa');
      const child = execa(bin, argv, {
        reject: false,
        timeout: timeoutMs,
        forceKillAfterDelay: KILL_GRACE_MS,
        stdin: 'ignore',
      });
      const abandon = new Promise<NvidiaSmiRun>((resolve) => {
        timer = setTimeout(() => resolve(gaveUp), timeoutMs + 2 * KILL_GRACE_MS);
      });
      const outcome = child.then((r): NvidiaSmiRun => {
        const code = typeof r.code === 'string' ? r.code : undefined;
        return {
          exitCode: r.exitCode ?? null,
          stdout: typeof r.stdout === 'string' ? r.stdout : '',
          stderr: typeof r.stderr === 'string' ? r.stderr : '',
          // execa reports a spawn failure as failed with no exit code and no signal.
          spawnError: r.failed && r.exitCode === undefined && !r.isTerminated ? { code } : null,
          timedOutAfterMs: r.timedOut ? timeoutMs : null,
        };
      });
      return await Promise.race([outcome, abandon]);
    } catch (err) {
      // execa reports spawn failures in the result; this is for whatever else it throws.
      const code = (err as { code?: unknown }).code;
      const spawnError = { code: typeof code === 'string' ? code : undefined };
      return { exitCode: null, stdout: '', stderr: '', spawnError };
    } finally {
      clearTimeout(timer);
    }
  };
}

const usable = (run: NvidiaSmiRun): boolean => classifyFailure(run) === null;

/** `--version` first; the plain table's header where --version is unknown (535) or silent. */
async function readVersions(run: Run): Promise<DriverVersions> {
  const v = await run(['--version']);
  const fromFlag = usable(v) ? parseVersion(v.stdout) : { driverVersion: null, cudaVersion: null };
  if (fromFlag.cudaVersion !== null) return fromFlag;
  const table = await run([]);
  const fromTable = usable(table) ? parseTableHeader(table.stdout) : { driverVersion: null, cudaVersion: null };
  return {
    driverVersion: fromFlag.driverVersion ?? fromTable.driverVersion,
    cudaVersion: fromTable.cudaVersion,
  };
}

type GpuPart = Omit<GpuInventory, 'host' | 'checkedAt'>;

const unavailable = (reason: string, lost: LostGpu[]): GpuPart => ({
  available: false,
  reason,
  driverVersion: null,
  cudaVersion: null,
  gpus: [],
  lost,
});

async function readGpus(run: Run): Promise<GpuPart> {
  const query = await run(QUERY_GPU_ARGV);
  const parsed = parseQueryGpu(query.stdout);
  // Which stream carries the lost-GPU line is not known, so look in both.
  const lost = [...parsed.lost, ...parseLostGpus(query.stderr)];
  const failure = classifyFailure(query);
  // The exit code decides, except that a lost GPU's line sits beside the rows of GPUs that
  // still answer (gpu-lost-mixed, exit code unknown): those rows are real, keep them.
  if (parsed.gpus.length === 0) return unavailable(failure ?? NO_GPU, lost);
  if (failure !== null && lost.length === 0) return unavailable(failure, lost);

  const [apps, versions] = await Promise.all([run(COMPUTE_APPS_ARGV), readVersions(run)]);
  // Processes are extra detail: a failed listing must not hide the GPUs.
  const processes = usable(apps) ? parseComputeApps(apps.stdout) : [];
  return {
    available: true,
    reason: null,
    driverVersion: parsed.driverVersion ?? versions.driverVersion,
    cudaVersion: versions.cudaVersion,
    gpus: parsed.gpus.map((gpu) => ({ ...gpu, processes: processes.filter((p) => p.gpuUuid === gpu.uuid) })),
    lost,
  };
}

const NO_HOST: HostInfo = { cpu: null, memory: null, os: null };

/** What GPUs this machine has and what runs on them. Never throws: failures become `reason`. */
export async function readGpuInventory(opts: InventoryOptions): Promise<GpuInventory> {
  const checkedAt = new Date().toISOString();
  const run = runner(opts.nvidiaSmi, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const readHost = opts.host ?? readHostInfo;
  const [gpus, host] = await Promise.all([
    readGpus(run).catch((err: unknown) => unavailable(`GPU detection failed: ${String(err)}`, [])),
    Promise.resolve().then(readHost).catch(() => NO_HOST),
  ]);
  return { ...gpus, host, checkedAt };
}
