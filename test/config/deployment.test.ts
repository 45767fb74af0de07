// The deployment spec's own rules, beyond its schema.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeDeployment } from '../../daemon/config/deployment.js';
import { HttpError } from '../../daemon/http/errors.js';

describe('normalizeDeployment', () => {
  const base = { name: 'qwen', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm' };

  it('fills the defaults that depend on other fields', () => {
    const d = normalizeDeployment(base);
    assert.deepEqual(d.servedName, ['qwen']);
    assert.equal(d.backendVersion, '0.9.0.1');
    assert.equal(d.mode, 'process');
  });

  it('accepts container and auto mode, and an image only where a container may run', () => {
    assert.equal(normalizeDeployment({ ...base, mode: 'container' }).mode, 'container');
    assert.equal(normalizeDeployment({ ...base, mode: 'auto', image: 'vllm/vllm-openai:v0.9.0.1' }).image, 'vllm/vllm-openai:v0.9.0.1');
    assert.throws(
      () => normalizeDeployment({ ...base, image: 'vllm/vllm-openai:v0.9.0.1' }),
      (err: unknown) => err instanceof HttpError && err.status === 400 && err.field === 'image',
    );
  });
});
