// LoRA adapters as the engines take them: SGLang's launch flags per release,
// vLLM's effective --max-loras, and the lists Berth refuses up front.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Deployment, type DeploymentInput, deploymentInputSchema } from '../../daemon/contract/deployment.js';
import { normalizeDeployment } from '../../daemon/config/deployment.js';
import { defaultBackendVersion } from '../../daemon/engines/catalogue.js';
import { loraProblem, runtimeLoraCapacity } from '../../daemon/engines/lora.js';
import { buildPlan } from '../../daemon/engines/plan.js';

function deployment(input: Partial<DeploymentInput> & Pick<DeploymentInput, 'backend'>): Deployment {
  const d = deploymentInputSchema.parse({ name: 'qwen', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', ...input });
  return { ...d, servedName: d.servedName ?? [d.name], backendVersion: d.backendVersion ?? defaultBackendVersion(d.backend) };
}

const argv = (input: Partial<DeploymentInput> & Pick<DeploymentInput, 'backend'>) =>
  buildPlan({ deployment: deployment(input), gpus: [0], port: 8001, interpreter: 'python' }).argv.slice(3);

const SQL = { name: 'sql', path: '/adapters/sql' };
const CHAT = { name: 'chat-lora', path: 'org/chat-lora' };

describe('SGLang takes adapters at launch', () => {
  it('0.4.6: --lora-paths name=path..., with --disable-radix-cache and --disable-cuda-graph', () => {
    const a = argv({ backend: 'sglang', loras: [SQL, CHAT] });
    const i = a.indexOf('--lora-paths');
    assert.deepEqual(a.slice(i), ['--lora-paths', 'sql=/adapters/sql', 'chat-lora=org/chat-lora', '--disable-radix-cache', '--disable-cuda-graph']);
  });

  it('0.4.6.post2 and later need only --disable-radix-cache', () => {
    const a = argv({ backend: 'sglang', backendVersion: '0.4.6.post3', loras: [SQL] });
    assert.deepEqual(a.slice(a.indexOf('--lora-paths')), ['--lora-paths', 'sql=/adapters/sql', '--disable-radix-cache']);
  });

  it('a companion flag the user passes is not repeated, and does not swallow their args', () => {
    const a = argv({ backend: 'sglang', loras: [SQL], backendArgs: ['--disable-radix-cache', '--mem-fraction-static', '0.8'] });
    assert.equal(a.filter((t) => t === '--disable-radix-cache').length, 1);
    assert.deepEqual(a.slice(a.indexOf('--lora-paths')), ['--lora-paths', 'sql=/adapters/sql', '--disable-cuda-graph', '--disable-radix-cache', '--mem-fraction-static', '0.8']);
  });

  it('no adapters, no LoRA flags; vLLM never gets them in argv (it loads at run time)', () => {
    assert.ok(!argv({ backend: 'sglang' }).includes('--lora-paths'));
    assert.ok(!argv({ backend: 'vllm', loras: [SQL] }).some((t) => t.includes('sql')));
  });
});

describe("vLLM's effective --max-loras", () => {
  it("the recipe's 16 without backendArgs", () => {
    assert.deepEqual(runtimeLoraCapacity(deployment({ backend: 'vllm' })), { enabled: true, maxLoras: 16, origin: "--max-loras 16, Berth's default" });
  });

  it("the engine's default 1 once backendArgs take over tuning", () => {
    const c = runtimeLoraCapacity(deployment({ backend: 'vllm', backendArgs: ['--max-model-len', '2048'] }));
    assert.deepEqual(c, { enabled: true, maxLoras: 1, origin: "--max-loras 1, vllm's default" });
  });

  it('backendArgs in any spelling; --no-enable-lora turns LoRA off', () => {
    assert.equal(runtimeLoraCapacity(deployment({ backend: 'vllm', backendArgs: ['--max_loras=4'] }))?.origin, '--max-loras 4, from backendArgs');
    assert.equal(runtimeLoraCapacity(deployment({ backend: 'vllm', backendArgs: ['--no-enable-lora'] }))?.enabled, false);
  });

  it('none for SGLang 0.4.6', () => {
    assert.equal(runtimeLoraCapacity(deployment({ backend: 'sglang' })), null);
  });
});

describe('adapter lists Berth refuses, naming the field', () => {
  const problem = (input: Partial<DeploymentInput> & Pick<DeploymentInput, 'backend'>) => {
    const p = loraProblem(deployment(input));
    return p && { code: p.code, field: p.field, message: p.message };
  };

  it('a name used twice, or used by a served name or a --lora-modules adapter', () => {
    assert.equal(problem({ backend: 'vllm', loras: [SQL, { ...SQL, path: '/other' }] })?.field, 'loras[1].name');
    assert.equal(problem({ backend: 'vllm', servedName: ['qwen', 'sql'], loras: [SQL] })?.field, 'loras[0].name');
    assert.equal(problem({ backend: 'vllm', backendArgs: ['--max-loras', '4', '--lora-modules', 'sql=/x'], loras: [SQL] })?.field, 'loras[0].name');
  });

  it('more adapters than --max-loras, with the limit named', () => {
    assert.deepEqual(problem({ backend: 'vllm', backendArgs: ['--max-loras', '1'], loras: [SQL, CHAT] }), {
      code: 'too_many_adapters',
      field: 'loras',
      message: 'qwen serves at most 1 LoRA adapter (--max-loras 1, from backendArgs), so 2 is too many: remove one, or pass a larger --max-loras in backendArgs',
    });
    assert.equal(problem({ backend: 'vllm', backendArgs: ['--max-loras', '2'], loras: [SQL, CHAT] }), null);
  });

  it('LoRA turned off, and SGLang adapters in both loras and backendArgs', () => {
    assert.equal(problem({ backend: 'vllm', backendArgs: ['--no-enable-lora'], loras: [SQL] })?.code, 'lora_disabled');
    assert.deepEqual(problem({ backend: 'sglang', backendArgs: ['--lora-paths', 'a=/a'], loras: [SQL] })?.field, 'loras');
  });

  it('the schema: names fit argv, paths are absolute or a Hugging Face repo', () => {
    const field = (lora: unknown) => {
      try {
        normalizeDeployment({ name: 'qwen', modelId: 'm/m', backend: 'vllm', loras: [lora] });
        return null;
      } catch (err) {
        return (err as { field?: string }).field;
      }
    };
    assert.equal(field({ name: 'a b', path: '/x' }), 'loras.0.name');
    assert.equal(field({ name: 'a=b', path: '/x' }), 'loras.0.name');
    assert.equal(field({ name: '-a', path: '/x' }), 'loras.0.name');
    assert.equal(field({ name: 'a', path: 'relative/../x' }), 'loras.0.path');
    assert.equal(field({ name: 'a', path: 'adapter' }), 'loras.0.path');
    assert.equal(field({ name: 'a', path: '/abs' }), null);
    assert.equal(field({ name: 'a', path: 'org/adapter' }), null);
  });
});
