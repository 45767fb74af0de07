// ScaleGenAI create bodies -> the Berth deployment and launch plan they
// become (pure). Both published bodies (the curl example once its extra brace
// is gone, and the field template), then each field that acts on this
// machine, the secret, and the refusals.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { normalizeDeployment } from '../../daemon/config/deployment.js';
import { REDACTED } from '../../daemon/contract/deployment.js';
import { buildPlan } from '../../daemon/engines/plan.js';
import { checkTranslation } from '../../daemon/platforms/common.js';
import { translateScaleGenAi } from '../../daemon/platforms/scalegenai/translate.js';
import { refusal } from '../helpers/refusal.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/platforms/${name}`, import.meta.url), 'utf8');
const EXAMPLE = JSON.parse(fixture('scalegenai-create-example.json')) as Record<string, unknown>;
const TEMPLATE = JSON.parse(fixture('scalegenai-create-template.json')) as Record<string, unknown>;
const OPTS = { infId: 'inf-1', home: '/home/u/.config/berth' };

const body = (over: Record<string, unknown> = {}) => ({ ...structuredClone(EXAMPLE), ...over });
const translate = (b: unknown) => translateScaleGenAi(b, OPTS);

function planOf(b: unknown, gpus: number[]) {
  const d = normalizeDeployment(translate(b).input);
  return { d, plan: buildPlan({ deployment: d, gpus, port: 30000, interpreter: 'python' }) };
}

const fields = (b: unknown) => translate(b).input.source!.ignored!.map((i) => i.field);

describe('ScaleGenAI: the published curl example', () => {
  it('is not valid JSON as published (one closing brace too many)', () => {
    assert.throws(() => JSON.parse(fixture('scalegenai-create-example.published.txt')), SyntaxError);
  });

  it('becomes a vLLM deployment: 4 GPUs per replica, 0..4 replicas, asleep until the first request, TTFT-scaled', () => {
    const { input, files } = translate(EXAMPLE);
    assert.equal(input.name, 'llama-70b-dep');
    assert.deepEqual(input.servedName, ['llama-70b-dep', 'meta-llama/Llama-3.1-70B-Instruct']);
    assert.equal(input.modelId, 'meta-llama/Llama-3.1-70B-Instruct');
    assert.equal(input.backend, 'vllm');
    assert.deepEqual(input.backendArgs, ['--max-model-len', '32000']);
    // use_other_gpus: true lets any GPU serve; the named type is reported, not enforced.
    assert.deepEqual(input.resource, { workers: 1, gpu: { count: 4 } });
    assert.deepEqual(input.scale, {
      max: 4, min: 0, idleTime: 7200, rpsValue: 100, inFlightValue: null,
      ttft: { upper: 1, lower: 0.2, windowSec: 300 },
    });
    assert.equal(input.secretEnv, undefined, 'hf_token null sets nothing');
    assert.deepEqual(files, []);
    assert.equal(input.source?.platform, 'scalegenai');
    assert.equal(input.source?.id, 'inf-1');
    assert.equal(input.source?.kept?.cloud_providers !== undefined, true, 'cloud fields kept as given');
  });

  it('reports every cloud-only field, and each field it overrides, as not applicable', () => {
    assert.deepEqual(fields(EXAMPLE).sort(), [
      'allow_spot_instances',
      'autoscaling_config.enable_fast_autoscaling',
      'autoscaling_config.enable_speedup_shared',
      'autoscaling_config.lower_allowed_threshold',
      'autoscaling_config.scaling_down_timeout_sec',
      'autoscaling_config.scaling_up_timeout_sec',
      'autoscaling_config.upper_allowed_threshold',
      'cloud_providers',
      'controller_cloud_config',
      'initial_worker_config.initial_workers_gpu',
      'initial_worker_config.instance_types',
      'initial_worker_config.use_cloudburst',
      'initial_worker_config.use_on_prem',
      'throughput_optimized',
    ]);
  });

  it('plans vLLM over the replica\'s 4 GPUs with the context length', () => {
    const { plan } = planOf(EXAMPLE, [0, 1, 2, 3]);
    assert.deepEqual(plan.argv.slice(3), [
      '--model', 'meta-llama/Llama-3.1-70B-Instruct', '--served-model-name', 'llama-70b-dep', 'meta-llama/Llama-3.1-70B-Instruct',
      '--host', '127.0.0.1', '--port', '30000', '--enable-lora', '--tensor-parallel-size', '4', '--max-model-len', '32000',
    ]);
  });
});

