// One function per `berth` command. Each parses its own flags strictly, so a
// typo is a usage error naming the flag, and returns the process exit code.
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { DeploymentStatus, DoctorReport, GpuInventory, LaunchPlan } from '../contract/api.js';
import { loadSettings, type SettingsInput } from '../config/settings.js';
import { normalizeDeployment } from '../config/deployment.js';
import { readGpuInventory } from '../gpu/inventory.js';
import { isPortFree } from '../net/port-probe.js';
import { previewPlan } from '../supervisor/plan-preview.js';
import { CliError, daemonAddress, request, requestJson } from './client.js';
import { table } from './table.js';

type Out = { out: (s: string) => void; err: (s: string) => void };

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, positionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: positionals > 0, strict: true });
  } catch (err) {
    throw new CliError((err as Error).message.split('\n')[0]!, 2);
  }
  if (parsed.positionals.length > positionals) throw new CliError(`unexpected argument: ${parsed.positionals[positionals]}`, 2);
  return parsed;
}

function need(positionals: string[], i: number, what: string): string {
  const v = positionals[i];
  if (!v) throw new CliError(`missing ${what}`, 2);
  return v;
}

async function readSpecFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${file} is not valid JSON`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const json = (v: unknown) => JSON.stringify(v, null, 2);
const mib = (v: number | null) => (v === null ? '-' : `${Math.round(v / 102.4) / 10} GiB`);

export async function serve(args: string[]): Promise<number> {
  const { values } = parse(args, { host: { type: 'string' }, port: { type: 'string' } }, 0);
  const overrides: Partial<SettingsInput> = {};
  if (values.host) overrides.host = values.host;
  if (values.port !== undefined) {
    if (!/^\d+$/.test(values.port)) throw new CliError(`--port: expected a port number, got "${values.port}"`, 2);
    overrides.port = Number(values.port);
  }
  let settings;
  try {
    settings = loadSettings({ overrides });
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  const { serveForeground } = await import('../main.js');
  try {
    return await serveForeground(settings);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

export async function gpus(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' } }, 0);
  const inv = await requestJson<GpuInventory>(daemonAddress(), 'GET', '/api/v1/gpus');
  if (values.json) return io.out(json(inv)), 0;
  if (!inv.available) {
    io.out(`No usable NVIDIA GPU: ${inv.reason}`);
    return 0;
  }
  io.out(`Driver ${inv.driverVersion ?? '-'}  CUDA ${inv.cudaVersion ?? '-'}`);
  io.out(
    table(
      ['GPU', 'NAME', 'MEMORY USED', 'TOTAL', 'UTIL', 'TEMP', 'PROCESSES'],
      inv.gpus.map((g) => [
        g.index,
        g.name,
        mib(g.memoryUsedMiB),
        mib(g.memoryTotalMiB),
        g.utilizationPct === null ? null : `${g.utilizationPct}%`,
        g.temperatureC === null ? null : `${g.temperatureC}C`,
        g.processes.length,
      ]),
    ),
  );
  for (const l of inv.lost) io.out(`lost GPU ${l.busId ?? '?'}: ${l.message}`);
  return 0;
}

export async function plan(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { file: { type: 'string', short: 'f' }, json: { type: 'boolean' } }, 0);
  if (!values.file) throw new CliError('plan needs -f <spec.json>', 2);
  const input = await readSpecFile(values.file);
  let settings;
  try {
    settings = loadSettings();
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  let result: LaunchPlan;
  try {
    // Works without a daemon: the plan is pure once GPUs and a port are known.
    const deployment = normalizeDeployment(input);
    result = await previewPlan({
      deployment,
      inventory: await readGpuInventory({ nvidiaSmi: settings.nvidiaSmi }),
      held: new Map(),
      reservedPorts: new Set(),
      portBase: settings.enginePortBase,
      isPortFree: (p) => isPortFree('127.0.0.1', p),
      interpreters: settings,
    });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (values.json) return io.out(json(result)), 0;
  io.out(`${result.backend} ${result.backendVersion}${result.recipeVersion !== result.backendVersion ? ` (recipe ${result.recipeVersion})` : ''}`);
  io.out(`command:  ${result.argv.map(shellQuote).join(' ')}`);
  io.out(`env:      ${Object.entries(result.env).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ')}`);
  io.out(`endpoint: http://${result.host}:${result.port}  gpus: ${result.gpus.length ? result.gpus.join(',') : 'none'}`);
  const ready = [result.readiness.http && `GET ${result.readiness.http.path} -> ${result.readiness.http.status}`, result.readiness.logLine && `log "${result.readiness.logLine}"`];
  io.out(`ready:    ${ready.filter(Boolean).join(' or ')}`);
  for (const w of result.warnings) io.out(`warning:  ${w}`);
  return 0;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function psRows(list: DeploymentStatus[]) {
  return table(
    ['NAME', 'BACKEND', 'MODEL', 'STATE', 'REPLICAS', 'GPUS', 'PORT', 'REASON'],
    list.map((d) => [
      d.name,
      `${d.spec.backend} ${d.spec.backendVersion}`,
      d.spec.modelId,
      d.sleeping ? 'sleeping' : d.state,
      `${d.replicas.filter((r) => r.state === 'ready').length}/${d.replicas.length}`,
      d.replicas.flatMap((r) => r.gpus).join(',') || null,
      d.replicas.map((r) => r.port).filter((p) => p !== null).join(',') || null,
      d.reason,
    ]),
  );
}

export async function deploy(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      file: { type: 'string', short: 'f' },
      backend: { type: 'string' },
      'backend-version': { type: 'string' },
      gpus: { type: 'string' },
      'served-name': { type: 'string', multiple: true },
      arg: { type: 'string', multiple: true },
      'no-start': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    2,
  );
  let spec: unknown;
  if (values.file) spec = await readSpecFile(values.file);
  else {
    // Quick form, as Ollama users expect: berth deploy NAME MODEL [--backend sglang] [--gpus 2]
    const name = need(positionals, 0, 'deployment name (or -f spec.json)');
    const modelId = need(positionals, 1, 'model id (Hugging Face repo or local path)');
    const s: Record<string, unknown> = { name, modelId, backend: values.backend ?? 'vllm' };
    if (values['backend-version']) s.backendVersion = values['backend-version'];
    if (values['served-name']) s.servedName = values['served-name'];
    if (values.arg) s.backendArgs = values.arg;
    if (values.gpus !== undefined) {
      if (!/^\d+$/.test(values.gpus)) throw new CliError(`--gpus: expected a whole number, got "${values.gpus}"`, 2);
      s.resource = { gpu: { count: Number(values.gpus) } };
    }
    spec = s;
  }
  const query = values['no-start'] ? '?start=false' : '';
  const d = await requestJson<DeploymentStatus>(daemonAddress(), 'POST', `/api/v1/deployments${query}`, spec);
  if (values.json) return io.out(json(d)), 0;
  io.out(psRows([d]));
  return 0;
}

