// Export: a deployment as an llmaz, KServe or Knative manifest, which applied
// again gives back the same deployment (everything but the record of where it
// came from), for the documented examples and for a deployment that uses
// every field the formats have no place for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { normalizeDeployment } from '../../daemon/config/deployment.js';
import type { Deployment } from '../../daemon/contract/deployment.js';
import { MANIFEST_FORMATS } from '../../daemon/contract/manifests.js';
import { exportManifest } from '../../daemon/manifests/export.js';
import { readManifest } from '../../daemon/manifests/manifest.js';
import { manifest } from './fixtures.js';

const withoutSource = ({ source: _source, ...rest }: Deployment) => rest;

const fromFixtures = (['llmaz-higress-walkthrough', 'kserve-openshift-ai-granite-local', 'knative-kpa-vllm-qwen'] as const).flatMap((f) =>
  readManifest(manifest(f)).deployments.map((d) => normalizeDeployment(d.input)),
);

const everything = normalizeDeployment({
  name: 'tuned',
  servedName: ['chat', 'Qwen/Qwen2.5-0.5B-Instruct'],
  modelId: './models/qwen',
  backend: 'sglang',
  backendVersion: '0.4.6.post2',
  backendArgs: ['--mem-fraction-static', '0.8', '--context-length', '4096'],
  resource: { workers: 2, gpu: { count: 2, gpuType: 'L40S' }, cpu: '8', mem: '32Gi' },
  scale: { min: 0, max: 3, idleTime: 30, rpsValue: 5, inFlightValue: null, ttft: { upper: 2, lower: 0.5, windowSec: 30 } },
  env: { HF_HUB_OFFLINE: '1' },
  fallback: ['backup'],
  loras: [{ name: 'sql', path: '/adapters/sql' }],
});

const plain = normalizeDeployment({ name: 'plain', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', scale: { inFlightValue: 4 }, resource: { gpu: { count: 1, gpuType: 'nvidia.com/gpu-h100' } } });

describe('export round trips', () => {
  for (const d of [...fromFixtures, everything, plain]) {
    for (const format of MANIFEST_FORMATS) {
      it(`${d.name} as ${format}`, () => {
        const text = exportManifest(d, format);
        // Plain YAML a cluster's kubectl takes: no errors, every document a Kubernetes object.
        const docs = parseAllDocuments(text);
        assert.ok(Array.isArray(docs));
        for (const doc of docs) {
          assert.deepEqual(doc.errors, []);
          const o = doc.toJS() as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
          assert.ok(o.apiVersion && o.kind && o.metadata?.name, text);
        }
        const back = readManifest(text).deployments;
        assert.equal(back.length, 1);
        const again = normalizeDeployment(back[0]!.input);
        assert.deepEqual(withoutSource(again), withoutSource(d));
        assert.equal(again.source?.platform, format);
      });
    }
  }
});

describe('exported manifests', () => {
  it('llmaz: the OpenModel named as requests name the model, the Playground as the deployment', () => {
    const [model, playground] = parseAllDocuments(exportManifest(fromFixtures[0]!, 'llmaz')) as unknown as { toJS(): Record<string, any> }[];
    assert.deepEqual(model!.toJS(), {
      apiVersion: 'llmaz.io/v1alpha1',
      kind: 'OpenModel',
      metadata: { name: 'qwen2-1-5b' },
      spec: { familyName: 'qwen2', source: { modelHub: { modelID: 'Qwen/Qwen2.5-1.5B-Instruct' } } },
    });
    assert.deepEqual(playground!.toJS().spec, {
      replicas: 1,
      modelClaim: { modelName: 'qwen2-1-5b' },
      backendRuntimeConfig: {
        backendName: 'vllm',
        version: 'v0.9.0.1',
        resources: { limits: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '1' }, requests: { 'nvidia.com/gpu': '1' } },
      },
    });
  });

  it('kserve: the runtime in OpenShift AI\'s shape, {{.Name}} for the served name, the model from storageUri', () => {
    const text = exportManifest(plain, 'kserve');
    const [rt, isvc] = parseAllDocuments(text) as unknown as { toJS(): Record<string, any> }[];
    const c = rt!.toJS().spec.containers[0];
    assert.deepEqual(c.command, ['python3', '-m', 'vllm.entrypoints.openai.api_server']);
    assert.deepEqual(c.args, ['--port=8080', '--model=/mnt/models', '--served-model-name={{.Name}}']);
    assert.equal(c.image, 'vllm/vllm-openai:v0.9.0.1');
    assert.deepEqual(isvc!.toJS().spec.predictor, {
      minReplicas: 1,
      maxReplicas: 5,
      scaleMetric: 'concurrency',
      scaleTarget: 4,
      model: {
        modelFormat: { name: 'vLLM' },
        runtime: 'plain-vllm',
        storageUri: 'hf://Qwen/Qwen2.5-0.5B-Instruct',
        resources: { limits: { 'nvidia.com/gpu-h100': '1' }, requests: { 'nvidia.com/gpu-h100': '1' } },
      },
    });
  });

  it('knative: the published example comes back with its image, port, probe and KPA annotations', () => {
    const text = exportManifest(fromFixtures[3]!, 'knative');
    assert.match(text, /^# \/Qwen-7B-Chat-Int8 is a path on the machine Berth runs on: copy the model to storage the cluster reads/m);
    const [svc] = parseAllDocuments(text) as unknown as { toJS(): Record<string, any> }[];
    const o = svc!.toJS();
    assert.deepEqual(o.metadata, { name: 'qwen', namespace: 'default' });
    assert.deepEqual(o.spec.template.metadata.annotations, {
      'autoscaling.knative.dev/metric': 'concurrency',
      'autoscaling.knative.dev/target': '2',
      'autoscaling.knative.dev/min-scale': '0',
      'autoscaling.knative.dev/max-scale': '3',
    });
    const c = o.spec.template.spec.containers[0];
    assert.equal(c.image, 'kube-ai-registry.cn-shanghai.cr.aliyuncs.com/kube-ai/vllm:0.4.1');
    assert.deepEqual(c.args.slice(0, 6), ['--model', '/Qwen-7B-Chat-Int8', '--served-model-name', 'qwen', '--port', '8080']);
    assert.deepEqual(c.readinessProbe, { tcpSocket: { port: 8080 } });
  });
});

describe('exported secrets', () => {
  const secret = normalizeDeployment({ name: 'gated', modelId: 'meta-llama/Llama-3.1-8B-Instruct', backend: 'vllm', secretEnv: { HF_TOKEN: 'hf_never_exported' } });
  for (const format of MANIFEST_FORMATS) {
    it(`${format}: HF_TOKEN becomes a reference to the cluster's Secret, never the value`, () => {
      const text = exportManifest(secret, format);
      assert.ok(!text.includes('hf_never_exported'), text);
      assert.match(text, /secretKeyRef:\s+name: gated-secrets\s+key: HF_TOKEN/);
      const back = readManifest(text);
      assert.equal(back.deployments[0]!.input.secretEnv, undefined);
      const ignored = back.deployments[0]!.input.source?.ignored ?? [];
      assert.ok(ignored.some((i) => i.field.endsWith('valueFrom') && i.reason.includes('HF_TOKEN')), JSON.stringify(ignored));
    });
  }
});