describe('ScaleGenAI: the field template', () => {
  it('applies: no engine means vLLM, 0 GPUs means none, the latency bounds mean the TTFT strategy', () => {
    const { input } = translate(TEMPLATE);
    assert.equal(input.backend, 'vllm');
    assert.deepEqual(input.resource, { workers: 1, gpu: { count: 0 } });
    assert.deepEqual(input.scale, { max: 5, min: 1, idleTime: 60, rpsValue: 100, inFlightValue: null, ttft: { upper: 4, lower: 1, windowSec: 300 } });
    assert.deepEqual(input.secretEnv, { HF_TOKEN: 'string' });
    assert.ok(!JSON.stringify(input.source).includes('"hf_token"'), 'the token is not kept in source');
    const ignored = fields(TEMPLATE);
    for (const f of ['gateway_config', 'logs_store', 'max_price_per_hour', 'max_throughput_rate', 'initial_worker_config.initial_workers_gpu', 'autoscaling_config.scale_to_zero_timeout_sec']) {
      assert.ok(ignored.includes(f), `${f} reported: ${ignored.join(', ')}`);
    }
    checkTranslation(translate(TEMPLATE));
  });
});

describe('ScaleGenAI: fields that act', () => {
  it('inf_type embedding runs vLLM with --task embed and LoRA off', () => {
    const { plan } = planOf(body({ inf_type: 'embedding', max_model_len: null }), [0, 1, 2, 3]);
    assert.deepEqual(plan.argv.slice(-3), ['--task', 'embed', '--no-enable-lora']);
    assert.ok(!plan.argv.includes('--enable-lora'));
  });

  it('inf_type embedding runs SGLang with --is-embedding, and max_model_len is --context-length', () => {
    const { plan } = planOf(body({ engine: 'sglang', inf_type: 'embedding' }), [0, 1, 2, 3]);
    assert.deepEqual(plan.argv.slice(-3), ['--is-embedding', '--context-length', '32000']);
  });

  it('custom_chat_template is written under the state dir and passed by path', () => {
    const t = translate(body({ custom_chat_template: '{{ messages[0].content }}' }));
    const path = '/home/u/.config/berth/chat-templates/inf-1.jinja';
    assert.deepEqual(t.files, [{ path, content: '{{ messages[0].content }}' }]);
    assert.deepEqual(t.input.backendArgs!.slice(-2), ['--chat-template', path]);
  });

  it('hf_token is a secret: HF_TOKEN by name in the plan, never its value, never in argv', () => {
    const { d, plan } = planOf(body({ hf_token: 'hf_s3cret' }), [0, 1, 2, 3]);
    assert.deepEqual(d.secretEnv, { HF_TOKEN: 'hf_s3cret' });
    assert.equal(plan.env.HF_TOKEN, REDACTED);
    assert.ok(!JSON.stringify(plan).includes('hf_s3cret'));
  });

  it("llm_loras become the deployment's LoRA adapters in each accepted form (vLLM loads them at run time)", () => {
    const t = translate(body({ llm_loras: [{ name: 'sql', path: '/loras/sql' }, 'chat=/loras/chat', '/loras/tone/'], max_model_len: null }));
    assert.deepEqual(t.input.loras, [
      { name: 'sql', path: '/loras/sql' },
      { name: 'chat', path: '/loras/chat' },
      { name: 'tone', path: '/loras/tone/' },
    ]);
    assert.deepEqual(t.input.backendArgs, []);
    const { plan } = planOf(body({ llm_loras: ['sql=/loras/sql'] }), [0, 1, 2, 3]);
    assert.ok(!plan.argv.includes('--lora-modules'));
    assert.ok(plan.argv.includes('--enable-lora'));
  });

  it('llm_loras on SGLang become --lora-paths with the companion flags 0.4.6 asserts', () => {
    const { plan } = planOf(body({ engine: 'sglang', llm_loras: ['sql=/loras/sql'], max_model_len: null }), [0, 1, 2, 3]);
    assert.ok(plan.argv.join(' ').endsWith('--lora-paths sql=/loras/sql --disable-radix-cache --disable-cuda-graph'));
    assert.deepEqual(plan.warnings.filter((w) => w.includes('--lora-paths')), []);
  });

  it('a GPU type is enforced unless other GPUs are allowed', () => {
    const strict = body({ initial_worker_config: { initial_workers_gpu: 'A100_80GB', initial_workers_gpu_num: 2, use_other_gpus: false, max_workers: 2 } });
    assert.deepEqual(translate(strict).input.resource, { workers: 1, gpu: { count: 2, gpuType: 'A100_80GB' } });
  });

  it('without scale_to_zero the floor is min_workers, at least 1, and the idle timeout does not apply', () => {
    const b = body({ autoscaling_config: { scale_to_zero: false, scale_to_zero_timeout_sec: 600 }, initial_worker_config: { min_workers: 2, max_workers: 3 } });
    const t = translate(b);
    assert.equal(t.input.scale?.min, 2);
    assert.equal(t.input.scale?.max, 3);
    assert.equal(t.input.scale?.idleTime, 60);
    assert.equal(t.input.scale?.ttft, undefined);
    assert.ok(fields(b).includes('autoscaling_config.scale_to_zero_timeout_sec'));
  });

  it('accepts both spellings of the fields the examples disagree on', () => {
    for (const over of [{ min_throughput_rate: 1 }, { max_throughput_rate: 1 }]) assert.ok(translate(body(over)));
    const same = body({ initial_worker_config: { use_same_gpus_when_scaling: true, initial_workers_gpu: 'H100', initial_workers_gpu_num: 1 } });
    assert.deepEqual(translate(same).input.resource!.gpu, { count: 1, gpuType: 'H100' });
  });
});

