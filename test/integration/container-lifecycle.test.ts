// A container deployment, seen as a user sees it: it comes up, answers through
// the gateway, restarts after a crash, keeps its token out of every argv and
// log, and gives its GPUs back only once nvidia-smi no longer shows it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { DeploymentStatus, LaunchPlan } from '../../daemon/contract/api.js';
import type { GpuUsageReport } from '../../daemon/contract/live.js';
import { isAlive } from '../../daemon/state/proc.js';
import { creates, startContainerRig, type ContainerRig } from '../fakes/docker/harness.js';
import { deploymentWhen, waitFor } from '../helpers/daemon.js';

const TOKEN = 'hf_test_secret_do_not_show_4242';

/** Every command line on the machine that mentions `needle` (all of /proc we may read). */
function argvsWith(needle: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(needle)) out.push(`${pid}: ${cmd.replaceAll('\0', ' ')}`);
    } catch {
      /* gone, or not ours */
    }
  }
  return out;
}

describe('container mode', () => {
  let rig: ContainerRig;
  let daemonLog = '';
  before(async () => {
    const sink = new Writable({ write: (chunk, _enc, cb) => ((daemonLog += String(chunk)), cb()) });
    rig = await startContainerRig({
      env: { HF_TOKEN: TOKEN },
      // Longer than a crashed container takes to be restarted (its log drain and the first backoff, about 4 s here).
      docker: { gpuLingerMs: 6000 },
      log: pino({ level: 'debug' }, sink),
    });
  });
  after(() => rig.stop());

  it('runs the image, answers a gateway request, and never shows the token', async () => {
    const { d, docker } = rig;
    const created = await d.api('POST', '/api/v1/deployments', { name: 'cq', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', mode: 'container' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const ready = await deploymentWhen(d, 'cq');
    const replica = ready.replicas[0]!;

    const answer = await fetch(`${d.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cq', messages: [{ role: 'user', content: 'Hello' }] }),
    });
    assert.equal(answer.status, 200);
    const body = (await answer.json()) as { choices: { message: { content: string } }[] };
    assert.ok(body.choices[0]!.message.content.length > 0);

    const [create] = creates(docker);
    const spec = create!.body as { Image: string; Env: string[]; HostConfig: { PortBindings: Record<string, { HostIp: string; HostPort: string }[]>; DeviceRequests: { DeviceIDs: string[] }[] } };
    assert.equal(spec.Image, 'vllm/vllm-openai:v0.9.0.1');
    assert.deepEqual(spec.HostConfig.PortBindings, { [`${replica.port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(replica.port) }] });
    assert.deepEqual(spec.HostConfig.DeviceRequests[0]!.DeviceIDs, replica.gpus.map(String));
    // The token reaches the container through the create body, and only there.
    assert.ok(spec.Env.includes(`HF_TOKEN=${TOKEN}`));
    assert.deepEqual(argvsWith(TOKEN), []);
    const state = (await (await fetch(`http://127.0.0.1:${replica.port}/fake/state`)).json()) as { argv: string[]; pid: number };
    assert.ok(!state.argv.join(' ').includes(TOKEN));
    assert.equal(replica.pid, state.pid, 'the replica shows the container\'s engine pid, as GPU accounting needs');

    // GPU accounting as for a process: nvidia-smi's process on the replica's GPU is the replica's.
    const usage = await waitFor(async () => {
      const u = (await d.api<GpuUsageReport>('GET', '/api/v1/gpus/usage')).body;
      return u.shares.some((s) => s.replica === replica.id && s.usedMiB !== null) ? u : null;
    }, 'the container\'s GPU memory attributed to its replica');
    const share = usage.shares.find((s) => s.replica === replica.id)!;
    assert.equal(share.gpuIndex, replica.gpus[0]);
    assert.deepEqual(share.pids, [replica.pid]);

    const logs = await d.api<{ lines: string[] }>('GET', '/api/v1/deployments/cq/logs?tail=500', undefined, { accept: 'application/json' });
    assert.ok(logs.body.lines.length > 0, 'the container\'s output reaches the log');
    assert.ok(!logs.body.lines.join('\n').includes(TOKEN));
    const logDir = join(d.home, 'logs', 'cq');
    for (const f of readdirSync(logDir)) assert.ok(!readFileSync(join(logDir, f), 'utf8').includes(TOKEN), f);
    assert.ok(!daemonLog.includes(TOKEN), 'the daemon log never carries it');

    const plan = await d.api<LaunchPlan>('POST', '/api/v1/plan', { name: 'cq2', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', mode: 'container' });
    assert.equal(plan.status, 200);
    const run = plan.body.container!.dockerRun;
    assert.equal(run[run.indexOf('HF_TOKEN') - 1], '--env', 'the docker run line names the token, without its value');
    assert.ok(!JSON.stringify(plan.body).includes(TOKEN));
  });

  it('a stop waits until nvidia-smi no longer shows the container\'s processes, then removes it', async () => {
    const { d, docker } = rig;
    const [c] = docker.containers().filter((x) => x.labels['berth.deployment'] === 'cq');
    const holder = c!.holderPid!;
    assert.ok(isAlive(holder));
    const stopped = await d.api<DeploymentStatus>('POST', '/api/v1/deployments/cq/stop');
    assert.equal(stopped.body.state, 'stopped');
    // The holder lets go of the GPU 6 s after the container stopped: a
    // stop that did not wait would be back before it did.
    assert.equal(isAlive(holder), false, 'the stop returned while the GPU still showed the container\'s process');
    assert.deepEqual(docker.containers().filter((x) => x.labels['berth.deployment'] === 'cq'), [], 'the container is removed');
    const mine = docker.calls.filter((x) => x.path.includes(c!.id)).map((x) => `${x.method} ${x.path.replace(c!.id, 'ID')}`);
    const stopAt = mine.indexOf('POST /containers/ID/stop');
    assert.ok(stopAt >= 0 && mine.indexOf('DELETE /containers/ID') > stopAt, mine.join(', '));
    const stopCall = docker.calls.find((x) => x.method === 'POST' && x.path === `/containers/${c!.id}/stop`)!;
    assert.equal(stopCall.query.t, '2', 'the grace period, in seconds');
    await d.api('DELETE', '/api/v1/deployments/cq');
  });

  it('a container that exits is a crash: restarted in a new container of the same name', async () => {
    const { d, docker } = rig;
    await d.api('POST', '/api/v1/deployments', { name: 'crashy', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'sglang', mode: 'container', env: { FAKE_CRASH_AFTER: '1' } });
    const first = await deploymentWhen(d, 'crashy');
    const { port, pid } = first.replicas[0]!;
    // Its GPU is held by a second process (an engine's worker), which lets go 6 s after the container exits.
    const holder = docker.containers().find((x) => x.labels['berth.deployment'] === 'crashy')!.holderPid!;
    await fetch(`http://127.0.0.1:${port}/v1/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'crashy', prompt: 'x' }),
    }).catch(() => undefined);
    // The restart waits for the GPU, as a stop does: its container is created only once the worker is gone.
    const atRestart = await waitFor(
      () => (creates(docker).filter((c) => c.name.startsWith('berth-crashy-')).length === 2 ? { holderAlive: isAlive(holder) } : null),
      'the restart\'s container',
    );
    assert.equal(atRestart.holderAlive, false, 'the restart did not wait for the crashed container\'s GPU process');
    const restarted = await deploymentWhen(d, 'crashy', (s) => s.state === 'ready' && s.replicas[0]!.restarts === 1 && s.replicas[0]!.pid !== pid, 'crashy restarted');
    assert.equal(restarted.replicas[0]!.port, port, 'a restart keeps its port and GPUs');
    const names = creates(docker).filter((c) => c.name.startsWith('berth-crashy-')).map((c) => c.name);
    assert.equal(names.length, 2);
    assert.equal(names[0], names[1]);
    assert.equal(docker.containers().filter((x) => x.labels['berth.deployment'] === 'crashy').length, 1, 'the crashed container was removed');
    await d.api('DELETE', '/api/v1/deployments/crashy');
    assert.deepEqual(docker.containers(), []);
  });
});
