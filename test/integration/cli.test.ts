// The `berth` command as a user runs it: a separate process talking to the daemon.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { DeploymentStatus, LaunchPlan } from '../../daemon/contract/api.js';
import { deploymentWhen, REPO, startTestDaemon, tempHome, testEnv, type TestDaemon } from '../helpers/daemon.js';
import { freePort } from '../helpers/process.js';

type Run = { code: number; stdout: string; stderr: string };

// The shipped artifact as a user runs it: plain node, no --import, the bin
// loading dist/ (which `npm test` rebuilds before any test runs).
function berth(args: string[], env: Record<string, string>, opts: { nodeArgs?: string[]; bin?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const argv = [...(opts.nodeArgs ?? []), opts.bin ?? join(REPO, 'bin/berth.mjs'), ...args];
    execFile(process.execPath, argv, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Runs `berth` with a resolve hook and returns the modules it loaded, beside its output. */
async function berthTraced(args: string[], env: Record<string, string>): Promise<Run & { modules: string[] }> {
  const hooks = pathToFileURL(join(REPO, 'test/helpers/module-trace.mjs')).href;
  const register = `data:text/javascript,import{register}from'node:module';register(${JSON.stringify(hooks)})`;
  const r = await berth(args, env, { nodeArgs: ['--import', register] });
  const modules = r.stderr.split('\n').flatMap((l) => (l.startsWith('module-trace ') ? [l.slice('module-trace '.length)] : []));
  return { ...r, stderr: r.stderr.split('\n').filter((l) => !l.startsWith('module-trace ')).join('\n'), modules };
}

// What only `berth serve` needs; a quick command that loads any of these pays
// for the whole server before it prints anything.
const SERVER_PACKAGES = ['express', 'pino', 'prom-client', 'systeminformation', 'node-pty', 'zod', 'execa', 'tsx'];
const serverPackagesIn = (modules: string[]) =>
  modules.filter((u) => SERVER_PACKAGES.some((p) => u.includes(`/node_modules/${p}/`)) || u.includes('/dist/daemon/main.js') || u.includes('/dist/daemon/server.js'));

describe('berth CLI without a daemon', () => {
  it('prints its help from the compiled JavaScript, with no TypeScript loader', async () => {
    const r = await berth(['--help'], { PATH: process.env.PATH ?? '/usr/bin:/bin' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^berth: local vLLM \/ SGLang serving/);
    assert.match(r.stdout, /^ {2}serve \[--host H\] \[--port P\]/m);
    assert.equal(r.stderr, '');
  });

  it('loads none of the server for --help', async () => {
    const r = await berthTraced(['--help'], { PATH: process.env.PATH ?? '/usr/bin:/bin' });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.modules.some((u) => u.endsWith('/dist/daemon/cli/main.js')), `the bin runs dist/: ${r.modules.join(' ')}`);
    assert.deepEqual(serverPackagesIn(r.modules), []);
  });

  it('says how to build when dist/ is missing', async () => {
    // A copy of the bin in a folder with no dist/ beside it: what a clone
    // installed with `npm ci --ignore-scripts` has.
    const home = tempHome();
    mkdirSync(join(home, 'bin'));
    copyFileSync(join(REPO, 'bin/berth.mjs'), join(home, 'bin/berth.mjs'));
    const r = await berth(['ps'], { PATH: process.env.PATH ?? '/usr/bin:/bin' }, { bin: join(home, 'bin/berth.mjs') });
    rmSync(home, { recursive: true, force: true });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'berth: not built (dist/ is missing); run: npm run build\n');
    assert.equal(r.stdout, '');
  });
});

describe('berth CLI', () => {
  let d: TestDaemon;
  let env: Record<string, string>;
  before(async () => {
    d = await startTestDaemon({ machine: 'ws-4080s-2080s' });
    env = { ...testEnv(d.home, 'ws-4080s-2080s'), BERTH_PORT: new URL(d.url).port };
  });
  after(() => d.stop());

  it('prints the launch plan without a daemon', async () => {
    const home = tempHome();
    const spec = join(home, 'spec.json');
    writeFileSync(spec, JSON.stringify({ name: 'tp2', modelId: 'Qwen/Qwen2.5-7B-Instruct', backend: 'vllm', resource: { gpu: { count: 2 } } }));
    const r = await berth(['plan', '-f', spec, '--json'], { ...testEnv(home, 'ws-4080s-2080s'), BERTH_PORT: String(await freePort()) });
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as LaunchPlan;
    assert.deepEqual(plan.gpus, [0, 1]);
    assert.deepEqual(plan.argv.slice(plan.argv.indexOf('--tensor-parallel-size'), plan.argv.indexOf('--tensor-parallel-size') + 2), ['--tensor-parallel-size', '2']);
    const human = await berth(['plan', '-f', spec], testEnv(home, 'ws-4080s-2080s'));
    assert.match(human.stdout, /command: +\S+python -m vllm\.entrypoints\.openai\.api_server --model Qwen\/Qwen2\.5-7B-Instruct/);
  });

  it('shows GPUs as a table', async () => {
    const r = await berth(['gpus'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /NVIDIA GeForce RTX 4080 SUPER/);
    assert.match(r.stdout, /NVIDIA GeForce RTX 2080 SUPER/);
  });

  it('deploys, lists, shows logs, stops and removes', async () => {
    const deployed = await berth(['deploy', 'tiny', 'Qwen/Qwen2.5-0.5B-Instruct', '--gpus', '1', '--json'], env);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.equal((JSON.parse(deployed.stdout) as DeploymentStatus).name, 'tiny');
    await deploymentWhen(d, 'tiny');
    const ps = await berth(['ps'], env);
    assert.match(ps.stdout, /^NAME +BACKEND/m);
    assert.match(ps.stdout, /tiny +vllm 0\.9\.0\.1 +Qwen\/Qwen2\.5-0\.5B-Instruct +ready/);
    const logs = await berth(['logs', 'tiny', '-n', '200'], env);
    assert.match(logs.stdout, /Application startup complete\./);
    assert.equal((await berth(['stop', 'tiny'], env)).code, 0);
    const rm = await berth(['rm', 'tiny'], env);
    assert.equal(rm.stdout.trim(), 'removed tiny');
    const gone = await berth(['stop', 'tiny'], env);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr.trim(), 'berth stop: deployment tiny does not exist');
  });

  it('lists deployments without loading the server', async () => {
    const r = await berthTraced(['ps', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Array.isArray(JSON.parse(r.stdout)));
    assert.deepEqual(serverPackagesIn(r.modules), []);
  });

  it('fails with one line and a non-zero exit', async () => {
    const usage = await berth(['deploy', 'x', 'y/z', '--gpu', '2'], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^berth deploy: Unknown option '--gpu'/);
    const down = await berth(['ps'], { ...env, BERTH_PORT: String(await freePort()) });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^berth ps: berth daemon is not running at http:\/\/127\.0\.0\.1:\d+ \(start it with: berth serve\)\n$/);
    assert.equal((await berth(['frobnicate'], env)).code, 2);
  });
});
