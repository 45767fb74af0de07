// buildPlan and validateBackendArgs: one test per documented default, then
// GPU counts, user overrides in every spelling, env and errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LaunchPlan } from '../../daemon/contract/api.js';
import { type Deployment, type DeploymentInput, deploymentInputSchema } from '../../daemon/contract/deployment.js';
import { berthArgs } from '../../daemon/engines/berth-flags.js';
import { defaultBackendVersion, resolveRecipe } from '../../daemon/engines/catalogue.js';
import { composeArgv } from '../../daemon/engines/compose.js';
import { PlanError, buildPlan, validateBackendArgs } from '../../daemon/engines/plan.js';

/** What a caller does: schema defaults, then servedName and backendVersion defaults. */
function deployment(input: Partial<DeploymentInput> & Pick<DeploymentInput, 'backend'>): Deployment {
  const d = deploymentInputSchema.parse({ name: 'qwen', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', ...input });
  return { ...d, servedName: d.servedName ?? [d.name], backendVersion: d.backendVersion ?? defaultBackendVersion(d.backend) };
}

function plan(
  input: Partial<DeploymentInput> & Pick<DeploymentInput, 'backend'>,
  opts: { gpus?: number[]; port?: number; host?: string } = {},
): LaunchPlan {
  return buildPlan({
    deployment: deployment(input),
    gpus: opts.gpus ?? [0],
    port: opts.port ?? 8001,
    interpreter: '/opt/venv/bin/python',
    ...(opts.host ? { host: opts.host } : {}),
  });
}

/** The argv after `<interpreter> -m <module>`. */
const flags = (p: LaunchPlan) => p.argv.slice(3);

function planError(fn: () => unknown): PlanError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PlanError) return e;
    throw e;
  }
  assert.fail('expected a PlanError');
}

const VLLM_BASE = [
  '/opt/venv/bin/python', '-m', 'vllm.entrypoints.openai.api_server',
  '--model', 'Qwen/Qwen2.5-0.5B-Instruct', '--served-model-name', 'qwen', 'chat',
  '--host', '127.0.0.1', '--port', '8001', '--enable-lora',
];
const SGLANG_BASE = [
  '/opt/venv/bin/python', '-m', 'sglang.launch_server',
  '--model-path', 'Qwen/Qwen2.5-0.5B-Instruct', '--served-model-name', 'qwen',
  '--host', '127.0.0.1', '--port', '8001',
];

describe('vLLM 0.9.0.1 defaults', () => {
  it('runs the api_server module with model, every served name, host, port and --enable-lora', () => {
    const p = plan({ backend: 'vllm', servedName: ['qwen', 'chat'], backendArgs: ['--seed', '1'] });
    assert.deepEqual(p.argv, [...VLLM_BASE, '--seed', '1']);
  });

  it('enables runtime LoRA loading in the environment', () => {
    assert.equal(plan({ backend: 'vllm' }).env.VLLM_ALLOW_RUNTIME_LORA_UPDATING, 'true');
  });

  it('adds --max-loras 16 --max-lora-rank 16 only when the deployment has no backendArgs', () => {
    const none = plan({ backend: 'vllm', servedName: ['qwen', 'chat'] });
    assert.deepEqual(none.argv, [...VLLM_BASE, '--max-loras', '16', '--max-lora-rank', '16']);
    const some = plan({ backend: 'vllm', backendArgs: ['--seed', '1'] });
    assert.ok(!some.argv.includes('--max-loras') && !some.argv.includes('--max-lora-rank'));
  });

  it('sets --tensor-parallel-size to the allocated GPU count above one GPU', () => {
    assert.deepEqual(flags(plan({ backend: 'vllm', backendArgs: ['--seed', '1'] }, { gpus: [3, 5] })).slice(-4), ['--tensor-parallel-size', '2', '--seed', '1']);
    assert.deepEqual(flags(plan({ backend: 'vllm' }, { gpus: [3, 5] })).slice(-2), ['--tensor-parallel-size', '2']);
    assert.ok(!plan({ backend: 'vllm' }, { gpus: [3] }).argv.includes('--tensor-parallel-size'));
  });

  it('leaves tensor parallelism to the user when their args set it, in any spelling', () => {
    const spellings = [
      ['--tensor-parallel-size', '1'],
      ['--tensor-parallel-size=1'],
      ['-tp', '1'],
      ['-tp=1'],
      ['-t', '1'],
      ['--tensor', '1'],
      ['--tensor-parallel=1'],
      ['--tensor_parallel_size', '1'],
    ];
    for (const args of spellings) {
      const p = plan({ backend: 'vllm', backendArgs: args }, { gpus: [0, 1] });
      assert.deepEqual(flags(p).slice(-args.length), args, args.join(' '));
      assert.equal(p.argv.filter((a) => a === '--tensor-parallel-size').length, args[0] === '--tensor-parallel-size' ? 1 : 0, args.join(' '));
    }
  });

  it('is ready when GET /health answers 200; no log line', () => {
    assert.deepEqual(plan({ backend: 'vllm' }).readiness, { http: { path: '/health', status: 200 }, logLine: null });
  });
});

