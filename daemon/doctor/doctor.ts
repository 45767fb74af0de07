// `berth doctor` / GET /api/v1/doctor: the checks a user runs when a model will
// not start. Each check is independent and bounded in time; none throws.
// Every failing check carries the fix fixes.ts picks for what failed.
import { homedir } from 'node:os';
import type { DoctorCheck, DoctorReport, GpuInventory } from '../contract/api.js';
import type { Settings } from '../config/settings.js';
import { defaultBackendVersion } from '../engines/catalogue.js';
import { gpuFailureKind } from '../gpu/failure.js';
import { createDockerApi, DockerApiError, dockerEndpoint } from '../launchers/docker/engine-api.js';
import { catalogueImages } from '../launchers/docker/images.js';
import { probeDocker } from '../launchers/docker/probe.js';
import { imagePresent } from '../launchers/docker/pull.js';
import { dockerFix, dockerGpuFix, dockerUnreachableFix, engineFix, gpuFix, imageFix, type EngineName, type EngineOutcome } from './fixes.js';

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

/**
 * Container mode's checks: Docker found (its socket) and reachable, able to
 * give containers GPUs, and each catalogued image present. Only `docker`
 * when Docker cannot be reached: the rest would repeat its failure.
 */
async function dockerChecks(setting: string, env: NodeJS.ProcessEnv): Promise<DoctorCheck[]> {
  const at = dockerEndpoint(setting, env);
  if (!at.ok) return [{ name: 'docker', ok: false, detail: at.reason, fix: dockerFix(setting) }];
  const api = createDockerApi(at.socketPath);
  const facts = await probeDocker(api);
  if (!facts.reachable) {
    const code = await api.json('GET', '/_ping', undefined, { timeoutMs: 2_000 }).then(
      () => null,
      (err: unknown) => (err instanceof DockerApiError ? err.code : null),
    );
    // No socket at all is "not installed"; a socket that refuses is a stopped or forbidden daemon.
    const fix = code === 'ENOENT' || code === null ? dockerFix(at.socketPath) : dockerUnreachableFix(code);
    return [{ name: 'docker', ok: false, detail: `${facts.error ?? 'unreachable'} (container mode needs it; socket from ${at.from})`, fix }];
  }
  const checks: DoctorCheck[] = [
    { name: 'docker', ok: true, detail: `${facts.version} at ${at.socketPath}`, fix: null },
    { name: 'docker-gpu', ok: facts.gpu.ok, detail: facts.gpu.detail, fix: facts.gpu.ok ? null : dockerGpuFix() },
  ];
  for (const image of catalogueImages()) {
    const present = await imagePresent(api, image).catch(() => false);
    checks.push({ name: `docker-image ${image}`, ok: present, detail: present ? 'present' : 'not pulled yet', fix: present ? null : imageFix(image) });
  }
  return checks;
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
    dockerChecks(settings.docker, process.env),
  ]);
  const checks = [...gpuCheck(inv, settings.nvidiaSmi), vllm, sglang, ...docker];
  // One working engine is enough to serve; docker is optional until container mode.
  const ok = checks.find((c) => c.name === 'gpus')!.ok && (vllm.ok || sglang.ok);
  return { ok, checks };
}
