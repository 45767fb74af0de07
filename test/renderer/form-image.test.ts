// The deployment form has no field for a container's image: editing one
// keeps it, and switching to process mode (which runs no image) drops it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeDeployment } from '../../daemon/config/deployment.js';
import { formFromDeployment, mergePatchFor, toInput } from '../../renderer/src/form/form-model.js';

describe('form and a container image', () => {
  const d = normalizeDeployment({ name: 'c', modelId: 'a/b', backend: 'vllm', mode: 'container', image: 'me/vllm:dev' });

  it('an edit that changes nothing else keeps the image', () => {
    const { input } = toInput(formFromDeployment(d, 'edit'));
    assert.equal(input.image, 'me/vllm:dev');
    assert.equal('image' in mergePatchFor(d, input), false);
  });

  it('switching to process mode drops it', () => {
    const form = formFromDeployment(d, 'edit');
    const { input } = toInput({ ...form, values: { ...form.values, mode: 'process' } });
    assert.equal(input.image, undefined);
    assert.equal(mergePatchFor(d, input).image, null);
  });
});