describe('SGLang 0.4.6 defaults', () => {
  it('runs sglang.launch_server with --model-path, the first served name, host and port', () => {
    const p = plan({ backend: 'sglang', backendArgs: ['--random-seed', '1'] });
    assert.deepEqual(p.argv, [...SGLANG_BASE, '--random-seed', '1']);
  });

  it('adds --tp-size workers x gpu.count when there are no backendArgs and the replica has GPUs', () => {
    const p = plan({ backend: 'sglang', resource: { workers: 2, gpu: { count: 2 } } }, { gpus: [0, 1, 2, 3] });
    assert.deepEqual(p.argv, [...SGLANG_BASE, '--tp-size', '4']);
    assert.deepEqual(plan({ backend: 'sglang' }, { gpus: [0] }).argv, [...SGLANG_BASE, '--tp-size', '1']);
  });

  it('adds no --tp-size with backendArgs or without GPUs', () => {
    assert.ok(!plan({ backend: 'sglang', backendArgs: ['--random-seed', '1'] }, { gpus: [0, 1] }).argv.includes('--tp-size'));
    assert.deepEqual(plan({ backend: 'sglang', resource: { gpu: { count: 0 } } }, { gpus: [] }).argv, SGLANG_BASE);
  });

  it('is ready on GET /health_generate or the fired-up log line, never /health', () => {
    assert.deepEqual(plan({ backend: 'sglang' }).readiness, {
      http: { path: '/health_generate', status: 200 },
      logLine: 'The server is fired up and ready to roll!',
    });
  });

  it('serves only the first served name, with a warning naming the others', () => {
    const p = plan({ backend: 'sglang', servedName: ['qwen', 'chat', 'small'] });
    assert.deepEqual(flags(p).slice(2, 4), ['--served-model-name', 'qwen']);
    assert.ok(!p.argv.includes('chat'));
    assert.deepEqual(p.warnings, ['sglang serves only the first served name ("qwen"); the gateway maps "chat", "small" to it']);
  });

  it('warns when --lora-paths lacks the companion flags the engine asserts', () => {
    const lora = ['--lora-paths', 'a=/adapters/a'];
    const at = (backendVersion: string, extra: string[] = []) =>
      plan({ backend: 'sglang', backendVersion, backendArgs: [...lora, ...extra] }).warnings;
    const message = (v: string, missing: string) =>
      `sglang ${v} with --lora-paths also needs ${missing}; without it the engine fails an assertion at start ("compatibility of lora and cuda graph and radix attention is in progress")`;
    assert.deepEqual(at('0.4.6'), [message('0.4.6', '--disable-radix-cache and --disable-cuda-graph')]);
    assert.deepEqual(at('0.4.6', ['--disable-cuda-graph']), [message('0.4.6', '--disable-radix-cache')]);
    assert.deepEqual(at('0.4.6.post3'), [message('0.4.6.post3', '--disable-radix-cache')]);
    assert.deepEqual(at('0.4.6', ['--disable-radix-cache', '--disable-cuda-graph']), []);
    assert.deepEqual(plan({ backend: 'sglang' }).warnings, []);
  });
});

