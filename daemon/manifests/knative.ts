// Knative Serving: a `serving.knative.dev/v1` Service whose container runs
// vLLM or SGLang -> one deployment. The KPA annotations become Berth's scale
// (concurrency target -> inFlightValue, rps target -> rpsValue, min-scale,
// max-scale); the engine's port inside the container is Berth's to assign;
// a model under a volume's mount path is read from that path on this machine.
import type { DeploymentInput } from '../contract/deployment.js';
import type { ManifestDocument } from './documents.js';
import { Fields } from './fields.js';
import { readEngineContainer, SCHEDULING_REASON } from './container.js';
import { deploymentParts, readBerthAnnotations, readResources } from './kubernetes.js';
import type { PlatformResult } from './types.js';

export const KNATIVE_GROUP = 'serving.knative.dev';
const AUTOSCALING = 'autoscaling.knative.dev/';
/** Knative's documented defaults: scale to zero, no upper bound, concurrency 100 (rps 200) per replica. */
export const KNATIVE_DEFAULTS = { minScale: 0, metric: 'concurrency', concurrencyTarget: 100, rpsTarget: 200 } as const;
const DEFAULT_MAX = 5;

function readService(doc: ManifestDocument): { input: DeploymentInput & { name: string }; warnings: string[] } {
  const f: Fields = new Fields(doc);
  const warnings: string[] = [];
  const name = f.identity('a Service needs a name: it becomes the deployment name');
  const berth = readBerthAnnotations(f, ['metadata', 'annotations']);
  const tmpl = ['spec', 'template'];
  const ann = [...tmpl, 'metadata', 'annotations'];
  const a = (key: string) => [...ann, AUTOSCALING + key];
  // Both spellings: min-scale (current) and minScale (before Knative 1.3).
  const scaleKey = (kebab: string, camel: string) => (f.peek(a(kebab)) !== undefined ? kebab : camel);

  const metric = f.str(a('metric')) ?? KNATIVE_DEFAULTS.metric;
  const target = f.number(a('target'));
  const minKey = scaleKey('min-scale', 'minScale');
  const maxKey = scaleKey('max-scale', 'maxScale');
  const min = f.int(a(minKey), 0) ?? KNATIVE_DEFAULTS.minScale;
  let max = f.int(a(maxKey), 0);
  if (max === 0) warnings.push(`Service ${name}: max-scale 0 is unbounded on Knative; Berth stops at ${Math.max(min, DEFAULT_MAX)} replicas`);
  if (!max) max = Math.max(min, DEFAULT_MAX, 1);
  if (min > max) f.fail(a(minKey), `${min} replicas at least, but max-scale is ${max}`);
  let inFlightValue = berth.inFlightValue;
  let rpsValue = berth.rpsValue;
  if (metric === 'concurrency') inFlightValue = Math.max(1, Math.round(target ?? KNATIVE_DEFAULTS.concurrencyTarget));
  else if (metric === 'rps') rpsValue = target ?? KNATIVE_DEFAULTS.rpsTarget;
  else {
    f.ignored.push({ field: f.label(a('metric')), reason: `scaling on ${metric} is the HPA's; Berth scales by requests per second and in-flight requests` });
    if (target !== undefined) f.ignored.push({ field: f.label(a('target')), reason: `a target for ${metric}, which Berth does not measure` });
  }
  const cls = f.str(a('class'));
  if (cls !== undefined && !cls.startsWith('kpa')) f.ignored.push({ field: f.label(a('class')), reason: `${cls}: Berth scales with its own autoscaler, as KPA would` });
  f.ignore(a('initial-scale'), 'Berth starts min-scale replicas and wakes a sleeping deployment on its first request');
  f.ignore(a('initialScale'), 'Berth starts min-scale replicas and wakes a sleeping deployment on its first request');
  f.ignore(a('window'), `Berth's autoscaler has its own window; the idle time before scaling down is scale.idleTime`);
  f.ignore(a('scale-to-zero-pod-retention-period'), 'the idle time before scaling down is scale.idleTime (annotation berth/idle-time)');

  const spec = [...tmpl, 'spec'];
  const containers = f.list([...spec, 'containers']) ?? [];
  if (containers.length === 0) f.fail([...spec, 'containers'], 'the Service needs the container that runs the engine');
  let ci = containers.findIndex((c) => Array.isArray((c as { ports?: unknown }).ports));
  if (ci < 0) ci = 0;
  containers.forEach((_, i) => {
    if (i !== ci) f.ignore([...spec, 'containers', i], 'a sidecar container; Berth runs the engine only');
  });
  const c = [...spec, 'containers', ci];
  const container = readEngineContainer(f, c, { what: `Service ${name}`, warnings, ...(berth.backendVersion ? { versionOverride: berth.backendVersion } : {}) });
  const model = container.flags.model ?? container.positionalModel;
  if (!model || !model.text) f.fail(c, 'the engine command names no model (--model, or vllm serve MODEL)');

  // The engine's port inside: --port, else the container port (Knative's default 8080).
  const containerPort = f.list([...c, 'ports']) ? f.int([...c, 'ports', 0, 'containerPort'], 1) : undefined;
  f.ignore([...c, 'ports'], 'the engine\'s port inside the container; Berth assigns a free port on this machine');
  const port = container.flags.port ?? containerPort;
  for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) {
    const probePort = f.peek([...c, probe, 'tcpSocket', 'port']) ?? f.peek([...c, probe, 'httpGet', 'port']);
    if (probePort !== undefined && port !== undefined && Number(probePort) !== port) {
      warnings.push(`Service ${name}: ${probe} checks port ${String(probePort)}, but the engine listens on ${port}`);
    }
    f.ignore([...c, probe], `Berth checks the engine itself (its readiness endpoint on the port Berth assigns)${probePort !== undefined ? `; port ${String(probePort)} is the engine's port inside the container` : ''}`);
  }

  // Volumes: the model is read from its path on this machine; nothing is mounted.
  const mounts = f.list([...c, 'volumeMounts']) ?? [];
  const claims = new Map<string, string>();
  (f.list([...spec, 'volumes']) ?? []).forEach((v, i) => {
    const vol = v as { name?: unknown; persistentVolumeClaim?: { claimName?: unknown } };
    if (typeof vol.name === 'string') claims.set(vol.name, typeof vol.persistentVolumeClaim?.claimName === 'string' ? `the PersistentVolumeClaim ${vol.persistentVolumeClaim.claimName}` : `the volume ${vol.name}`);
    f.ignore([...spec, 'volumes', i], 'volumes belong to the cluster; Berth reads paths on this machine');
  });
  mounts.forEach((m, i) => {
    const mount = m as { mountPath?: unknown; name?: unknown };
    const mp = typeof mount.mountPath === 'string' ? mount.mountPath.replace(/\/+$/, '') : '';
    const from = claims.get(String(mount.name)) ?? `the volume ${String(mount.name)}`;
    const holdsModel = mp && (model.text === mp || model.text.startsWith(`${mp}/`));
    f.ignore(
      [...c, 'volumeMounts', i],
      holdsModel
        ? `the model: Berth reads ${model.text} on this machine, where ${from} is not mounted; put the model files there`
        : `${from} is not mounted on one machine`,
    );
  });
  const resources = readResources(f, [...c, 'resources'], warnings);
  for (const k of ['nodeSelector', 'affinity', 'tolerations', 'serviceAccountName', 'imagePullSecrets', 'timeoutSeconds', 'containerConcurrency']) {
    f.ignore([...spec, k], k === 'containerConcurrency' ? 'a hard cap per pod in Knative; Berth\'s per-replica cap is the concurrency target (scale.inFlightValue)' : SCHEDULING_REASON);
  }
  f.ignore(['spec', 'traffic'], 'traffic splits between revisions; Berth runs one revision');

  const input: DeploymentInput & { name: string } = {
    name,
    servedName: berth.servedNames ?? container.flags.servedNames?.names ?? [name],
    modelId: model.text,
    backend: container.backend,
    ...(container.backendVersion ? { backendVersion: container.backendVersion } : {}),
    backendArgs: container.flags.backendArgs.map((t) => t.text),
    ...deploymentParts(berth, resources, { min, max, rpsValue, inFlightValue }),
    env: container.env,
  };
  const kept: Record<string, unknown> = {};
  if (container.image) kept.image = container.image;
  if (port !== undefined) kept.port = port;
  input.source = { platform: 'knative', id: `Service/${name}`, ...(doc.namespace ? { namespace: doc.namespace } : {}), kept, ignored: f.finish() };
  return { input, warnings };
}

export function readKnative(docs: ManifestDocument[]): PlatformResult {
  return {
    deployments: docs.map((doc) => {
      const { input, warnings } = readService(doc);
      return { input, warnings, documents: [doc.index] };
    }),
    ignoredDocuments: [],
  };
}
