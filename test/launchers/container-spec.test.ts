// The exact container Berth asks Docker for, per engine and GPU count: what
// the Engine API's create call carries and the equivalent `docker run` line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeDeployment } from '../../daemon/config/deployment.js';
import type { ContainerCreateBody } from '../../daemon/contract/api.js';
import { containerName, isSecretName } from '../../daemon/launchers/docker/container-spec.js';
import { replicaPlan, type PlanContext } from '../../daemon/supervisor/plan-preview.js';

const STATE = '/home/ada/.config/berth';
const ctx: PlanContext = {
  interpreters: { vllmPython: '/venv/bin/python', sglangPython: '/venv/bin/python' },
  stateDir: STATE,
  env: { HOME: '/home/ada', HF_TOKEN: 'hf_secret_value' },
  cwd: '/work',
};
const container = { mode: 'container' as const, reason: null };

function plan(input: Record<string, unknown>, gpus: number[], port = 30000) {
  const deployment = normalizeDeployment({ modelId: 'Qwen/Qwen2.5-0.5B-Instruct', mode: 'container', ...input });
  return replicaPlan({ deployment, gpus, port, replica: `${deployment.name}-0`, choice: container, ctx });
}

const NAME = (replica: string) => containerName(replica, STATE);
const labels = (deployment: string, replica: string) => ({
  'berth.managed': 'true',
  'berth.state-dir': STATE,
  'berth.deployment': deployment,
  'berth.replica': replica,
});
const hostConfig = (port: number, gpus: string[]): ContainerCreateBody['HostConfig'] => ({
  Binds: ['/home/ada/.cache/huggingface:/root/.cache/huggingface'],
  PortBindings: { [`${port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
  IpcMode: 'host',
  Init: true,
  RestartPolicy: { Name: 'no' },
  DeviceRequests: gpus.length ? [{ Driver: '', DeviceIDs: gpus, Capabilities: [['gpu']] }] : [],
});

describe('container spec', () => {
  it('vLLM on one GPU: the image entrypoint runs the api_server, Berth passes its flags', () => {
    const p = plan({ name: 'qwen', backend: 'vllm' }, [3]);
    assert.equal(p.mode, 'container');
    assert.deepEqual(p.container!.create, {
      Image: 'vllm/vllm-openai:v0.9.0.1',
      Entrypoint: null,
      Cmd: ['--model', 'Qwen/Qwen2.5-0.5B-Instruct', '--served-model-name', 'qwen', '--host', '0.0.0.0', '--port', '30000', '--enable-lora', '--max-loras', '16', '--max-lora-rank', '16'],
      Env: ['VLLM_ALLOW_RUNTIME_LORA_UPDATING=true'],
      Tty: true,
      Labels: labels('qwen', 'qwen-0'),
      ExposedPorts: { '30000/tcp': {} },
      HostConfig: hostConfig(30000, ['3']),
    } satisfies ContainerCreateBody);
    assert.equal(p.container!.name, NAME('qwen-0'));
    assert.deepEqual(p.container!.secretEnv, ['HF_TOKEN']);
    assert.equal(p.host, '127.0.0.1', 'the gateway reaches it where it is published');
    assert.equal(p.argv[0], 'python3', 'what runs inside is the image\'s python, not the host\'s');
  });

  it('vLLM on two GPUs: both by index, tensor parallel 2', () => {
    const p = plan({ name: 'big', backend: 'vllm', resource: { gpu: { count: 2 } } }, [4, 6], 30001);
    const c = p.container!.create;
    assert.deepEqual(c.HostConfig.DeviceRequests, [{ Driver: '', DeviceIDs: ['4', '6'], Capabilities: [['gpu']] }]);
    assert.deepEqual(c.Cmd.slice(-2), ['--tensor-parallel-size', '2']);
    assert.ok(!c.Env.some((e) => e.startsWith('CUDA_VISIBLE_DEVICES=')), 'inside, CUDA numbers the two GPUs 0 and 1: host indexes would be wrong');
    assert.deepEqual(p.container!.dockerRun, [
      'docker', 'run', '--detach', '--tty', '--name', NAME('big-0'),
      '--label', 'berth.managed=true', '--label', `berth.state-dir=${STATE}`, '--label', 'berth.deployment=big', '--label', 'berth.replica=big-0',
      '--init', '--ipc=host', '--restart=no', '--publish', '127.0.0.1:30001:30001', '--gpus', '"device=4,6"',
      '--volume', '/home/ada/.cache/huggingface:/root/.cache/huggingface',
      '--env', 'VLLM_ALLOW_RUNTIME_LORA_UPDATING=true', '--env', 'HF_TOKEN',
      'vllm/vllm-openai:v0.9.0.1', ...c.Cmd,
    ]);
  });

  it('SGLang on one GPU: no entrypoint, so the whole command, bound to 0.0.0.0 inside', () => {
    const p = plan({ name: 'sg', backend: 'sglang' }, [0]);
    assert.deepEqual(p.container!.create, {
      Image: 'lmsysorg/sglang:v0.4.6-cu124',
      Entrypoint: null,
      Cmd: ['python3', '-m', 'sglang.launch_server', '--model-path', 'Qwen/Qwen2.5-0.5B-Instruct', '--served-model-name', 'sg', '--host', '0.0.0.0', '--port', '30000', '--tp-size', '1'],
      Env: [],
      Tty: true,
      Labels: labels('sg', 'sg-0'),
      ExposedPorts: { '30000/tcp': {} },
      HostConfig: hostConfig(30000, ['0']),
    } satisfies ContainerCreateBody);
  });

  it('SGLang on two GPUs (two workers): --tp-size 2 and both devices', () => {
    const p = plan({ name: 'sg2', backend: 'sglang', resource: { workers: 2, gpu: { count: 1 } } }, [1, 2]);
    const c = p.container!.create;
    assert.deepEqual(c.Cmd.slice(-2), ['--tp-size', '2']);
    assert.deepEqual(c.HostConfig.DeviceRequests[0]!.DeviceIDs, ['1', '2']);
  });

  it('publishes on loopback only, even when the user\'s args bind the engine elsewhere', () => {
    const p = plan({ name: 'q', backend: 'vllm', backendArgs: ['--host', '::'] }, [0]);
    for (const bindings of Object.values(p.container!.create.HostConfig.PortBindings)) {
      for (const b of bindings) assert.equal(b.HostIp, '127.0.0.1');
    }
  });

  it('secrets travel by name: never a value in the body, the docker run line or the argv', () => {
    const p = plan({ name: 'q', backend: 'vllm', env: { WANDB_API_KEY: 'wandb_secret', MY_FLAG: '1' } }, [0]);
    const shown = JSON.stringify(p.container);
    assert.ok(!shown.includes('hf_secret_value') && !shown.includes('wandb_secret'), shown);
    assert.deepEqual(p.container!.secretEnv, ['WANDB_API_KEY', 'HF_TOKEN']);
    assert.ok(p.container!.create.Env.includes('MY_FLAG=1'));
    assert.ok(!p.argv.join(' ').includes('secret'));
    assert.ok(isSecretName('HUGGING_FACE_HUB_TOKEN') && !isSecretName('VLLM_ALLOW_RUNTIME_LORA_UPDATING'));
  });

  it('a local model is mounted read-only at its own path, ~ and relative paths made absolute', () => {
    const home = plan({ name: 'loc', backend: 'vllm', modelId: '~/models/qwen' }, [0]);
    assert.ok(home.container!.create.HostConfig.Binds.includes('/home/ada/models/qwen:/home/ada/models/qwen:ro'));
    assert.deepEqual(home.container!.create.Cmd.slice(0, 2), ['--model', '/home/ada/models/qwen']);
    const rel = plan({ name: 'rel', backend: 'vllm', modelId: './m' }, [0]);
    assert.ok(rel.container!.create.HostConfig.Binds.includes('/work/m:/work/m:ro'));
  });

  it('HF_HOME on the host is the cache mounted; an image override and an unknown version say what they assume', () => {
    const p = replicaPlan({
      deployment: normalizeDeployment({ name: 'o', modelId: 'a/b', backend: 'vllm', backendVersion: '0.9.2', mode: 'container' }),
      gpus: [],
      port: 30000,
      replica: 'o-0',
      choice: container,
      ctx: { ...ctx, env: { HOME: '/home/ada', HF_HOME: '/data/hf' } },
    });
    assert.deepEqual(p.container!.create.HostConfig.Binds, ['/data/hf:/root/.cache/huggingface']);
    assert.equal(p.container!.image, 'vllm/vllm-openai:v0.9.2');
    assert.deepEqual(p.container!.create.HostConfig.DeviceRequests, [], 'gpu count 0: no device request');
    assert.ok(p.warnings.some((w) => /no catalogued image for vllm 0\.9\.2/.test(w)));
    const own = plan({ name: 'own', backend: 'vllm', image: 'registry.local:5000/me/vllm:dev' }, [0]);
    assert.equal(own.container!.create.Image, 'registry.local:5000/me/vllm:dev');
  });

  it('an image is refused for a process deployment, named by its field', () => {
    assert.throws(() => normalizeDeployment({ name: 'p', modelId: 'a/b', backend: 'vllm', image: 'x/y:z' }), (err: Error & { field?: string }) => err.field === 'image');
    assert.throws(() => normalizeDeployment({ name: 'p', modelId: 'a/b', backend: 'vllm', mode: 'container', image: 'Not An Image' }), (err: Error & { field?: string }) => err.field === 'image');
  });
});
