// The platforms' documented manifests, as published, and what Berth makes of
// them: the deployments, their launch plans, every field Berth does not act
// on, and refusals that name the document and the field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeDeployment } from '../../daemon/config/deployment.js';
import type { Deployment } from '../../daemon/contract/deployment.js';
import { buildPlan } from '../../daemon/engines/plan.js';
import { ManifestError } from '../../daemon/manifests/errors.js';
import { readManifest } from '../../daemon/manifests/manifest.js';
import { manifest } from './fixtures.js';

const PY = '/venv/bin/python';
const plan = (d: Deployment, gpus = [0]) => buildPlan({ deployment: d, gpus, port: 30000, interpreter: PY });
const only = (text: string) => {
  const r = readManifest(text);
  assert.equal(r.deployments.length, 1);
  return { ...r.deployments[0]!, spec: normalizeDeployment(r.deployments[0]!.input) };
};
const fieldsOf = (d: Deployment) => (d.source?.ignored ?? []).map((i) => i.field);

function refusal(text: string): ManifestError {
  try {
    readManifest(text);
  } catch (err) {
    assert.ok(err instanceof ManifestError, String(err));
    assert.equal(err.status, 400);
    return err;
  }
  assert.fail('the manifest was accepted');
}

describe('llmaz: the llmaz + Higress walkthrough, as published', () => {
  const r = readManifest(manifest('llmaz-higress-walkthrough'));
  const [qwen, gemma] = r.deployments.map((d) => normalizeDeployment(d.input));

  it('becomes one deployment per Playground, answering by the OpenModel\'s name', () => {
    assert.deepEqual(r.deployments.map((d) => d.documents), [[0, 1], [2, 3]]);
    assert.deepEqual(r.ignoredDocuments, []);
    const { source, ...rest } = qwen!;
    assert.deepEqual(rest, {
      name: 'qwen2-1-5b',
      servedName: ['qwen2-1-5b'],
      modelId: 'Qwen/Qwen2.5-1.5B-Instruct',
      backend: 'vllm',
      backendVersion: '0.9.0.1',
      backendArgs: [],
      mode: 'process',
      resource: { workers: 1, gpu: { count: 1 }, cpu: '4', mem: '16Gi' },
      scale: { min: 1, max: 1, idleTime: 60, rpsValue: 100, inFlightValue: null },
      env: {},
      fallback: [],
      loras: [],
    });
    assert.deepEqual({ platform: source!.platform, id: source!.id, kept: source!.kept }, { platform: 'llmaz', id: 'Playground/qwen2-1-5b', kept: { familyName: 'qwen2' } });
    assert.equal(gemma!.modelId, 'google/gemma-2-2b-it');
    assert.deepEqual(gemma!.servedName, ['gemma-2-2b']);
  });

  it('plans vLLM with its documented defaults, the served name as the OpenModel\'s name', () => {
    const p = plan(qwen!);
    assert.deepEqual(p.argv, [
      PY, '-m', 'vllm.entrypoints.openai.api_server',
      '--model', 'Qwen/Qwen2.5-1.5B-Instruct', '--served-model-name', 'qwen2-1-5b',
      '--host', '127.0.0.1', '--port', '30000', '--enable-lora', '--max-loras', '16', '--max-lora-rank', '16',
    ]);
    assert.equal(p.env.CUDA_VISIBLE_DEVICES, '0');
  });

  it('lists every field it does not act on, with the reason', () => {
    assert.deepEqual(fieldsOf(qwen!).sort(), [
      'OpenModel.spec.familyName',
      'Playground.spec.backendRuntimeConfig.resources.limits.cpu',
      'Playground.spec.backendRuntimeConfig.resources.limits.memory',
      'Playground.spec.backendRuntimeConfig.resources.requests.cpu',
      'Playground.spec.backendRuntimeConfig.resources.requests.memory',
      'Playground.spec.backendRuntimeConfig.resources.requests["nvidia.com/gpu"]',
    ]);
    for (const i of qwen!.source!.ignored) assert.ok(i.reason.length > 10, i.field);
  });

  it('reads scale, version, args and env from the Playground; unknown fields are reported, not dropped', () => {
    const text = manifest('llmaz-higress-walkthrough').split('---')[0] + `---
apiVersion: inference.llmaz.io/v1alpha1
kind: Playground
metadata:
  name: qwen-tuned
  namespace: team-a
spec:
  replicas: 1
  elasticConfig: {minReplicas: 0, maxReplicas: 3}
  modelClaim: {modelName: qwen2-1-5b}
  backendRuntimeConfig:
    backendName: sglang
    version: v0.4.6.post5-cu124
    args: [--host, 0.0.0.0, --mem-fraction-static, "0.8"]
    envs: [{name: HF_HUB_OFFLINE, value: "1"}]
    resources: {limits: {nvidia.com/gpu: 2}}
  shinyNewField: true
`;
    const { spec } = only(text);
    assert.equal(spec.backend, 'sglang');
    assert.equal(spec.backendVersion, '0.4.6.post5');
    assert.deepEqual(spec.backendArgs, ['--mem-fraction-static', '0.8']);
    assert.deepEqual(spec.env, { HF_HUB_OFFLINE: '1' });
    assert.deepEqual([spec.scale.min, spec.scale.max], [0, 3]);
    assert.equal(spec.resource.gpu.count, 2);
    assert.equal(spec.source!.namespace, 'team-a');
    const ignored = new Map(spec.source!.ignored.map((i) => [i.field, i.reason]));
    assert.match(ignored.get('Playground.spec.backendRuntimeConfig.args[0]')!, /--host 0\.0\.0\.0: engines listen on loopback/);
    assert.equal(ignored.get('Playground.spec.shinyNewField'), 'not a field Berth acts on');
  });

  it('refuses, by field, what it cannot run', () => {
    const model = manifest('llmaz-higress-walkthrough').split('---')[0]!;
    const pg = (rc: string) => `${model}---
apiVersion: inference.llmaz.io/v1alpha1
kind: Playground
metadata: {name: p}
spec:
  modelClaim: {modelName: qwen2-1-5b}
  backendRuntimeConfig: ${rc}
`;
    let e = refusal(pg('{backendName: llamacpp}'));
    assert.equal(e.field, 'documents[1].spec.backendRuntimeConfig.backendName');
    assert.equal(e.code, 'unsupported_manifest');
    assert.match(e.message, /llamacpp: Berth runs vllm or sglang/);

    e = refusal(pg('{args: [--max-model-len, "2048", --no-such-flag]}'));
    assert.equal(e.field, 'documents[1].spec.backendRuntimeConfig.args[2]');
    assert.match(e.message, /^documents\[1\]\.spec\.backendRuntimeConfig\.args\[2\] \(Playground p, line \d+\): vllm 0\.9\.0\.1 would refuse "--no-such-flag": unrecognized arguments/);

    e = refusal(pg('{args: [--model, other/model]}'));
    assert.equal(e.field, 'documents[1].spec.backendRuntimeConfig.args[0]');
    assert.match(e.message, /come from the OpenModel/);

    e = refusal(pg('{}').replace('modelName: qwen2-1-5b', 'modelName: missing'));
    assert.equal(e.field, 'documents[1].spec.modelClaim.modelName');
    assert.match(e.message, /no OpenModel named "missing" in this manifest/);

    e = refusal(model.replace('modelHub:\n      modelID: Qwen/Qwen2.5-1.5B-Instruct', 'uri: oss://bucket/qwen') + '---\n' + pg('{}').split('---\n')[1]);
    assert.equal(e.field, 'documents[0].spec.source.uri');
  });

  it('keeps a version Berth has no recipe for, planned with the nearest lower recipe and warned about', () => {
    const text = manifest('llmaz-higress-walkthrough').split('---').slice(0, 2).join('---').replace('backendName: vllm', 'backendName: vllm\n    version: v0.10.1');
    const { spec } = only(text);
    assert.equal(spec.backendVersion, '0.10.1');
    const p = plan(spec);
    assert.equal(p.recipeVersion, '0.9.0.1');
    assert.match(p.warnings.join('\n'), /vllm 0\.10\.1 has no recipe; using 0\.9\.0\.1/);
  });

  it('reads a local model from source.uri host://', () => {
    const text = manifest('llmaz-higress-walkthrough').split('---').slice(0, 2).join('---').replace('modelHub:\n      modelID: Qwen/Qwen2.5-1.5B-Instruct', 'uri: host:///models/qwen');
    assert.equal(only(text).spec.modelId, '/models/qwen');
  });

  it('reports an OpenModel no Playground claims', () => {
    const r2 = readManifest(manifest('llmaz-higress-walkthrough').split('---')[0]!);
    assert.deepEqual(r2.deployments, []);
    assert.equal(r2.ignoredDocuments[0]!.kind, 'OpenModel');
    assert.match(r2.ignoredDocuments[0]!.reason, /no Playground/);
  });
});

