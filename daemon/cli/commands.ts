// The commands that talk to a running daemon over HTTP. This module (and what
// it imports) must stay free of the daemon's own server modules: every `berth
// ps` pays for what is loaded here, and commands.ts is all it loads.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DeploymentStatus, DoctorCheck, LogStreamEvents } from '../contract/api.js';
import type { DeploymentInput } from '../contract/deployment.js';
import type { LoraList } from '../contract/lora.js';
import { MANIFEST_FORMATS, type AppliedDeployment, type ManifestFormat } from '../contract/manifests.js';
import { fillPath, queryString, streams } from '../contract/routes.js';
import { json, need, parse, readSpecFile, readTextInput, type Out } from './args.js';
import { daemonAddress, daemonClient, readJson, request } from './client.js';
import { CliError } from './errors.js';
import { table } from './table.js';

const mib = (v: number | null) => (v === null ? '-' : `${Math.round(v / 102.4) / 10} GiB`);

export async function gpus(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' } }, 0);
  const inv = await daemonClient().gpus();
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
  // The daemon validates the spec and names the field of any mistake.
  const d = await daemonClient().createDeployment({
    body: spec as DeploymentInput,
    query: values['no-start'] ? { start: false } : {},
  });
  if (values.json) return io.out(json(d)), 0;
  io.out(psRows([d]));
  return 0;
}

export async function ps(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' } }, 0);
  const { deployments } = await daemonClient().listDeployments();
  if (values.json) return io.out(json(deployments)), 0;
  io.out(deployments.length ? psRows(deployments) : 'No deployments. Create one with: berth deploy NAME MODEL');
  return 0;
}

export function lifecycle(action: 'start' | 'stop' | 'restart') {
  return async (args: string[], io: Out): Promise<number> => {
    const { values, positionals } = parse(args, { json: { type: 'boolean' } }, 1);
    const name = need(positionals, 0, 'deployment name');
    const client = daemonClient();
    const call = { start: client.startDeployment, stop: client.stopDeployment, restart: client.restartDeployment }[action];
    const d = await call({ params: { name } });
    if (values.json) return io.out(json(d)), 0;
    io.out(psRows([d]));
    return 0;
  };
}

export async function rm(args: string[], io: Out): Promise<number> {
  const { positionals } = parse(args, {}, 1);
  const name = need(positionals, 0, 'deployment name');
  await daemonClient().deleteDeployment({ params: { name } });
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
  const query = { tail: values.tail === undefined ? 100 : Number(values.tail), ansi: Boolean(process.stdout.isTTY), replica: values.replica };
  const addr = daemonAddress();
  if (!values.follow) {
    const { lines } = await daemonClient(addr).deploymentLogs({ params: { name }, query });
    for (const l of lines) io.out(l);
    return 0;
  }
  // A stream, not a call: read the SSE messages as they come.
  const res = await request(addr, 'GET', fillPath(streams.deploymentLogs, { name }) + queryString({ ...query, follow: true }));
  if (res.statusCode !== 200) return readJson(res).then(() => 1);
  res.setEncoding('utf8');
  let buf = '';
  for await (const chunk of res) {
    buf += chunk as string;
    let i: number;
    while ((i = buf.indexOf('\n\n')) !== -1) {
      const text = logStreamText(buf.slice(0, i));
      buf = buf.slice(i + 2);
      if (text !== null) io.out(text);
    }
  }
  return 0;
}

/**
 * One message of a followed log stream as `berth logs -f` prints it: an
 * engine line as it is, a marker where the stream moves to another replica
 * (a restart, the first start) and where it ends. Null for anything else (a
 * keep-alive comment).
 */
export function logStreamText(message: string): string | null {
  let event = 'message';
  let data: string | null = null;
  for (const line of message.split('\n')) {
    if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data = line.slice(6);
  }
  if (data === null) return null;
  const payload: unknown = JSON.parse(data);
  if (event === 'message') return typeof payload === 'string' ? payload : null;
  const field = (key: keyof LogStreamEvents['replica'] | keyof LogStreamEvents['end']): string | null => {
    const v = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>)[key] : undefined;
    return typeof v === 'string' ? v : null;
  };
  if (event === 'replica') return `— replica ${field('replica') ?? '?'} —`;
  if (event === 'end') return `— ${field('reason') ?? 'the stream ended'} —`;
  return null;
}

export async function doctor(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' } }, 0);
  const report = await daemonClient().doctor();
  if (values.json) io.out(json(report));
  else for (const c of report.checks) io.out(doctorLines(c).join('\n'));
  return report.ok ? 0 : 1;
}

/**
 * One check as printed: the verdict, then under a failure the daemon's fix.
 * The command sits alone after `fix:`, so it copies without the note.
 */
export function doctorLines(c: DoctorCheck): string[] {
  const head = `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(7)} `;
  const lines = [head + c.detail];
  if (c.ok || !c.fix) return lines;
  const indent = ' '.repeat(head.length);
  if (c.fix.command) lines.push(`${indent}fix: ${c.fix.command}`);
  lines.push(indent + c.fix.note);
  return lines;
}

/**
 * `berth lora add NAME ADAPTER PATH | ls NAME | rm NAME ADAPTER`. A local
 * PATH is made absolute here: the daemon (and the engine) run elsewhere than
 * this shell's directory. Anything else (owner/name) is a Hugging Face repo.
 */