export async function ps(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' } }, 0);
  const { deployments } = await requestJson<{ deployments: DeploymentStatus[] }>(daemonAddress(), 'GET', '/api/v1/deployments');
  if (values.json) return io.out(json(deployments)), 0;
  io.out(deployments.length ? psRows(deployments) : 'No deployments. Create one with: berth deploy NAME MODEL');
  return 0;
}

export function lifecycle(action: 'start' | 'stop' | 'restart') {
  return async (args: string[], io: Out): Promise<number> => {
    const { values, positionals } = parse(args, { json: { type: 'boolean' } }, 1);
    const name = need(positionals, 0, 'deployment name');
    const d = await requestJson<DeploymentStatus>(daemonAddress(), 'POST', `/api/v1/deployments/${encodeURIComponent(name)}/${action}`);
    if (values.json) return io.out(json(d)), 0;
    io.out(psRows([d]));
    return 0;
  };
}

export async function rm(args: string[], io: Out): Promise<number> {
  const { positionals } = parse(args, {}, 1);
  const name = need(positionals, 0, 'deployment name');
  await requestJson<void>(daemonAddress(), 'DELETE', `/api/v1/deployments/${encodeURIComponent(name)}`);
  io.out(`removed ${name}`);
  return 0;
}

export async function logs(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(
    args,
    { follow: { type: 'boolean', short: 'f' }, tail: { type: 'string', short: 'n' }, replica: { type: 'string' } },
    1,
  );
  const name = need(positionals, 0, 'deployment name');
  if (values.tail !== undefined && !/^\d+$/.test(values.tail)) throw new CliError(`--tail: expected a whole number`, 2);
  const q = new URLSearchParams({ tail: values.tail ?? '100', ansi: process.stdout.isTTY ? '1' : '0' });
  if (values.replica) q.set('replica', values.replica);
  const addr = daemonAddress();
  if (!values.follow) {
    const { lines } = await requestJson<{ lines: string[] }>(addr, 'GET', `/api/v1/deployments/${encodeURIComponent(name)}/logs?${q}`);
    for (const l of lines) io.out(l);
    return 0;
  }
  q.set('follow', '1');
  const res = await request(addr, 'GET', `/api/v1/deployments/${encodeURIComponent(name)}/logs?${q}`);
  if (!res.ok || !res.body) return requestJson(addr, 'GET', `/api/v1/deployments/${encodeURIComponent(name)}/logs?${q}`).then(() => 1);
  let buf = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    buf += decoder.decode(chunk as Uint8Array, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) !== -1) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      for (const line of event.split('\n')) if (line.startsWith('data: ')) io.out(JSON.parse(line.slice(6)) as string);
    }
  }
  return 0;
}

export async function doctor(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' } }, 0);
  const report = await requestJson<DoctorReport>(daemonAddress(), 'GET', '/api/v1/doctor');
  if (values.json) io.out(json(report));
  else for (const c of report.checks) io.out(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(7)} ${c.detail}`);
  return report.ok ? 0 : 1;
}
