// Alaya QuickStart bodies -> the Berth deployment and launch plan they become
// (pure: no daemon, no engine). The published example first, then the
// documented defaults per backend, the namespace rule and every refusal.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { normalizeDeployment } from '../../daemon/config/deployment.js';
import { buildPlan } from '../../daemon/engines/plan.js';
import { parsePlainCredential } from '../../daemon/platforms/alaya/auth.js';
import { translateAlaya } from '../../daemon/platforms/alaya/translate.js';
import { refusal } from '../helpers/refusal.js';

const EXAMPLE = JSON.parse(readFileSync(new URL('../fixtures/platforms/alaya-quickstart.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const body = (over: Record<string, unknown> = {}) => ({ ...structuredClone(EXAMPLE), ...over });

function planOf(b: unknown, gpus: number[]) {
  const d = normalizeDeployment(translateAlaya(b, 'svc-1').input);
  return { d, plan: buildPlan({ deployment: d, gpus, port: 30000, interpreter: 'python' }) };
}

describe('Alaya QuickStart: the published example', () => {
  it('becomes the same deployment, with vksId, namespace and the service id in source', () => {
    const t = translateAlaya(EXAMPLE, 'svc-1');
    assert.deepEqual(t.input, {
      name: 'testvllm',
      servedName: ['testvllm'],
      modelId: 'c486cdee-c316-4fc1-9f75-0d1741940f27',
      backend: 'vllm',
      backendVersion: '0.9.0.1',
      backendArgs: [],
      resource: { workers: 2, gpu: { count: 1, gpuType: 'nvidia.com/gpu-l40s' } },
      scale: { max: 5, min: 1, idleTime: 60, rpsValue: 100, inFlightValue: null },
      source: {
        platform: 'alaya',
        id: 'svc-1',
        namespace: 'default',
        kept: { vksId: 'vcacb50arkk4', name: 'testvllm', resource: { cpu: 4, mem: 10 } },
        ignored: [
          { field: 'vksId', reason: 'a VKS cluster id; Berth runs on this machine only' },
          { field: 'resource.cpu', reason: 'Berth runs the engine as a process of this machine and does not cap its CPU or memory' },
          { field: 'resource.mem', reason: 'Berth runs the engine as a process of this machine and does not cap its CPU or memory' },
        ],
      },
    });
    assert.deepEqual(t.files, []);
  });

  it('plans vLLM 0.9.0.1 with Alaya\'s defaults: --enable-lora, runtime LoRA env, --max-loras 16 --max-lora-rank 16, tp over 2 GPUs', () => {
    const { plan } = planOf(EXAMPLE, [0, 1]);
    assert.deepEqual(plan.argv.slice(3), [
      '--model', 'c486cdee-c316-4fc1-9f75-0d1741940f27', '--served-model-name', 'testvllm',
      '--host', '127.0.0.1', '--port', '30000', '--enable-lora',
      '--max-loras', '16', '--max-lora-rank', '16', '--tensor-parallel-size', '2',
    ]);
    assert.equal(plan.env.VLLM_ALLOW_RUNTIME_LORA_UPDATING, 'true');
    assert.equal(plan.env.CUDA_VISIBLE_DEVICES, '0,1');
  });

  it('with backendArgs, vLLM gets them instead of the LoRA tuning defaults', () => {
    const { plan } = planOf(body({ backendArgs: ['--max-model-len', '8192'] }), [0, 1]);
    assert.ok(!plan.argv.includes('--max-loras'));
    assert.deepEqual(plan.argv.slice(-2), ['--max-model-len', '8192']);
  });

  it('plans SGLang 0.4.6 with --tp-size workers x gpu.count when no backendArgs', () => {
    const b = body({ backend: 'sglang', backendVersion: '0.4.6', resource: { workers: 2, gpu: { count: 2 } } });
    const { plan } = planOf(b, [0, 1, 2, 3]);
    assert.deepEqual(plan.argv.slice(-2), ['--tp-size', '4']);
    assert.equal(plan.env.VLLM_ALLOW_RUNTIME_LORA_UPDATING, undefined);
  });

  it('applies the documented scale defaults field by field', () => {
    const t = translateAlaya(body({ scale: { max: 3 } }), 'svc-1');
    assert.deepEqual(t.input.scale, { max: 3, min: 1, idleTime: 60, rpsValue: 100, inFlightValue: null });
  });
});

describe('Alaya QuickStart: names and namespaces', () => {
  it('a service outside `default` is served as <name>-<namespace>', () => {
    const t = translateAlaya(body({ namespace: 'team-a' }), 'svc-1');
    assert.equal(t.input.name, 'testvllm-team-a');
    assert.equal(t.input.source?.namespace, 'team-a');
    assert.equal(t.input.source?.kept?.name, 'testvllm');
  });

  it('a scoped name longer than a DNS label is refused, naming `name`', () => {
    const e = refusal(() => translateAlaya(body({ name: 'a'.repeat(40), namespace: 'b'.repeat(30) }), 'svc-1'));
    assert.equal(e.status, 400);
    assert.equal(e.field, 'name');
    assert.match(e.message, /longer than 63/);
  });
});

describe('Alaya QuickStart: refusals name the field', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['min 0 (QuickStart never scales to zero)', { scale: { min: 0 } }, 'scale.min', /never scale below one instance/],
    ['a missing required field', { vksId: undefined }, 'vksId', /required/],
    ['an unknown backend', { backend: 'tgi' }, 'backend', /vllm|sglang/],
    ['an unknown field', { replicas: 2 }, 'replicas', /not a field/],
    ['an unknown resource field', { resource: { workers: 1, disk: 10 } }, 'resource.disk', /not a field/],
    ['servedName not a list', { servedName: 'x' }, 'servedName', /array/i],
    ['a name that is not a DNS label', { name: 'Test_VLLM' }, 'name', /DNS label/],
  ];
  for (const [what, over, field, message] of cases) {
    it(what, () => {
      const b = body(over);
      for (const [k, v] of Object.entries(over)) if (v === undefined) delete (b as Record<string, unknown>)[k];
      const e = refusal(() => translateAlaya(b, 'svc-1'));
      assert.equal(e.status, 400);
      assert.equal(e.field, field);
      assert.ok(e.message.startsWith(`${field}: `), e.message);
      assert.match(e.message, message);
    });
  }
});

describe('Alaya credentials', () => {
  it('reads the documented header form, spaces and case aside', () => {
    assert.deepEqual(parsePlainCredential('plain Credential=YOUR_AK,Signature=YOUR_SK'), { credential: 'YOUR_AK', signature: 'YOUR_SK' });
    assert.deepEqual(parsePlainCredential('Plain credential=a, signature=b'), { credential: 'a', signature: 'b' });
    assert.equal(parsePlainCredential('Bearer x'), null);
    assert.equal(parsePlainCredential('plain Credential=a'), null);
  });
});
