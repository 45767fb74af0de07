// The engine's memory budget read from a launch plan, as the engine would read its argv.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeploymentInput } from '../../daemon/contract/deployment.js';
import { deploymentInputSchema } from '../../daemon/contract/deployment.js';
import { defaultBackendVersion } from '../../daemon/engines/catalogue.js';
import { memoryFraction } from '../../daemon/engines/memory-budget.js';
import { buildPlan } from '../../daemon/engines/plan.js';

function fractionFor(input: Pick<DeploymentInput, 'backend'> & Partial<DeploymentInput>): number | null {
  const d = deploymentInputSchema.parse({ name: 'm', modelId: 'org/model', ...input });
  const deployment = { ...d, servedName: d.servedName ?? [d.name], backendVersion: d.backendVersion ?? defaultBackendVersion(d.backend) };
  return memoryFraction(buildPlan({ deployment, gpus: [0, 1], port: 8001, interpreter: '/venv/bin/python' }));
}

describe('memoryFraction', () => {
  const cases: [string, Pick<DeploymentInput, 'backend'> & Partial<DeploymentInput>, number | null][] = [
    ['vLLM without the flag: the spec default, 0.9', { backend: 'vllm' }, 0.9],
    ['vLLM --gpu-memory-utilization 0.5', { backend: 'vllm', backendArgs: ['--gpu-memory-utilization', '0.5'] }, 0.5],
    ['vLLM --gpu-memory-utilization=0.7', { backend: 'vllm', backendArgs: ['--gpu-memory-utilization=0.7'] }, 0.7],
    ['vLLM: the last use wins, as argparse', { backend: 'vllm', backendArgs: ['--gpu-memory-utilization', '0.5', '--gpu-memory-utilization', '0.6'] }, 0.6],
    ['vLLM: an unambiguous prefix is the same flag', { backend: 'vllm', backendArgs: ['--gpu-memory-util', '0.8'] }, 0.8],
    ['SGLang without the flag: computed by the engine at start-up, unknown', { backend: 'sglang' }, null],
    ['SGLang --mem-fraction-static 0.8', { backend: 'sglang', backendArgs: ['--mem-fraction-static', '0.8'] }, 0.8],
    ['SGLang on an unknown later version keeps the nearest recipe', { backend: 'sglang', backendVersion: '0.4.7', backendArgs: ['--mem-fraction-static', '0.75'] }, 0.75],
  ];
  for (const [what, input, want] of cases) {
    it(what, () => assert.equal(fractionFor(input), want));
  }
});
