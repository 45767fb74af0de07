// `berth doctor` / GET /api/v1/doctor: the checks a user runs when a model will
// not start. Each check is independent and bounded in time; none throws.
import type { DoctorCheck, DoctorReport, GpuInventory } from '../contract/api.js';
import type { Settings } from '../config/settings.js';

// Importing the engine (not just reading its metadata) is what proves the venv
// works; vLLM's import pulls torch and can take tens of seconds on a cold cache.
const IMPORT_TIMEOUT_MS = 120_000;

// execa is loaded when a check runs, not at daemon start (some 250 modules).
const loadExeca = async () => (await import('execa')).execa;

async function engineCheck(name: 'vllm' | 'sglang', python: string): Promise<DoctorCheck> {
  const execa = await loadExeca();
  const r = await execa(python, ['-c', `import ${name}; print(${name}.__version__)`], {
    reject: false,
    timeout: IMPORT_TIMEOUT_MS,
    stdin: 'ignore',
  });
  if (r.exitCode === 0) return { name, ok: true, detail: `${name} ${r.stdout.trim()} (${python})` };
  if ((r as { code?: string }).code === 'ENOENT') {
    return { name, ok: false, detail: `${python} not found; set BERTH_${name.toUpperCase()}_PYTHON to the venv's python` };
  }
  if (r.timedOut) return { name, ok: false, detail: `import ${name} did not finish within ${IMPORT_TIMEOUT_MS / 1000} s (${python})` };
  const last = `${r.stderr}`.trim().split('\n').filter(Boolean).at(-1) ?? `exit ${r.exitCode}`;
  return { name, ok: false, detail: `import ${name} failed with ${python}: ${last}` };
}

async function dockerCheck(docker: string): Promise<DoctorCheck> {
  const execa = await loadExeca();
  const r = await execa(docker, ['--version'], { reject: false, timeout: 10_000, stdin: 'ignore' });
  if (r.exitCode === 0) return { name: 'docker', ok: true, detail: r.stdout.trim() };
  return { name: 'docker', ok: false, detail: `${docker} not available (container mode needs it)` };
}

function gpuCheck(inv: GpuInventory, nvidiaSmi: string): DoctorCheck[] {
  const gpu: DoctorCheck = inv.available
    ? { name: 'gpus', ok: true, detail: inv.gpus.map((g) => `${g.index}: ${g.name}`).join('; ') }
    : { name: 'gpus', ok: false, detail: `${inv.reason ?? 'no GPU'} (${nvidiaSmi})` };
  const driver: DoctorCheck = {
    name: 'driver',
    ok: inv.driverVersion !== null,
    detail: inv.driverVersion ? `driver ${inv.driverVersion}, CUDA ${inv.cudaVersion ?? 'unknown'}` : 'NVIDIA driver not detected',
  };
  return [gpu, driver];
}

export async function runDoctor(settings: Settings, inventory: () => Promise<GpuInventory>): Promise<DoctorReport> {
  const [inv, vllm, sglang, docker] = await Promise.all([
    inventory(),
    engineCheck('vllm', settings.vllmPython),
    engineCheck('sglang', settings.sglangPython),
    dockerCheck(settings.docker),
  ]);
  const checks = [...gpuCheck(inv, settings.nvidiaSmi), vllm, sglang, docker];
  // One working engine is enough to serve; docker is optional until container mode.
  const ok = checks.find((c) => c.name === 'gpus')!.ok && (vllm.ok || sglang.ok);
  return { ok, checks };
}