describe('both engines', () => {
  for (const backend of ['vllm', 'sglang'] as const) {
    it(`${backend}: CUDA_VISIBLE_DEVICES lists the allocated GPUs, '' for none`, () => {
      assert.equal(plan({ backend }, { gpus: [2, 0] }).env.CUDA_VISIBLE_DEVICES, '2,0');
      assert.equal(plan({ backend, resource: { gpu: { count: 0 } } }, { gpus: [] }).env.CUDA_VISIBLE_DEVICES, '');
    });

    it(`${backend}: host defaults to 127.0.0.1 and follows the input`, () => {
      assert.equal(plan({ backend }).host, '127.0.0.1');
      const p = plan({ backend }, { host: '0.0.0.0', port: 9100 });
      assert.equal(p.host, '0.0.0.0');
      assert.equal(p.port, 9100);
      const at = p.argv.indexOf('--host');
      assert.deepEqual(p.argv.slice(at, at + 4), ['--host', '0.0.0.0', '--port', '9100']);
    });

    it(`${backend}: appends backendArgs after Berth's flags, verbatim`, () => {
      const args = ['--trust-remote-code', '--tensor-parallel-size=1'];
      const p = plan({ backend, backendArgs: args });
      assert.deepEqual(p.argv.slice(-2), args);
      assert.deepEqual(p.argv.slice(0, -2), (backend === 'vllm' ? VLLM_BASE : SGLANG_BASE).filter((a) => a !== 'chat'));
    });

    it(`${backend}: merges the deployment env last, and warns when it sets CUDA_VISIBLE_DEVICES`, () => {
      const p = plan({ backend, env: { HF_TOKEN: 'hf_x', CUDA_VISIBLE_DEVICES: '7' } }, { gpus: [0, 1] });
      assert.equal(p.env.HF_TOKEN, 'hf_x');
      assert.equal(p.env.CUDA_VISIBLE_DEVICES, '7');
      assert.ok(p.warnings.includes('env sets CUDA_VISIBLE_DEVICES="7"; the engine uses it instead of the allocated GPUs (0,1)'));
    });

    it(`${backend}: records version, recipe version and GPUs`, () => {
      const p = plan({ backend }, { gpus: [1] });
      assert.equal(p.backend, backend);
      assert.equal(p.backendVersion, defaultBackendVersion(backend));
      assert.equal(p.recipeVersion, defaultBackendVersion(backend));
      assert.deepEqual(p.gpus, [1]);
    });
  }

  it("the deployment env wins over the recipe's env", () => {
    const p = plan({ backend: 'vllm', env: { VLLM_ALLOW_RUNTIME_LORA_UPDATING: 'false' } });
    assert.equal(p.env.VLLM_ALLOW_RUNTIME_LORA_UPDATING, 'false');
  });
});

describe('plans for 1, 2 and 4 GPUs', () => {
  const table: [backend: 'vllm' | 'sglang', gpus: number[], tail: string[]][] = [
    ['vllm', [0], ['--enable-lora', '--max-loras', '16', '--max-lora-rank', '16']],
    ['vllm', [0, 1], ['--max-lora-rank', '16', '--tensor-parallel-size', '2']],
    ['vllm', [4, 5, 6, 7], ['--max-lora-rank', '16', '--tensor-parallel-size', '4']],
    ['sglang', [0], ['--port', '8001', '--tp-size', '1']],
    ['sglang', [0, 1], ['--port', '8001', '--tp-size', '2']],
    ['sglang', [4, 5, 6, 7], ['--port', '8001', '--tp-size', '4']],
  ];
  for (const [backend, gpus, tail] of table) {
    it(`${backend} on ${gpus.length} GPU(s)`, () => {
      const p = plan({ backend, resource: { gpu: { count: gpus.length } } }, { gpus });
      assert.deepEqual(p.argv.slice(-tail.length), tail);
      assert.equal(p.env.CUDA_VISIBLE_DEVICES, gpus.join(','));
      assert.deepEqual(p.gpus, gpus);
      assert.deepEqual(p.warnings, []);
    });
  }
});

