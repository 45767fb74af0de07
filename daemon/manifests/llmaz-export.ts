// A deployment -> llmaz's OpenModel + Playground. The OpenModel's name is the
// served name requests use (as in the llmaz + Higress walkthrough); what llmaz
// has no field for travels in `berth/*` annotations.
import { DNS_LABEL, type Deployment } from '../contract/deployment.js';
import { berthAnnotations, hasEnv, k8sEnv, k8sResources, keptString, metadata } from './export-common.js';

export function toLlmaz(d: Deployment): Record<string, unknown>[] {
  const served = d.servedName[0]!;
  // An OpenModel's name is a Kubernetes name; a served name may not be one (Qwen/Qwen2.5-7B).
  const modelName = DNS_LABEL.test(served) ? served : d.name;
  const local = /^(\/|\.\/|\.\.\/|~\/)/.test(d.modelId);
  // No image: llmaz's backendRuntimeConfig.version carries the version itself.
  const annotations = berthAnnotations(d, { servedNames: [modelName] });
  const scale = d.scale;
  const elastic = scale.max !== Math.max(scale.min, 1);
  return [
    {
      apiVersion: 'llmaz.io/v1alpha1',
      kind: 'OpenModel',
      metadata: { name: modelName },
      spec: {
        familyName: keptString(d, 'familyName', ['llmaz']) ?? modelName,
        source: local ? { uri: `host://${d.modelId}` } : { modelHub: { modelID: d.modelId } },
      },
    },
    {
      apiVersion: 'inference.llmaz.io/v1alpha1',
      kind: 'Playground',
      metadata: metadata(d.name, d, annotations),
      spec: {
        replicas: scale.min,
        modelClaim: { modelName },
        backendRuntimeConfig: {
          backendName: d.backend,
          version: `v${d.backendVersion}`,
          ...(d.backendArgs.length ? { args: d.backendArgs } : {}),
          ...(hasEnv(d) ? { envs: k8sEnv(d) } : {}),
          resources: k8sResources(d),
        },
        ...(elastic ? { elasticConfig: { minReplicas: scale.min, maxReplicas: scale.max } } : {}),
      },
    },
  ];
}