export async function lora(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, 4);
  const action = need(positionals, 0, 'action: add, ls or rm');
  const name = need(positionals, 1, 'deployment name');
  const client = daemonClient();
  let answer: LoraList & { message?: string };
  if (action === 'add') {
    if (positionals.length > 4) throw new CliError(`unexpected argument: ${positionals[4]}`, 2);
    const adapter = need(positionals, 2, 'adapter name');
    const path = adapterPath(need(positionals, 3, 'adapter path (a directory, or a Hugging Face repo owner/name)'));
    answer = await client.addLora({ params: { name }, body: { name: adapter, path } });
  } else if (action === 'rm') {
    if (positionals.length > 3) throw new CliError(`unexpected argument: ${positionals[3]}`, 2);
    answer = await client.removeLora({ params: { name, adapter: need(positionals, 2, 'adapter name') } });
  } else if (action === 'ls') {
    if (positionals.length > 2) throw new CliError(`unexpected argument: ${positionals[2]}`, 2);
    answer = await client.deploymentLoras({ params: { name } });
  } else throw new CliError(`unknown lora action "${action}": expected add, ls or rm`, 2);
  if (values.json) return io.out(json(answer)), 0;
  if (answer.message) io.out(answer.message);
  if (action !== 'ls') return 0;
  if (!answer.loras.length) io.out(`No adapters on ${name}. Add one with: berth lora add ${name} ADAPTER PATH`);
  else {
    io.out(
      table(
        ['ADAPTER', 'PATH', 'LOADED ON', 'ERROR'],
        answer.loras.map((l) => [l.name, l.path, l.loadedOn.join(',') || null, l.error]),
      ),
    );
  }
  if (answer.maxLoras !== null) io.out(`at most ${answer.maxLoras} adapters (--max-loras)`);
  if (!answer.runtime) io.out(`${answer.backend} takes adapters only at launch: adding or removing one restarts ${name}`);
  return 0;
}

function adapterPath(p: string): string {
  if (p.startsWith('/')) return p;
  if (p === '~' || p.startsWith('~/')) return join(homedir(), p.slice(1));
  if (p.startsWith('.') || existsSync(p)) return resolve(p);
  return p;
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** One applied deployment as `berth apply` prints it: what happened, its launch plan, what Berth ignores. */
export function appliedLines(a: AppliedDeployment, dryRun: boolean): string[] {
  const verb = dryRun ? { created: 'would create', updated: 'would update', unchanged: 'unchanged' }[a.action] : a.action;
  const s = a.spec;
  const p = a.plan;
  const lines = [
    `${verb} ${a.name}  (${s.source?.id ?? 'manifest'}, documents ${a.documents.join(', ')})`,
    `  model:    ${s.modelId}  served as ${s.servedName.join(', ')}`,
    `  engine:   ${s.backend} ${s.backendVersion}${p.recipeVersion !== s.backendVersion ? ` (recipe ${p.recipeVersion})` : ''}  gpus per replica ${s.resource.workers * s.resource.gpu.count}${s.resource.gpu.gpuType ? ` (${s.resource.gpu.gpuType})` : ''}  replicas ${s.scale.min}-${s.scale.max}`,
    `  command:  ${p.argv.map(quote).join(' ')}`,
    `  env:      ${Object.entries(p.env).map(([k, v]) => `${k}=${quote(v)}`).join(' ')}`,
    `  endpoint: http://${p.host}:${p.port}  gpus: ${p.gpus.length ? p.gpus.join(',') : 'none'}`,
  ];
  for (const w of [...a.warnings, ...p.warnings]) lines.push(`  warning:  ${w}`);
  for (const i of a.ignored) lines.push(`  ignored:  ${i.field}: ${i.reason}`);
  return lines;
}

export async function apply(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { file: { type: 'string', short: 'f' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } }, 0);
  if (!values.file) throw new CliError('apply needs -f <manifest.yaml> (or -f - for stdin)', 2);
  const manifest = await readTextInput(values.file);
  const answer = await daemonClient().apply({ body: { manifest, dryRun: Boolean(values['dry-run']) } });
  if (values.json) return io.out(json(answer)), 0;
  if (answer.dryRun) io.out('dry run: nothing was created, changed or started');
  for (const a of answer.deployments) io.out(appliedLines(a, answer.dryRun).join('\n'));
  for (const d of answer.ignoredDocuments) io.out(`ignored document ${d.document} (${d.kind}${d.name ? ` ${d.name}` : ''}): ${d.reason}`);
  for (const w of answer.warnings) io.out(`warning: ${w}`);
  return 0;
}

export async function exportDeployment(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { format: { type: 'string' } }, 1);
  const name = need(positionals, 0, 'deployment name');
  const format = values.format;
  if (!format || !(MANIFEST_FORMATS as readonly string[]).includes(format)) throw new CliError(`--format: expected ${MANIFEST_FORMATS.join(', ')}`, 2);
  const { manifest } = await daemonClient().exportDeployment({ params: { name }, query: { format: format as ManifestFormat } });
  io.out(manifest.replace(/\n$/, ''));
  return 0;
}
