// A deployment -> KServe's ServingRuntime + InferenceService, in the shape of
// OpenShift AI's vLLM runtime: the engine's OpenAI server on port 8080, the
// model mounted at /mnt/models from the InferenceService's storageUri.
import type { Deployment } from '../contract/deployment.js';
import {
  berthAnnotations,
  engineImage,
  engineModule,
  hasEnv,
  k8sEnv,
  k8sResources,
  keptPort,
  keptString,
  metadata,
  modelFlag,
  nativeServedNames,
} from './export-common.js';
import { KSERVE_MODEL_MOUNT } from './kserve.js';

export function toKserve(d: Deployment): Record<string, unknown>[] {
  const runtime = keptString(d, 'runtime', ['kserve']) ?? `${d.name}-${d.backend}`;
  const format = keptString(d, 'modelFormat', ['kserve']) ?? (d.backend === 'vllm' ? 'vLLM' : 'sglang');
  const port = keptPort(d);
  const image = engineImage(d);
  const names = nativeServedNames(d);
  const templated = names.length === 1 && names[0] === d.name;
  const local = /^(\/|\.\/|\.\.\/|~\/)/.test(d.modelId);
  const { inFlightValue, rpsValue } = d.scale;
  const scaling = inFlightValue !== null ? { scaleMetric: 'concurrency', scaleTarget: inFlightValue } : { scaleMetric: 'rps', scaleTarget: rpsValue };
  const annotations = berthAnnotations(d, {
    servedNames: names,
    inFlightValue: inFlightValue !== null,
    rpsValue: inFlightValue === null,
    image,
  });
  return [
    {
      apiVersion: 'serving.kserve.io/v1alpha1',
      kind: 'ServingRuntime',
      metadata: { name: runtime },
      spec: {
        annotations: { 'prometheus.io/path': '/metrics', 'prometheus.io/port': String(port) },
        containers: [
          {
            name: 'kserve-container',
            image,
            command: ['python3', '-m', engineModule(d)],
            args: [
              `--port=${port}`,
              `${modelFlag(d)}=${KSERVE_MODEL_MOUNT}`,
              ...(templated ? ['--served-model-name={{.Name}}'] : ['--served-model-name', ...names]),
              ...d.backendArgs,
            ],
            ...(hasEnv(d) ? { env: k8sEnv(d) } : {}),
            ports: [{ containerPort: port, protocol: 'TCP' }],
          },
        ],
        multiModel: false,
        supportedModelFormats: [{ name: format, autoSelect: true }],
      },
    },
    {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: metadata(d.name, d, annotations),
      spec: {
        predictor: {
          minReplicas: d.scale.min,
          maxReplicas: d.scale.max,
          ...scaling,
          model: {
            modelFormat: { name: format },
            runtime,
            storageUri: local ? `file://${d.modelId}` : `hf://${d.modelId}`,
            resources: k8sResources(d),
          },
        },
      },
    },
  ];
}
