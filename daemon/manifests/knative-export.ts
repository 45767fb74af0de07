// A deployment -> a Knative Service running the engine's OpenAI server, with
// the KPA annotations for its scale: concurrency target = inFlightValue (rps
// target = rpsValue when it has no in-flight cap), min-scale, max-scale.
import type { Deployment } from '../contract/deployment.js';
import { berthAnnotations, engineImage, engineModule, hasEnv, k8sEnv, k8sResources, keptPort, metadata, modelFlag, nativeServedNames } from './export-common.js';

const AUTOSCALING = 'autoscaling.knative.dev/';

export function toKnative(d: Deployment): Record<string, unknown>[] {
  const port = keptPort(d);
  const image = engineImage(d);
  const names = nativeServedNames(d);
  const { inFlightValue, rpsValue } = d.scale;
  const kpa =
    inFlightValue !== null
      ? { [`${AUTOSCALING}metric`]: 'concurrency', [`${AUTOSCALING}target`]: String(inFlightValue) }
      : { [`${AUTOSCALING}metric`]: 'rps', [`${AUTOSCALING}target`]: String(rpsValue) };
  const annotations = berthAnnotations(d, { servedNames: names, inFlightValue: inFlightValue !== null, rpsValue: inFlightValue === null, image });
  return [
    {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Service',
      metadata: metadata(d.name, d, annotations),
      spec: {
        template: {
          metadata: {
            annotations: {
              ...kpa,
              [`${AUTOSCALING}min-scale`]: String(d.scale.min),
              [`${AUTOSCALING}max-scale`]: String(d.scale.max),
            },
          },
          spec: {
            containers: [
              {
                name: `${d.backend}-container`,
                image,
                command: ['python3', '-m', engineModule(d)],
                args: [modelFlag(d), d.modelId, '--served-model-name', ...names, '--port', String(port), ...d.backendArgs],
                ...(hasEnv(d) ? { env: k8sEnv(d) } : {}),
                ports: [{ containerPort: port }],
                readinessProbe: { tcpSocket: { port } },
                resources: k8sResources(d),
              },
            ],
          },
        },
      },
    },
  ];
}
