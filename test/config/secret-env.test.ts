// secretEnv: checked when submitted, shown only as REDACTED, kept through an
// update that sends the shown value back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keepRedactedSecrets, mergePatch, normalizeDeployment } from '../../daemon/config/deployment.js';
import { REDACTED, redactSecrets } from '../../daemon/contract/deployment.js';
import { refusal } from '../helpers/refusal.js';

const spec = (over: Record<string, unknown> = {}) => ({ name: 'gated', modelId: 'meta-llama/Llama-3.1-8B', backend: 'vllm', ...over });

describe('secretEnv', () => {
  it('is refused when the same name is in env, or when its value is the placeholder', () => {
    assert.equal(refusal(() => normalizeDeployment(spec({ env: { HF_TOKEN: 'a' }, secretEnv: { HF_TOKEN: 'b' } }))).field, 'secretEnv.HF_TOKEN');
    assert.equal(refusal(() => normalizeDeployment(spec({ secretEnv: { HF_TOKEN: REDACTED } }))).field, 'secretEnv.HF_TOKEN');
    assert.equal(refusal(() => normalizeDeployment(spec({ secretEnv: { 'BAD NAME': 'x' } }))).field, 'secretEnv.BAD NAME');
  });

  it('reads REDACTED in what answers show, and only there', () => {
    const d = normalizeDeployment(spec({ secretEnv: { HF_TOKEN: 'hf_x' } }));
    assert.deepEqual(redactSecrets(d).secretEnv, { HF_TOKEN: REDACTED });
    assert.deepEqual(d.secretEnv, { HF_TOKEN: 'hf_x' });
    const plain = normalizeDeployment(spec());
    assert.equal(redactSecrets(plain), plain);
  });

  it('an update that sends REDACTED back keeps the stored value; a new value replaces it', () => {
    const stored = normalizeDeployment(spec({ secretEnv: { HF_TOKEN: 'hf_x' } }));
    const same = normalizeDeployment(mergePatch(stored, keepRedactedSecrets({ secretEnv: { HF_TOKEN: REDACTED }, backendArgs: ['--seed', '1'] }, stored)));
    assert.deepEqual(same.secretEnv, { HF_TOKEN: 'hf_x' });
    const changed = normalizeDeployment(mergePatch(stored, keepRedactedSecrets({ secretEnv: { HF_TOKEN: 'hf_y' } }, stored)));
    assert.deepEqual(changed.secretEnv, { HF_TOKEN: 'hf_y' });
  });
});