describe('ScaleGenAI: refusals name the field', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['no model at all', { model: null, base_model: null }, 'model', /required/],
    ['an engine Berth does not run', { engine: 'tgi' }, 'engine', /vllm|sglang/],
    ['an unknown inf_type', { inf_type: 'rerank' }, 'inf_type', /llm|embedding/],
    ['another autoscaling strategy', { autoscaling_config: { autoscaling_strategy: 'rps' } }, 'autoscaling_config.autoscaling_strategy', /ttft_latency_sec/],
    ['lower latency above upper', { autoscaling_config: { autoscaling_strategy: 'ttft_latency_sec', upper_allowed_latency_sec: 1, lower_allowed_latency_sec: 2 } }, 'autoscaling_config.lower_allowed_latency_sec', /below/],
    ['max below min', { initial_worker_config: { min_workers: 3, max_workers: 2 }, autoscaling_config: null }, 'initial_worker_config.max_workers', /at least/],
    ['an unknown field', { gpu_count: 2 }, 'gpu_count', /not a field/],
    ['a name that is not a DNS label', { name: 'Llama 70B' }, 'name', /DNS label/],
  ];
  for (const [what, over, field, message] of cases) {
    it(what, () => {
      const e = refusal(() => translate(body(over)));
      assert.equal(e.status, 400);
      assert.equal(e.field, field);
      assert.match(e.message, message);
    });
  }

  it('a context length of 0 is refused, naming max_model_len', () => {
    const e = refusal(() => checkTranslation(translate(body({ max_model_len: 0 }))));
    assert.equal(e.field, 'max_model_len');
  });

  it('a model id Berth cannot read is blamed on `model`', () => {
    const e = refusal(() => checkTranslation(translate(body({ model: 'not a repo id' }))));
    assert.equal(e.field, 'model');
    assert.match(e.message, /^model: /);
  });
});