describe("user args override Berth's flag of the same name", () => {
  // buildPlan adds --max-lora-rank only when backendArgs is empty, so the
  // replacement itself is shown on composeArgv, which buildPlan uses.
  it('--max-lora-rank 64 replaces ours', () => {
    const r = resolveRecipe('vllm', '0.9.0.1');
    const berth = berthArgs(r.recipe, {
      modelId: 'm', servedName: ['m'], host: '127.0.0.1', port: 8001, gpus: [0], replicaGpus: 1, hasBackendArgs: false,
    });
    const { argv } = composeArgv(r, berth, ['--max-lora-rank', '64']);
    assert.equal(argv.filter((a) => a === '--max-lora-rank').length, 1);
    assert.deepEqual(argv.slice(-5), ['--enable-lora', '--max-loras', '16', '--max-lora-rank', '64']);
  });

  it('--max-lora-rank 64 in backendArgs is the only one', () => {
    const p = plan({ backend: 'vllm', backendArgs: ['--max-lora-rank', '64'] });
    assert.deepEqual(flags(p).slice(-3), ['--enable-lora', '--max-lora-rank', '64']);
    assert.equal(p.argv.filter((a) => a === '--max-lora-rank').length, 1);
  });

  it('--no-enable-lora removes our --enable-lora', () => {
    const p = plan({ backend: 'vllm', backendArgs: ['--no-enable-lora'] });
    assert.ok(!p.argv.includes('--enable-lora'));
    assert.deepEqual(flags(p).slice(-1), ['--no-enable-lora']);
  });

  it('--enable-lora given by the user is not repeated', () => {
    const p = plan({ backend: 'vllm', backendArgs: ['--enable-lora'] });
    assert.equal(p.argv.filter((a) => a === '--enable-lora').length, 1);
    assert.deepEqual(flags(p).slice(-1), ['--enable-lora']);
  });

  for (const [backend, args] of [
    ['vllm', ['--port', '9000']],
    ['vllm', ['--port=9000']],
    ['vllm', ['--po', '9000']],
    ['sglang', ['--port', '9000']],
    ['sglang', ['--port=9000']],
  ] as const) {
    it(`${backend} ${args.join(' ')} makes the plan's port 9000`, () => {
      const p = plan({ backend, backendArgs: [...args] });
      assert.equal(p.port, 9000);
      assert.ok(!p.argv.includes('8001'));
    });
  }

  it('--host in backendArgs sets the plan host; vLLM reads an empty --host as every interface', () => {
    assert.equal(plan({ backend: 'sglang', backendArgs: ['--host', '0.0.0.0'] }).host, '0.0.0.0');
    assert.equal(plan({ backend: 'vllm', backendArgs: ['--host=::1'] }).host, '::1');
    assert.equal(plan({ backend: 'vllm', backendArgs: ['--host', ''] }).host, '0.0.0.0');
  });

  it('underscore and abbreviated spellings replace ours too', () => {
    const p = plan({ backend: 'vllm', backendArgs: ['--max_lora_rank=32', '--served', 'x'] });
    assert.deepEqual(flags(p), [
      '--model', 'Qwen/Qwen2.5-0.5B-Instruct', '--host', '127.0.0.1', '--port', '8001', '--enable-lora',
      '--max_lora_rank=32', '--served', 'x',
    ]);
  });

  it('sglang --model abbreviates --model-path (argparse allow_abbrev) and replaces ours', () => {
    const p = plan({ backend: 'sglang', backendArgs: ['--model', '/models/other'] });
    assert.ok(!p.argv.includes('--model-path'));
    assert.deepEqual(flags(p).slice(-2), ['--model', '/models/other']);
  });

  it('sglang --served-model-name in backendArgs replaces ours', () => {
    const p = plan({ backend: 'sglang', backendArgs: ['--served-model-name', 'other'] });
    assert.equal(p.argv.filter((a) => a === '--served-model-name').length, 1);
    assert.deepEqual(flags(p).slice(-2), ['--served-model-name', 'other']);
  });
});

