// KServe: an InferenceService (which model, where it is stored, how many
// replicas) served by a ServingRuntime (the engine's container, with
// `{{.Name}}` in its args) -> one deployment per InferenceService. The
// runtime is found by metadata.name or, as OpenShift AI writes it, by its
// `openshift.io/display-name`. Storage Berth cannot read on one machine (S3
// data connections, remote URIs) is refused by field.
import type { DeploymentInput } from '../contract/deployment.js';
import type { ManifestDocument } from './documents.js';
import type { Token } from './engine-command.js';
import { Fields } from './fields.js';
import { readEngineContainer, SCHEDULING_REASON } from './container.js';
import { deploymentParts, localPath, readBerthAnnotations, readEnv, readResources, type Resources } from './kubernetes.js';
import type { Path } from './paths.js';
import type { PlatformResult } from './types.js';

export const KSERVE_GROUP = 'serving.kserve.io';
export const KSERVE_KINDS = ['InferenceService', 'ServingRuntime', 'ClusterServingRuntime'] as const;
const DISPLAY_NAME = 'openshift.io/display-name';
/** Where KServe's storage initializer puts the model in the runtime container. */
export const KSERVE_MODEL_MOUNT = '/mnt/models';
const DEFAULT_MAX = 5;

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const annotation = (doc: ManifestDocument, key: string) => {
  const a = (doc.body.metadata as { annotations?: Record<string, unknown> } | undefined)?.annotations;
  return a ? str(a[key]) : undefined;
};

function formatsOf(rt: ManifestDocument): { name: string; autoSelect: boolean }[] {
  const list = (rt.body.spec as { supportedModelFormats?: unknown } | undefined)?.supportedModelFormats;
  return Array.isArray(list)
    ? list.flatMap((x) => (x && typeof x === 'object' && typeof (x as { name?: unknown }).name === 'string' ? [{ name: (x as { name: string }).name, autoSelect: (x as { autoSelect?: unknown }).autoSelect === true }] : []))
    : [];
}

/** storageUri / storage -> a model Berth can load, or a refusal naming the field. */
function readStorage(f: Fields, model: Path): { modelId: string; path: Path } | null {
  const uri = f.str([...model, 'storageUri']);
  if (f.object([...model, 'storage'])) {
    const key = f.str([...model, 'storage', 'key']);
    const path = f.str([...model, 'storage', 'path']);
    if (key !== undefined) {
      f.fail(
        [...model, 'storage', 'key'],
        `"${key}" is a data connection to S3 storage, which Berth cannot read on one machine: copy ${path ?? 'the model'} to this machine and set ${'spec.predictor.model.storageUri'} to file:///<its path> (or hf://<owner>/<name> for a Hugging Face model)`,
        'unsupported_manifest',
      );
    }
    if (path === undefined || !path.startsWith('/')) {
      f.fail([...model, 'storage', 'path'], 'without a key, Berth reads storage.path as a path on this machine: expected an absolute path', 'unsupported_manifest');
    }
    f.ignore([...model, 'storage', 'parameters'], 'parameters of a storage connection; Berth reads a local path');
    f.ignore([...model, 'storage', 'schemaPath'], 'a model schema for the cluster\'s tooling; engines do not read it');
    return { modelId: path, path: [...model, 'storage', 'path'] };
  }
  if (uri === undefined) return null;
  const p = [...model, 'storageUri'];
  const hf = /^hf:\/\/([^:]+?)(?::(.+))?$/.exec(uri);
  if (hf) {
    if (hf[2]) f.fail(p, `the revision "${hf[2]}": pin it with the runtime's args (--revision ${hf[2]}) instead`, 'unsupported_manifest');
    return { modelId: hf[1]!, path: p };
  }
  if (uri.startsWith('file://')) return { modelId: localPath(uri.slice('file://'.length)), path: p };
  if (uri.startsWith('/')) return { modelId: uri, path: p };
  const scheme = /^([a-z0-9+.-]+):\/\//i.exec(uri)?.[1] ?? 'this';
  return f.fail(p, `${scheme}:// storage is remote storage Berth cannot read on one machine: copy the model here and use file:///<its path>, or hf://<owner>/<name>`, 'unsupported_manifest');
}

