// A fake nvidia-smi that replays test/fixtures/nvidia-smi/cases.json by exact argv.
// Run through test/fakes/bin/nvidia-smi. Environment:
//   FAKE_NVIDIA_SMI_MACHINE    a `machine` from cases.json (h100x8, ws-4080s-2080s, h100-mig,
//                              no-devices, h100x2-one-lost...), or `hang`. Several, comma
//                              separated (`h100x8,h100`), layer captures of the same driver:
//                              the first machine that knows an argv answers it.
//   FAKE_NVIDIA_SMI_PROCESSES  JSON array of {pid, name, gpuUuid, usedMiB}; when set it is the
//                              answer to Berth's compute-apps query.
//   FAKE_GPU_APPS_DIR          where running fake engines record themselves (gpu-apps.ts): each
//                              live one is added to the compute-apps answer on the GPUs its
//                              CUDA_VISIBLE_DEVICES names.
//   FAKE_NVIDIA_SMI_GPUS       keep only the first N GPUs of the machine's --query-gpu and -L
//                              answers (`h100x8` with 4: a 4-GPU box of the same driver).
import type { GpuProcess } from '../../../daemon/contract/api.js';
import { COMPUTE_APPS_ARGV, parseQueryGpu, QUERY_GPU_ARGV } from '../../../daemon/gpu/nvidia-smi.js';
import { casesFile, fixtureBytes, fixtureText, type FixtureCase } from './fixtures.js';
import { GPU_APPS_DIR_ENV, gpuApps } from './gpu-apps.js';

// Cases whose exit code was not captured get the value the fixture README points to.
const UNCAPTURED_EXIT: Readonly<Record<string, number>> = {
  'version-mismatch-old': 18, // the newer wording of the same error exits 18
  'gpu-lost': 15, // man page: 15 = GPU has fallen off the bus
  'gpu-lost-mixed.query-gpu.noheader-nounits': 15,
  'invalid-field-cuda_version': 2, // man page: 2 = invalid argument, as invalid-field
  'unknown-option': 2,
  'version-unsupported-535': 2,
  'gb10.query-gpu.loop': 0, // a loop ends when killed; the replay just stops
};
const OTHER_ERROR = 255; // man page: 255 = other error

const sameArgv = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((arg, i) => arg === b[i]);

function reply(stdout: Buffer | string, exitCode: number, stderr: Buffer | string = ''): void {
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  // exitCode, not exit(): let the pipes drain.
  process.exitCode = exitCode;
}

function processRows(processes: readonly GpuProcess[]): string {
  // Placeholders as nvidia-smi prints them for an unknown name / size.
  return processes
    .map((p) => `${p.pid}, ${p.name ?? '[Not Found]'}, ${p.gpuUuid ?? '[N/A]'}, ${p.usedMiB ?? '[N/A]'}\n`)
    .join('');
}

/**
 * The answer as a box with only the first FAKE_NVIDIA_SMI_GPUS GPUs would give
 * it: one row per GPU in --query-gpu (after the header, when there is one) and
 * in -L. Other answers are left as captured.
 */
function firstGpus(stdout: Buffer, argv: readonly string[]): Buffer {
  const keep = Number(process.env.FAKE_NVIDIA_SMI_GPUS ?? '');
  const perGpu = argv[0]?.startsWith('--query-gpu=') || (argv.length === 1 && argv[0] === '-L');
  if (!(keep > 0) || !perGpu) return stdout;
  const header = argv.some((a) => a.startsWith('--format=') && !a.includes('noheader')) ? 1 : 0;
  const lines = stdout.toString('utf8').split(/(?<=\n)/);
  return Buffer.from(lines.slice(0, header + keep).join(''), 'utf8');
}

function answer(machines: readonly string[], argv: readonly string[]): void {
  const cases = Object.entries(casesFile().cases);
  const known = new Set(cases.map(([, c]) => c.machine));
  const unknown = machines.filter((m) => !known.has(m));
  if (machines.length === 0 || unknown.length > 0) {
    const list = [...known].filter((m) => m !== 'any').sort().join(', ');
    reply('', OTHER_ERROR, `fake nvidia-smi: set FAKE_NVIDIA_SMI_MACHINE to one of: hang, ${list}\n`);
    return;
  }

  const processes = process.env.FAKE_NVIDIA_SMI_PROCESSES;
  const appsDir = process.env[GPU_APPS_DIR_ENV];
  // A machine without GPUs answers as it always does; engines cannot hold memory there.
  const uuids = appsDir && sameArgv(argv, COMPUTE_APPS_ARGV) ? gpuUuids(machines, cases) : new Map<number, string>();
  if ((processes !== undefined || uuids.size > 0) && sameArgv(argv, COMPUTE_APPS_ARGV)) {
    const given = processes !== undefined ? (JSON.parse(processes) as GpuProcess[]) : [];
    const engines = appsDir ? gpuApps(appsDir, uuids) : [];
    reply(processRows([...given, ...engines]), 0);
    return;
  }

  // `any` holds errors every driver prints for that argv (invalid field, unknown option).
  for (const machine of [...machines, 'any']) {
    const hit = cases.find(([, c]) => c.machine === machine && sameArgv(c.argv, argv));
    if (hit) {
      const [name, c] = hit;
      reply(firstGpus(fixtureBytes(c.stdout), argv), c.exit_code ?? UNCAPTURED_EXIT[name] ?? OTHER_ERROR, fixtureBytes(c.stderr));
      return;
    }
  }

  // No capture lists compute-apps for most boxes. A box whose GPUs answered the query would
  // answer this too, and with no processes noheader output is empty with exit 0
  // (empty.query-compute-apps.noheader-nounits).
  const answersQuery = (c: FixtureCase): boolean =>
    machines.includes(c.machine) && c.exit_code === 0 && c.argv.some((a) => a.startsWith('--query-gpu'));
  if (sameArgv(argv, COMPUTE_APPS_ARGV) && cases.some(([, c]) => answersQuery(c))) {
    reply('', 0);
    return;
  }

  // Anything else: what nvidia-smi says for an option it does not know (unknown-option).
  // Which argument a real driver would object to cannot be known here; name the first.
  reply(`ERROR: Option ${argv[0] ?? ''} is not recognized. Please run 'nvidia-smi -h' for help.\n\n`, 2);
}

/** Index → uuid of the GPUs the machine's --query-gpu capture lists (none when it has no GPUs). */
function gpuUuids(machines: readonly string[], cases: [string, FixtureCase][]): Map<number, string> {
  for (const machine of machines) {
    const hit = cases.find(([, c]) => c.machine === machine && sameArgv(c.argv, QUERY_GPU_ARGV));
    if (!hit) continue;
    if (hit[1].exit_code !== 0) return new Map();
    return new Map(parseQueryGpu(fixtureText(hit[1].stdout)).gpus.map((g) => [g.index, g.uuid]));
  }
  return new Map();
}

const machines = (process.env.FAKE_NVIDIA_SMI_MACHINE ?? '').split(',').filter((m) => m !== '');
if (machines.includes('hang')) {
  // Like nvidia-smi stuck after a GPU fell off the bus: never answers, dies on SIGTERM.
  setInterval(() => undefined, 60_000);
} else {
  answer(machines, process.argv.slice(2));
}
