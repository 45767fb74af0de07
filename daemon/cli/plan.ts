// `berth plan`: computes the launch plan in this process, without a daemon, so
// it loads the config, engine and GPU modules the client commands never need.
import type { LaunchPlan } from '../contract/api.js';
import { loadSettings } from '../config/settings.js';
import { normalizeDeployment } from '../config/deployment.js';
import { readGpuInventory } from '../gpu/inventory.js';
import { isPortFree } from '../net/port-probe.js';
import { offlineModes, planContext, previewPlan } from '../supervisor/plan-preview.js';
import { json, parse, readSpecFile, type Out } from './args.js';
import { CliError } from './errors.js';

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
      ctx: planContext(settings, process.env),
      modes: offlineModes(settings, definedEnv(process.env)),
    });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (values.json) return io.out(json(result)), 0;
  io.out(`${result.backend} ${result.backendVersion}${result.recipeVersion !== result.backendVersion ? ` (recipe ${result.recipeVersion})` : ''}`);
  const c = result.container;
  if (result.modeReason) io.out(`mode:     ${result.mode ?? 'process'} (${result.modeReason})`);
  if (c) {
    // What runs inside, then the container around it; secrets by name only.
    io.out(`mode:     container ${c.name}, image ${c.image}`);
    io.out(`command:  ${result.argv.map(shellQuote).join(' ')}  (inside the container)`);
    io.out(`env:      ${[...c.create.Env.map((e) => shellQuote(e)), ...c.secretEnv].join(' ')}`);
    io.out(`docker:   ${c.dockerRun.map(shellQuote).join(' ')}`);
  } else {
    io.out(`command:  ${result.argv.map(shellQuote).join(' ')}`);
    io.out(`env:      ${Object.entries(result.env).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ')}`);
  }
  io.out(`endpoint: http://${result.host}:${result.port}  gpus: ${result.gpus.length ? result.gpus.join(',') : 'none'}`);
  const ready = [result.readiness.http && `GET ${result.readiness.http.path} -> ${result.readiness.http.status}`, result.readiness.logLine && `log "${result.readiness.logLine}"`];
  io.out(`ready:    ${ready.filter(Boolean).join(' or ')}`);
  for (const w of result.warnings) io.out(`warning:  ${w}`);
  return 0;
}

function definedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
