// `berth doctor` / GET /api/v1/doctor: the checks a user runs when a model will
// not start. Each check is independent and bounded in time; none throws.
// Every failing check carries the fix fixes.ts picks for what failed.
import { homedir } from 'node:os';
import type { DoctorCheck, DoctorReport, GpuInventory } from '../contract/api.js';
import type { Settings } from '../config/settings.js';
import { defaultBackendVersion } from '../engines/catalogue.js';
import { gpuFailureKind } from '../gpu/failure.js';
import { dockerFix, engineFix, gpuFix, type EngineName, type EngineOutcome } from './fixes.js';

// Importing the engine (not just reading its metadata) is what proves the venv
// works; vLLM's import pulls torch and can take tens of seconds on a cold cache.
const IMPORT_TIMEOUT_MS = 120_000;

// execa is loaded when a check runs, not at daemon start (some 250 modules).
const loadExeca = async () => (await import('execa')).execa;

async function probeEngine(name: EngineName, python: string): Promise<{ outcome: EngineOutcome; detail: string }> {
  const execa = await loadExeca();
  const r = await execa(python, ['-c', `import ${name}; print(${name}.__version__)`], {
    reject: false,
    timeout: IMPORT_TIMEOUT_MS,
    stdin: 'ignore',
  });
  if (r.exitCode === 0) return { outcome: 'ok', detail: `${name} ${r.stdout.trim()} (${python})` };
  if ((r as { code?: string }).code === 'ENOENT') return { outcome: 'python-not-found', detail: `${python} not found` };
  if (r.timedOut) return { outcome: 'timeout', detail: `import ${name} did not finish within ${IMPORT_TIMEOUT_MS / 1000} s (${python})` };
  const last = `${r.stderr}`.trim().split('\n').filter(Boolean).at(-1) ?? `exit ${r.exitCode}`;
  return { outcome: 'import-failed', detail: `import ${name} failed with ${python}: ${last}` };
}

async function engineCheck(name: EngineName, settings: Settings): Promise<DoctorCheck> {
  const key = name === 'vllm' ? 'vllmPython' : 'sglangPython';
  const python = settings[key];
  const { outcome, detail } = await probeEngine(name, python);
  const fix = engineFix({
    engine: name,
    outcome,
    python,
    origin: settings.sources[key] === 'env' ? 'env' : 'settings',
    version: defaultBackendVersion(name),
    home: homedir(),
  });
  return { name, ok: outcome === 'ok', detail, fix };
}

async function dockerCheck(docker: string): Promise<DoctorCheck> {
  const execa = await loadExeca();
  const r = await execa(docker, ['--version'], { reject: false, timeout: 10_000, stdin: 'ignore' });
  if (r.exitCode === 0) return { name: 'docker', ok: true, detail: r.stdout.trim(), fix: null };
  return { name: 'docker', ok: false, detail: `${docker} not available (container mode needs it)`, fix: dockerFix(docker) };
}

function gpuCheck(inv: GpuInventory, nvidiaSmi: string): DoctorCheck[] {
  const gpu: DoctorCheck = inv.available
    ? { name: 'gpus', ok: true, detail: inv.gpus.map((g) => `${g.index}: ${g.name}`).join('; '), fix: null }
    : {
        name: 'gpus',
        ok: false,
        detail: `${inv.reason ?? 'no GPU'} (${nvidiaSmi})`,
        fix: gpuFix(gpuFailureKind(inv.reason ?? '')),
      };
  const driver: DoctorCheck = {
    name: 'driver',
    ok: inv.driverVersion !== null,
    detail: inv.driverVersion ? `driver ${inv.driverVersion}, CUDA ${inv.cudaVersion ?? 'unknown'}` : 'NVIDIA driver not detected',
    // Its cause is the gpus check's, and so is the fix: one command to copy, not two.
    fix: null,
  };
  return [gpu, driver];
}

export async function runDoctor(settings: Settings, inventory: () => Promise<GpuInventory>): Promise<DoctorReport> {
  const [inv, vllm, sglang, docker] = await Promise.all([
    inventory(),
    engineCheck('vllm', settings),
    engineCheck('sglang', settings),
    dockerCheck(settings.docker),
  ]);
  const checks = [...gpuCheck(inv, settings.nvidiaSmi), vllm, sglang, docker];
  // One working engine is enough to serve; docker is optional until container mode.
  const ok = checks.find((c) => c.name === 'gpus')!.ok && (vllm.ok || sglang.ok);
  return { ok, checks };
}