describe('errors', () => {
  it('names the backendArgs index and the flag for an unknown argument', () => {
    const e = planError(() => plan({ backend: 'vllm', backendArgs: ['--seed', '1', '--foo', 'bar'] }));
    assert.equal(e.status, 400);
    assert.equal(e.code, 'unrecognized_argument');
    assert.equal(e.field, 'backendArgs[2]');
    assert.equal(e.message, 'unrecognized argument "--foo" for vllm 0.9.0.1');
  });

  it("rejects the other engine's flags", () => {
    const v = planError(() => plan({ backend: 'vllm', backendArgs: ['--mem-fraction-static', '0.8'] }));
    assert.equal(v.message, 'unrecognized argument "--mem-fraction-static" for vllm 0.9.0.1');
    const s = planError(() => plan({ backend: 'sglang', backendArgs: ['--gpu-memory-utilization', '0.8'] }));
    assert.equal(s.message, 'unrecognized argument "--gpu-memory-utilization" for sglang 0.4.6');
    assert.equal(s.field, 'backendArgs[0]');
  });

  it('quotes argparse for a bad value', () => {
    const e = planError(() => plan({ backend: 'vllm', backendArgs: ['--dtype', 'fp4'] }));
    assert.equal(e.code, 'invalid_argument');
    assert.equal(e.field, 'backendArgs[1]');
    assert.equal(
      e.message,
      `invalid argument "fp4" for vllm 0.9.0.1: argument --dtype: invalid choice: 'fp4' (choose from 'auto', 'bfloat16', 'float', 'float16', 'float32', 'half')`,
    );
    const a = planError(() => plan({ backend: 'vllm', backendArgs: ['--max-lora', '8'] }));
    assert.equal(a.code, 'ambiguous_argument');
    assert.equal(a.field, 'backendArgs[0]');
  });

  it('rejects a --max-lora-rank LoRAConfig would refuse, unless LoRA is off', () => {
    const e = planError(() => plan({ backend: 'vllm', backendArgs: ['--max-lora-rank', '48'] }));
    assert.equal(e.field, 'backendArgs[1]');
    assert.equal(
      e.message,
      'invalid argument "48" for vllm 0.9.0.1: argument --max-lora-rank: max_lora_rank (48) must be one of (8, 16, 32, 64, 128, 256, 320, 512).',
    );
    assert.equal(planError(() => plan({ backend: 'vllm', backendArgs: ['--max-lora-rank=7'] })).field, 'backendArgs[0]');
    assert.doesNotThrow(() => plan({ backend: 'vllm', backendArgs: ['--no-enable-lora', '--max-lora-rank', '48'] }));
  });

  it('rejects vLLM serve-only flags on the api_server entrypoint', () => {
    for (const args of [['--headless'], ['--config', 'c.yaml'], ['-dpr', '1'], ['--data-parallel-start-rank', '1']]) {
      assert.equal(planError(() => plan({ backend: 'vllm', backendArgs: args })).code, 'unrecognized_argument', args[0]);
    }
  });

  it('rejects SGLang flags newer than the requested release', () => {
    const e = planError(() => plan({ backend: 'sglang', backendVersion: '0.4.6.post1', backendArgs: ['--pp-size', '2'] }));
    assert.equal(e.message, 'unrecognized argument "--pp-size" for sglang 0.4.6.post1');
    assert.doesNotThrow(() => plan({ backend: 'sglang', backendVersion: '0.4.6.post2', backendArgs: ['--pp-size', '2'] }));
  });

  it('blames servedName when a name cannot be passed as an argument', () => {
    const e = planError(() => plan({ backend: 'vllm', servedName: ['-dash'] }));
    assert.equal(e.field, 'servedName');
  });
});

describe('unknown versions', () => {
  it('plans with the nearest lower recipe and says so', () => {
    const p = plan({ backend: 'vllm', backendVersion: '0.9.2' });
    assert.equal(p.backendVersion, '0.9.2');
    assert.equal(p.recipeVersion, '0.9.0.1');
    assert.deepEqual(p.warnings, ['vllm 0.9.2 has no recipe; using 0.9.0.1']);
  });

  it('refuses a version below every recipe', () => {
    const e = planError(() => plan({ backend: 'sglang', backendVersion: '0.4.5' }));
    assert.equal(e.code, 'unsupported_version');
    assert.equal(e.field, 'backendVersion');
  });
});

describe('validateBackendArgs', () => {
  it('accepts what buildPlan accepts', () => {
    assert.doesNotThrow(() => validateBackendArgs('vllm', '0.9.0.1', ['-tp', '2', '--max-model-len', '32k']));
    assert.doesNotThrow(() => validateBackendArgs('sglang', '0.4.6', ['--tp', '2', '--mem-fraction-static', '0.8']));
    assert.doesNotThrow(() => validateBackendArgs('vllm', '0.9.0.1', []));
  });

  it('throws the same PlanError buildPlan would', () => {
    const args = ['--port', '8000', '--tensor-parallel-size', 'two'];
    const v = planError(() => validateBackendArgs('vllm', '0.9.0.1', args));
    const p = planError(() => plan({ backend: 'vllm', backendArgs: args }));
    assert.deepEqual([v.code, v.field, v.message], [p.code, p.field, p.message]);
    assert.equal(v.field, 'backendArgs[3]');
    assert.equal(planError(() => validateBackendArgs('sglang', '0.4.6', ['--enable-lora'])).message, 'unrecognized argument "--enable-lora" for sglang 0.4.6');
  });

  it('throws for an unsupported version', () => {
    assert.equal(planError(() => validateBackendArgs('vllm', '0.8.0', [])).code, 'unsupported_version');
  });
});