describe('KServe: the OpenShift AI granite example', () => {
  it('as published: refused by the field that names S3 storage, with its line', () => {
    const e = refusal(manifest('kserve-openshift-ai-granite'));
    assert.equal(e.field, 'documents[1].spec.predictor.model.storage.key');
    assert.equal(e.code, 'unsupported_manifest');
    assert.match(e.message, /^documents\[1\]\.spec\.predictor\.model\.storage\.key \(InferenceService granite, line 66\): "aws-connection-my-storage" is a data connection to S3 storage/);
    assert.match(e.message, /storageUri to file:\/\//);
  });

  const { spec, documents, warnings } = only(manifest('kserve-openshift-ai-granite-local'));

  it('with the model on this machine: the runtime found by its display name, {{.Name}} the InferenceService', () => {
    assert.deepEqual(documents, [0, 1]);
    assert.deepEqual(warnings, []);
    assert.equal(spec.name, 'granite');
    assert.deepEqual(spec.servedName, ['granite']);
    assert.equal(spec.modelId, '/models/granite-7b-instruct');
    assert.deepEqual(spec.backendArgs, []);
    assert.deepEqual(spec.env, { HF_HOME: '/tmp/hf_home' });
    assert.deepEqual(spec.resource, { workers: 1, gpu: { count: 1 }, cpu: '6', mem: '24Gi' });
    assert.deepEqual([spec.scale.min, spec.scale.max], [1, 1]);
    assert.deepEqual(spec.source!.kept, {
      runtime: 'vllm-runtime',
      modelFormat: 'vLLM',
      image: 'quay.io/modh/vllm@sha256:8a3dd8ad6e15fe7b8e5e471037519719d4d8ad3db9d69389f2beded36a6f5b21',
      port: 8080,
    });
    const p = plan(spec);
    assert.deepEqual(p.argv.slice(3, 7), ['--model', '/models/granite-7b-instruct', '--served-model-name', 'granite']);
    assert.equal(p.env.HF_HOME, '/tmp/hf_home');
  });

  it('reports the runtime\'s port, model mount and served-name template as Berth\'s, and the cluster-only fields', () => {
    const ignored = new Map(spec.source!.ignored.map((i) => [i.field, i.reason]));
    assert.match(ignored.get('ServingRuntime.spec.containers[0].args[0]')!, /--port 8080: the engine's port inside the container/);
    assert.match(ignored.get('ServingRuntime.spec.containers[0].args[1]')!, /--model \/mnt\/models: the model/);
    assert.match(ignored.get('ServingRuntime.spec.containers[0].args[2]')!, /--served-model-name granite/);
    assert.match(ignored.get('ServingRuntime.spec.annotations["prometheus.io/path"]')!, /\/metrics/);
    assert.match(ignored.get('ServingRuntime.spec.containers[0].image')!, /kept for export/);
    assert.ok(ignored.has('InferenceService.spec.predictor.tolerations'));
    assert.ok(ignored.has('InferenceService.metadata.annotations["sidecar.istio.io/inject"]'));
  });

  it('reads hf:// storage as a Hugging Face model, and refuses other remote storage by field', () => {
    const local = manifest('kserve-openshift-ai-granite-local');
    assert.equal(only(local.replace('file:///models/granite-7b-instruct', 'hf://ibm-granite/granite-7b-instruct')).spec.modelId, 'ibm-granite/granite-7b-instruct');
    const e = refusal(local.replace('file:///models/granite-7b-instruct', 's3://bucket/granite'));
    assert.equal(e.field, 'documents[1].spec.predictor.model.storageUri');
    assert.match(e.message, /s3:\/\/ storage is remote storage/);
  });

  it('appends the InferenceService\'s own args to the runtime\'s, blaming its own field when the engine would refuse one', () => {
    const local = manifest('kserve-openshift-ai-granite-local');
    const withArgs = (args: string) => local.replace('      runtime: vLLM', `      args: ${args}\n      runtime: vLLM`);
    assert.deepEqual(only(withArgs('[--max-model-len, "8192"]')).spec.backendArgs, ['--max-model-len', '8192']);
    const e = refusal(withArgs('[--max-model-len, "8192", --bogus]'));
    assert.equal(e.field, 'documents[1].spec.predictor.model.args[2]');
    assert.match(e.message, /\(InferenceService granite, line \d+\)/);
  });

  it('refuses a runtime it cannot find, by field', () => {
    const e = refusal(manifest('kserve-openshift-ai-granite-local').replace('runtime: vLLM ServingRuntime for KServe', 'runtime: no-such-runtime'));
    assert.equal(e.field, 'documents[1].spec.predictor.model.runtime');
  });
});

describe('Knative: the KPA + vLLM example on ACK, as published', () => {
  const { spec, warnings } = only(manifest('knative-kpa-vllm-qwen'));

  it('runs the sh -c command\'s vLLM with its own arguments, minus the flags Berth sets', () => {
    assert.equal(spec.name, 'qwen');
    assert.deepEqual(spec.servedName, ['qwen']);
    assert.equal(spec.modelId, '/Qwen-7B-Chat-Int8');
    assert.deepEqual(spec.backendArgs, ['--trust-remote-code', '--gpu-memory-utilization', '0.95', '--quantization', 'gptq', '--max-model-len=6144']);
    assert.equal(spec.source!.namespace, 'default');
    const p = plan(spec);
    assert.deepEqual(p.argv.slice(3), [
      '--model', '/Qwen-7B-Chat-Int8', '--served-model-name', 'qwen', '--host', '127.0.0.1', '--port', '30000', '--enable-lora',
      '--trust-remote-code', '--gpu-memory-utilization', '0.95', '--quantization', 'gptq', '--max-model-len=6144',
    ]);
  });

  it('maps the KPA annotations onto scale: concurrency target -> inFlightValue, Knative\'s min-scale 0', () => {
    assert.deepEqual(spec.scale, { min: 0, max: 3, idleTime: 60, rpsValue: 100, inFlightValue: 2 });
  });

  it('plans the image\'s vLLM 0.4.1 with the oldest recipe, warns, and keeps the image', () => {
    assert.equal(spec.backendVersion, '0.9.0.1');
    assert.match(warnings.join('\n'), /vllm 0\.4\.1 is older than every release Berth has a recipe for/);
    assert.equal(spec.source!.kept.image, 'kube-ai-registry.cn-shanghai.cr.aliyuncs.com/kube-ai/vllm:0.4.1');
    assert.equal(spec.source!.kept.port, 8080);
  });

  it('reports the port, the probe and the volume with what Berth does instead', () => {
    const reasons = spec.source!.ignored.map((i) => `${i.field}: ${i.reason}`).join('\n');
    assert.match(reasons, /command\[2\]: --port 8080: the engine's port inside the container; Berth assigns a free port/);
    assert.match(reasons, /readinessProbe: .*port 8080 is the engine's port inside the container/);
    assert.match(reasons, /volumeMounts\[0\]: the model: Berth reads \/Qwen-7B-Chat-Int8 on this machine, where the PersistentVolumeClaim llm-model is not mounted/);
  });

  const service = (container: string, annotations = '') => `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: svc}
spec:
  template:
    metadata:
      annotations: {${annotations}}
    spec:
      containers:
        - image: vllm/vllm-openai:v0.9.0.1
${container.replace(/^/gm, '          ')}
          resources: {limits: {nvidia.com/gpu: "1"}}
`;

  it('recognises vllm serve MODEL, the image entrypoint with args, and SGLang', () => {
    let s = only(service('command: [vllm, serve, Qwen/Qwen2.5-0.5B-Instruct, --port, "8000"]', 'autoscaling.knative.dev/metric: rps, autoscaling.knative.dev/target: "7", autoscaling.knative.dev/min-scale: "1"')).spec;
    assert.equal(s.modelId, 'Qwen/Qwen2.5-0.5B-Instruct');
    assert.deepEqual(s.backendArgs, []);
    assert.deepEqual(s.scale, { min: 1, max: 5, idleTime: 60, rpsValue: 7, inFlightValue: null });
    assert.equal(s.source!.kept.port, 8000);

    s = only(service('args: [--model, Qwen/Qwen2.5-0.5B-Instruct, --max-model-len, "4096"]')).spec;
    assert.equal(s.backend, 'vllm');
    assert.deepEqual(s.backendArgs, ['--max-model-len', '4096']);
    assert.equal(s.scale.inFlightValue, 100, "Knative's default concurrency target");

    s = only(service('command: [python3, -m, sglang.launch_server]\nargs: [--model-path, Qwen/Qwen2.5-0.5B-Instruct, --tp, "1"]')).spec;
    assert.equal(s.backend, 'sglang');
    assert.deepEqual(s.backendArgs, ['--tp', '1']);
  });

  it('expands $(NAME) in command and args from the container\'s env, as Kubernetes does', () => {
    const s = only(service(`env: [{name: MODEL_DIR, value: /models/q}]
args: [--model, $(MODEL_DIR), --download-dir, $(UNSET), --served-model-name, "a$$b"]`)).spec;
    assert.equal(s.modelId, '/models/q');
    assert.deepEqual(s.backendArgs, ['--download-dir', '$(UNSET)']);
    assert.deepEqual(s.servedName, ['a$b']);
  });

  it('reads an sh -c chain: $VAR from env, the engine command run, the rest reported', () => {
    const r = only(service(`env: [{name: MODEL, value: /models/q}]
command: [/bin/bash, -c]
args: ["pip install foo && exec python3 -m vllm.entrypoints.openai.api_server --model \\"$MODEL\\" --port 8080"]`));
    assert.equal(r.spec.modelId, '/models/q');
    assert.match(r.spec.source!.ignored.map((i) => i.reason).join('\n'), /"pip install foo": Berth runs only the engine command/);
  });

  it('refuses what it cannot run, naming the field', () => {
    let e = refusal(service('command: [sh, -c, "python3 -m vllm.entrypoints.openai.api_server --model $(cat /model)"]'));
    assert.equal(e.field, 'documents[0].spec.template.spec.containers[0].command[2]');
    assert.match(e.message, /command substitution/);
    e = refusal(service('command: [python3, app.py]'));
    assert.equal(e.field, 'documents[0].spec.template.spec.containers[0].command[0]');
    assert.match(e.message, /not an engine Berth runs/);
    e = refusal(service('command: [vllm, serve, m/x, --max-model-len, lots]'));
    assert.equal(e.field, 'documents[0].spec.template.spec.containers[0].command[4]');
    assert.match(e.message, /argument --max-model-len: invalid \w+ value: 'lots'/);
  });
});

describe('manifest files', () => {
  it('refuses text that is not YAML, with the document, line and column', () => {
    const e = refusal('apiVersion: v1\nkind: [x\n');
    assert.equal(e.field, 'documents[0]');
    assert.match(e.message, /not valid YAML at line \d+, column \d+/);
  });

  it('refuses a document without kind, and an empty file', () => {
    assert.equal(refusal('apiVersion: v1\nmetadata: {name: x}\n').field, 'documents[0].kind');
    assert.equal(refusal('').field, 'manifest');
  });

  it('reports kinds it does not apply, and refuses two deployments of one name', () => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n${manifest('knative-kpa-vllm-qwen')}`;
    const r = readManifest(text);
    assert.deepEqual(r.ignoredDocuments.map((d) => [d.document, d.kind, d.name]), [[0, 'ConfigMap', 'c']]);
    assert.deepEqual(r.deployments[0]!.documents, [1]);
    const e = refusal(`${manifest('knative-kpa-vllm-qwen')}---\n${manifest('knative-kpa-vllm-qwen')}`);
    assert.equal(e.field, 'documents[1].metadata.name');
  });
});