function readInferenceService(isvc: ManifestDocument, runtimes: ManifestDocument[]): { input: DeploymentInput & { name: string }; warnings: string[]; runtime: ManifestDocument } {
  const f: Fields = new Fields(isvc);
  const warnings: string[] = [];
  const name = f.identity('an InferenceService needs a name: it becomes the deployment and served name');
  const berth = readBerthAnnotations(f, ['metadata', 'annotations']);
  const pred = ['spec', 'predictor'];
  const model = [...pred, 'model'];
  if (!f.object(model)) f.fail(model, 'Berth serves the predictor.model form (modelFormat, runtime, storageUri); custom predictor containers are not supported', 'unsupported_manifest');
  const format = f.str([...model, 'modelFormat', 'name']);
  if (!format) f.fail([...model, 'modelFormat', 'name'], 'the model format, e.g. vLLM');
  f.ignore([...model, 'modelFormat', 'version'], 'picks among a runtime\'s formats in a cluster; Berth uses the runtime it is given');

  // The runtime: by name or display name, else the one that auto-selects this format.
  const wanted = f.str([...model, 'runtime']);
  let runtime: ManifestDocument | undefined;
  if (wanted !== undefined) {
    runtime = runtimes.find((r) => r.name === wanted) ?? runtimes.find((r) => annotation(r, DISPLAY_NAME) === wanted);
    if (!runtime) f.fail([...model, 'runtime'], `no ServingRuntime named (or displayed as) "${wanted}" in this manifest: apply the runtime with its InferenceService`);
  } else {
    const auto = runtimes.filter((r) => formatsOf(r).some((x) => x.autoSelect && x.name.toLowerCase() === format.toLowerCase()));
    if (auto.length !== 1) f.fail([...model, 'runtime'], `${auto.length ? 'several' : 'no'} ServingRuntime in this manifest auto-select the format ${format}: name one with runtime`);
    runtime = auto[0]!;
  }
  const formats = formatsOf(runtime);
  if (formats.length && !formats.some((x) => x.name.toLowerCase() === format.toLowerCase())) {
    f.fail([...model, 'modelFormat', 'name'], `the runtime ${runtime.name} supports ${formats.map((x) => x.name).join(', ')}, not ${format}`);
  }

  // The runtime's container, read for this InferenceService ({{.Name}} is its name).
  const rf: Fields = new Fields(runtime);
  rf.take(['apiVersion']);
  rf.take(['kind']);
  rf.take(['metadata', 'name']);
  rf.take(['metadata', 'annotations', DISPLAY_NAME]);
  rf.take(['spec', 'supportedModelFormats']);
  if (rf.peek(['spec', 'multiModel']) === true) rf.fail(['spec', 'multiModel'], 'multi-model serving (ModelMesh) is not supported: Berth runs one model per engine', 'unsupported_manifest');
  rf.take(['spec', 'multiModel']);
  const containers = rf.list(['spec', 'containers']) ?? [];
  if (containers.length === 0) rf.fail(['spec', 'containers'], 'a ServingRuntime needs its container');
  let ci = containers.findIndex((c) => (c as { name?: unknown }).name === 'kserve-container');
  if (ci < 0) ci = 0;
  containers.forEach((_, i) => {
    if (i !== ci) rf.ignore(['spec', 'containers', i], 'a sidecar container; Berth runs the engine (kserve-container) only');
  });
  const cpath = ['spec', 'containers', ci];
  const extraArgs: Token[] = (f.strings([...model, 'args']) ?? []).map((text, i) => ({ text, path: [...model, 'args', i] }));
  const extraEnv = readEnv(f, [...model, 'env']);
  const container = readEngineContainer(rf, cpath, {
    what: `ServingRuntime ${runtime.name}`,
    warnings,
    template: (w) => w.replaceAll('{{.Name}}', name),
    extraArgs,
    extraFields: f,
    extraEnv,
    ...(berth.backendVersion ? { versionOverride: berth.backendVersion } : {}),
  });
  const ports = rf.list([...cpath, 'ports']) ?? [];
  const containerPort = ports.length ? rf.int([...cpath, 'ports', 0, 'containerPort'], 1) : undefined;
  rf.ignore([...cpath, 'ports'], 'the engine\'s port inside the container; Berth assigns a free port on this machine');
  const prom = ['spec', 'annotations'];
  const promPath = rf.str([...prom, 'prometheus.io/path']);
  if (promPath !== undefined && promPath !== '/metrics') warnings.push(`ServingRuntime ${runtime.name}: prometheus.io/path is ${promPath}; Berth reads the engine's /metrics`);
  rf.ignore([...prom, 'prometheus.io/path'], 'Berth scrapes the engine\'s /metrics itself (berth stats, the UI)');
  rf.ignore([...prom, 'prometheus.io/port'], 'Berth scrapes the engine\'s /metrics on the port it assigns');
  rf.ignore([...prom, 'prometheus.io/scrape'], 'Berth scrapes the engine\'s /metrics itself');

  // The model: storage, replacing KServe's mount point in the runtime's args.
  const storage = readStorage(f, model);
  const given = container.flags.model ?? container.positionalModel;
  let modelId: string;
  if (storage && (!given || given.text.replace(/\/+$/, '') === KSERVE_MODEL_MOUNT)) modelId = storage.modelId;
  else if (given && given.text.replace(/\/+$/, '') !== KSERVE_MODEL_MOUNT) {
    modelId = given.text;
    if (storage) warnings.push(`InferenceService ${name}: the runtime loads ${given.text}, not the storage it names`);
  } else return f.fail([...model, 'storageUri'], 'no model: set storageUri (file:///<path> or hf://<owner>/<name>)');

  // Resources: the model's own, else the runtime container's.
  let resources: Resources;
  if (f.object([...model, 'resources'])) {
    resources = readResources(f, [...model, 'resources'], warnings);
    rf.ignore([...cpath, 'resources'], 'the InferenceService\'s model.resources take its place');
  } else resources = rf.object([...cpath, 'resources']) ? readResources(rf, [...cpath, 'resources'], warnings) : readResources(f, [...model, 'resources'], warnings);

  const min = f.int([...pred, 'minReplicas'], 0) ?? 1;
  let max = f.int([...pred, 'maxReplicas'], 0);
  if (max === 0 || max === undefined) max = Math.max(min, DEFAULT_MAX, 1);
  if (min > max) f.fail([...pred, 'minReplicas'], `${min} replicas at least, but ${max} at most`);
  const metric = f.str([...pred, 'scaleMetric']) ?? 'concurrency';
  const target = f.number([...pred, 'scaleTarget']);
  let inFlightValue = berth.inFlightValue;
  let rpsValue = berth.rpsValue;
  if (target !== undefined) {
    if (metric === 'concurrency') inFlightValue = Math.max(1, Math.round(target));
    else if (metric === 'rps') rpsValue = target;
    else f.ignored.push({ field: f.label([...pred, 'scaleTarget']), reason: `scaling on ${metric} is the cluster autoscaler's; Berth scales by requests per second and in-flight requests` });
  }
  for (const k of ['tolerations', 'nodeSelector', 'affinity', 'serviceAccountName', 'imagePullSecrets', 'schedulerName', 'priorityClassName']) f.ignore([...pred, k], SCHEDULING_REASON);
  f.ignore([...model, 'name'], 'the container\'s name in the pod');

  const input: DeploymentInput & { name: string } = {
    name,
    servedName: berth.servedNames ?? container.flags.servedNames?.names ?? [name],
    modelId,
    backend: container.backend,
    ...(container.backendVersion ? { backendVersion: container.backendVersion } : {}),
    backendArgs: container.flags.backendArgs.map((t) => t.text),
    ...deploymentParts(berth, resources, { min, max, rpsValue, inFlightValue }),
    env: container.env,
  };
  const kept: Record<string, unknown> = { runtime: runtime.name, modelFormat: format };
  if (container.image) kept.image = container.image;
  const port = container.flags.port ?? containerPort;
  if (port !== undefined) kept.port = port;
  input.source = {
    platform: 'kserve',
    id: `InferenceService/${name}`,
    ...(isvc.namespace ? { namespace: isvc.namespace } : {}),
    kept,
    ignored: [...f.finish(), ...rf.finish()],
  };
  return { input, warnings, runtime };
}

export function readKserve(docs: ManifestDocument[]): PlatformResult {
  const runtimes = docs.filter((d) => d.kind !== 'InferenceService');
  for (const r of runtimes) if (!r.name) new Fields(r).fail(['metadata', 'name'], 'a ServingRuntime needs a name');
  const used = new Set<number>();
  const deployments: PlatformResult['deployments'] = [];
  for (const isvc of docs.filter((d) => d.kind === 'InferenceService')) {
    const { input, warnings, runtime } = readInferenceService(isvc, runtimes);
    used.add(runtime.index);
    deployments.push({ input, warnings, documents: [runtime.index, isvc.index] });
  }
  return {
    deployments,
    ignoredDocuments: runtimes
      .filter((r) => !used.has(r.index))
      .map((r) => ({ document: r.index, kind: r.kind, name: r.name, reason: 'a runtime alone runs nothing: no InferenceService in this manifest uses it' })),
  };
}
