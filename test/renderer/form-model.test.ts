// The deployment form's rules: defaults, parsing, errors on their fields, and
// the merge patch an edit sends (checked against the daemon's own mergePatch).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergePatch, normalizeDeployment } from '../../daemon/config/deployment.js';
import { DEFAULT_SCALE } from '../../daemon/contract/deployment.js';
import {
  apiErrorOnField,
  applyDefaultMode,
  argsToText,
  defaultForm,
  fieldOfPath,
  formFromDeployment,
  isSecretKey,
  mergePatchFor,
  textToArgs,
  validateForm,
  type FormState,
} from '../../renderer/src/form/form-model.js';

const filled = (patch: Partial<FormState['values']> = {}): FormState => {
  const f = defaultForm();
  return { ...f, values: { ...f.values, name: 'qwen', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', ...patch } };
};

describe('deployment form', () => {
  it('starts from the documented defaults', () => {
    const { values } = defaultForm();
    assert.equal(values.backend, 'vllm');
    assert.equal(values.mode, 'process');
    assert.equal(values.gpuCount, '1');
    assert.deepEqual([values.scaleMin, values.scaleMax, values.idleTime], [DEFAULT_SCALE.min, DEFAULT_SCALE.max, DEFAULT_SCALE.idleTime].map(String));
  });

  it('turns a filled form into the input the daemon normalises to its defaults', () => {
    const { input, valid } = validateForm(filled());
    assert.equal(valid, true);
    const d = normalizeDeployment(input);
    assert.deepEqual(d.scale, { ...DEFAULT_SCALE });
    assert.deepEqual(d.servedName, ['qwen']);
    assert.deepEqual(d.resource, { workers: 1, gpu: { count: 1 } });
  });

  it('reads extra args one flag per line, a value after the first space', () => {
    const { args, lineOf } = textToArgs('--max-model-len 8192\n\n  --enforce-eager\n--override-generation-config {"temperature": 0.5}\n');
    assert.deepEqual(args, ['--max-model-len', '8192', '--enforce-eager', '--override-generation-config', '{"temperature": 0.5}']);
    assert.deepEqual(lineOf, [1, 1, 3, 4, 4]);
    assert.equal(argsToText(args), '--max-model-len 8192\n--enforce-eager\n--override-generation-config {"temperature": 0.5}');
    assert.deepEqual(textToArgs(argsToText(['--x=1', '--y', '-1'])).args, ['--x=1', '--y', '-1']);
  });

  it('puts each error on its field, only the first per field', () => {
    const { errors, valid } = validateForm(filled({ name: 'Bad Name', modelId: '', gpuCount: 'two', scaleMin: '3', scaleMax: '2' }));
    assert.equal(valid, false);
    assert.match(errors.name!, /DNS label/);
    assert.equal(errors.modelId, 'required');
    assert.equal(errors.gpuCount, 'expected a whole number');
    assert.match(errors.scaleMin!, /must not exceed/);
  });

  it('flags a duplicated env name and an invalid one', () => {
    const dup = validateForm(filled({ env: [{ key: 'A', value: '1' }, { key: 'A', value: '2' }] }));
    assert.match(dup.errors.env!, /A is set twice/);
    const bad = validateForm(filled({ env: [{ key: '1X', value: '1' }] }));
    assert.ok(bad.errors.env);
    // An empty row is just an unused row.
    assert.equal(validateForm(filled({ env: [{ key: '', value: '' }] })).valid, true);
  });

  it('maps the daemon\'s field paths onto the form', () => {
    assert.deepEqual(fieldOfPath('backendArgs[3]'), { field: 'backendArgs', index: 3 });
    assert.deepEqual(fieldOfPath('backendArgs.3'), { field: 'backendArgs', index: 3 });
    assert.equal(fieldOfPath('resource.gpu.count').field, 'gpuCount');
    assert.equal(fieldOfPath('resource.gpu.gpuType').field, 'gpuType');
    assert.equal(fieldOfPath('scale.idleTime').field, 'idleTime');
    assert.equal(fieldOfPath('servedName.0').field, 'servedNames');
    assert.equal(fieldOfPath('scale.rpsValue').field, 'form');
    assert.equal(fieldOfPath('').field, 'form');
  });

  it('shows a plan error about an arg on the line the arg came from, in the daemon\'s words', () => {
    const form = filled({ backendArgs: '--max-model-len 8192\n--no-such-flag' });
    const errors = apiErrorOnField({ field: 'backendArgs[2]', message: 'unrecognized argument --no-such-flag' }, form);
    assert.deepEqual(errors, { backendArgs: 'line 2: unrecognized argument --no-such-flag' });
    const named = apiErrorOnField({ field: 'name', message: 'name: expected a DNS label' }, form);
    assert.deepEqual(named, { name: 'expected a DNS label' });
  });

  it('masks the values of keys that look secret', () => {
    for (const k of ['HF_TOKEN', 'OPENAI_API_KEY', 'aws_secret_access_key', 'DB_PASSWORD']) assert.equal(isSecretKey(k), true, k);
    for (const k of ['CUDA_VISIBLE_DEVICES', 'VLLM_LOGGING_LEVEL']) assert.equal(isSecretKey(k), false, k);
  });
});

describe('editing and copying a deployment', () => {
  const spec = normalizeDeployment({
    name: 'qwen',
    servedName: ['qwen', 'qwen2.5'],
    modelId: 'Qwen/Qwen2.5-0.5B-Instruct',
    backend: 'vllm',
    backendArgs: ['--max-model-len', '8192'],
    resource: { workers: 2, gpu: { count: 1, gpuType: 'RTX 4080' } },
    scale: { min: 0, max: 2, idleTime: 30, rpsValue: 50, inFlightValue: 4 },
    env: { HF_TOKEN: 'hf_x' },
    fallback: ['other'],
    loras: [{ name: 'pirate', path: '/adapters/pirate' }],
  });

  it('an untouched edit sends an empty patch', () => {
    const { input } = validateForm(formFromDeployment(spec, 'edit'));
    assert.deepEqual(mergePatchFor(spec, input), {});
  });

  it('an edit sends only what changed, and the daemon\'s merge gives back the form\'s input', () => {
    const form = formFromDeployment(spec, 'edit');
    form.values.scaleMax = '4';
    form.values.servedNames = '';
    form.values.env = [];
    form.values.backendArgs = '--max-model-len 4096';
    const { input } = validateForm(form);
    const patch = mergePatchFor(spec, input);
    assert.deepEqual(patch, { servedName: null, backendArgs: ['--max-model-len', '4096'], scale: { max: 4 }, env: { HF_TOKEN: null } });
    const merged = normalizeDeployment(mergePatch(spec, patch));
    assert.deepEqual(merged, normalizeDeployment(input));
    // Fields the form has no input for survive.
    assert.equal(merged.resource.workers, 2);
    assert.equal(merged.scale.inFlightValue, 4);
    assert.deepEqual(merged.loras, spec.loras);
  });

  it('a copy keeps the recipe but not the name, served names or adapters', () => {
    const { values } = formFromDeployment(spec, 'copy');
    assert.equal(values.name, 'qwen-copy');
    assert.equal(values.servedNames, '');
    assert.equal(values.modelId, spec.modelId);
    assert.deepEqual(values.env, [{ key: 'HF_TOKEN', value: 'hf_x' }]);
    assert.equal(formFromDeployment({ ...spec, name: 'qwen-copy' }, 'copy').values.name, 'qwen-copy');
    // Its adapters' names would route to the original.
    assert.deepEqual(validateForm(formFromDeployment(spec, 'copy')).input.loras, []);
  });

  it("an edit keeps what only a platform's API set (source, secrets, the TTFT band); a copy keeps the band alone", () => {
    const fromPlatform = normalizeDeployment({
      name: 'sg',
      modelId: 'Qwen/Qwen2.5-0.5B-Instruct',
      backend: 'vllm',
      scale: { min: 0, ttft: { upper: 2, lower: 0.5, windowSec: 30 } },
      secretEnv: { HF_TOKEN: 'hf_secret' },
      source: { platform: 'scalegenai', id: 'abc', kept: { cloud_providers: [] }, ignored: [] },
    });
    // What the UI is shown: the secret redacted, as every answer does.
    const shown = { ...fromPlatform, secretEnv: { HF_TOKEN: '<redacted>' } };
    const edit = formFromDeployment(shown, 'edit');
    edit.values.scaleMax = '3';
    const patch = mergePatchFor(shown, validateForm(edit).input);
    assert.deepEqual(patch.scale, { max: 3 });
    for (const k of ['source', 'secretEnv', 'loras']) assert.ok(!(k in patch), k);
    const merged = normalizeDeployment(mergePatch(fromPlatform, patch));
    assert.deepEqual(merged.source, fromPlatform.source);
    assert.deepEqual(merged.secretEnv, { HF_TOKEN: 'hf_secret' });
    assert.deepEqual(merged.scale.ttft, fromPlatform.scale.ttft);
    const copy = validateForm(formFromDeployment(shown, 'copy')).input;
    assert.equal(copy.source, undefined);
    assert.equal(copy.secretEnv, undefined);
    assert.deepEqual(copy.scale?.ttft, { upper: 2, lower: 0.5, windowSec: 30 });
  });

  it('a blank new form takes the desktop app\'s default mode; edit, copy and a mode already picked keep theirs', () => {
    const blank = defaultForm();
    assert.equal(applyDefaultMode(blank, 'container', { blank: true, modeTouched: false }).values.mode, 'container');
    // Edit and copy-as-new keep the deployment's own mode.
    assert.equal(spec.mode, 'process');
    for (const purpose of ['edit', 'copy'] as const) {
      const f = formFromDeployment(spec, purpose);
      assert.equal(applyDefaultMode(f, 'container', { blank: false, modeTouched: false }).values.mode, 'process');
    }
    // The setting arrives after the form opens: a mode the user picked meanwhile stays.
    assert.equal(applyDefaultMode(blank, 'container', { blank: true, modeTouched: true }), blank);
    // Anything but a known mode is ignored.
    assert.equal(applyDefaultMode(blank, 'kubernetes', { blank: true, modeTouched: false }), blank);
  });
});
