// llmaz: an OpenModel (where the model comes from) plus a Playground (how it
// runs) -> one deployment. As in the llmaz + Higress walkthrough, the model
// answers by the OpenModel's name: `model: qwen2-1-5b` at /v1.
import { BACKENDS, type Backend, type DeploymentInput } from '../contract/deployment.js';
import { defaultBackendVersion } from '../engines/catalogue.js';
import type { ManifestDocument } from './documents.js';
import { engineFlags, type Token } from './engine-command.js';
import type { IgnoredField } from '../contract/manifests.js';
import { Fields } from './fields.js';
import { backendVersionFor, deploymentParts, localPath, readBerthAnnotations, readEnv, readResources } from './kubernetes.js';
import type { PlatformResult } from './types.js';

export const LLMAZ_KINDS = { OpenModel: 'llmaz.io', Playground: 'inference.llmaz.io' } as const;

interface Model {
  doc: ManifestDocument;
  modelId: string;
  familyName: string | undefined;
  ignored: IgnoredField[];
}

function readOpenModel(doc: ManifestDocument): Model {
  const f: Fields = new Fields(doc);
  f.take(['apiVersion']);
  f.take(['kind']);
  f.take(['metadata', 'name']);
  if (!doc.name) f.fail(['metadata', 'name'], 'an OpenModel needs a name: the model name requests use');
  f.ignore(['metadata', 'namespace'], 'namespaces scope names in a cluster; kept with the deployment');
  const familyName = f.str(['spec', 'familyName']);
  if (familyName !== undefined) f.ignored.push({ field: f.label(['spec', 'familyName']), reason: 'describes the model family for llmaz; kept for export' });
  const hub = f.object(['spec', 'source', 'modelHub']);
  const uri = f.str(['spec', 'source', 'uri']);
  let modelId: string | undefined;
  if (hub) {
    const hubName = f.str(['spec', 'source', 'modelHub', 'name']) ?? 'Huggingface';
    if (hubName !== 'Huggingface') {
      f.fail(['spec', 'source', 'modelHub', 'name'], `${hubName}: Berth reads models from Hugging Face (or a local path: source.uri host:///path)`, 'unsupported_manifest');
    }
    modelId = f.str(['spec', 'source', 'modelHub', 'modelID']);
    if (!modelId) f.fail(['spec', 'source', 'modelHub', 'modelID'], 'the Hugging Face repo id of the model, e.g. Qwen/Qwen2.5-1.5B-Instruct');
    const revision = f.str(['spec', 'source', 'modelHub', 'revision']);
    if (revision !== undefined && revision !== 'main') {
      f.fail(['spec', 'source', 'modelHub', 'revision'], `Berth loads the model's default branch; pin "${revision}" with the Playground's backendRuntimeConfig.args: ["--revision", "${revision}"]`, 'unsupported_manifest');
    }
    f.ignore(['spec', 'source', 'modelHub', 'filename'], 'selects one file (a GGUF) for llama.cpp; vLLM and SGLang load the whole repository');
    f.ignore(['spec', 'source', 'modelHub', 'allowPatterns'], 'llmaz\'s download filter; the engine downloads what it needs');
    f.ignore(['spec', 'source', 'modelHub', 'ignorePatterns'], 'llmaz\'s download filter; the engine downloads what it needs');
  } else if (uri !== undefined) {
    const m = /^host:\/\/(.+)$/.exec(uri);
    if (!m) {
      f.fail(['spec', 'source', 'uri'], `"${uri}": Berth cannot read this storage on one machine; copy the model here and give its path as host:///path (or use modelHub for Hugging Face)`, 'unsupported_manifest');
    }
    modelId = localPath(m[1]!);
  } else {
    f.fail(['spec', 'source'], 'expected source.modelHub.modelID (Hugging Face) or source.uri (host:///path)');
  }
  f.ignore(['spec', 'inferenceConfig'], 'inference flavors pick node types in a cluster; Berth allocates the GPUs the Playground asks for');
  return { doc, modelId: modelId!, familyName, ignored: f.finish() };
}

function readPlayground(doc: ManifestDocument, models: Map<string, Model>): { input: DeploymentInput & { name: string }; warnings: string[]; model: Model; f: Fields } {
  const f: Fields = new Fields(doc);
  const warnings: string[] = [];
  const name = f.identity('a Playground needs a name: it becomes the deployment name');
  if (f.peek(['spec', 'modelClaims']) !== undefined) {
    f.fail(['spec', 'modelClaims'], 'several models in one Playground (speculative decoding) are not supported; claim one model with modelClaim.modelName', 'unsupported_manifest');
  }
  const modelName = f.str(['spec', 'modelClaim', 'modelName']);
  if (!modelName) f.fail(['spec', 'modelClaim', 'modelName'], 'the name of the OpenModel this Playground serves');
  const model = models.get(modelName);
  if (!model) f.fail(['spec', 'modelClaim', 'modelName'], `no OpenModel named "${modelName}" in this manifest: Berth has no cluster to look it up in, so apply the OpenModel with its Playground`);
  f.ignore(['spec', 'modelClaim', 'inferenceFlavors'], 'inference flavors pick node types in a cluster; Berth allocates the GPUs the Playground asks for');

  const rc = ['spec', 'backendRuntimeConfig'];
  const backendName = f.str([...rc, 'backendName']) ?? 'vllm';
  if (!(BACKENDS as readonly string[]).includes(backendName)) {
    f.fail([...rc, 'backendName'], `${backendName}: Berth runs vllm or sglang`, 'unsupported_manifest');
  }
  const backend = backendName as Backend;
  const berth = readBerthAnnotations(f, ['metadata', 'annotations']);
  let backendVersion: string | undefined = berth.backendVersion;
  const tag = f.str([...rc, 'version']);
  if (tag !== undefined && backendVersion === undefined) {
    const v = /^v?(\d+(?:\.\d+)+(?:[.-]?(?:post|rc|dev)\d*)?)/.exec(tag)?.[1];
    if (!v) f.fail([...rc, 'version'], `"${tag}" is not a version like v0.9.0.1`);
    backendVersion = backendVersionFor(backend, v, `Playground ${name}`, warnings);
  }
  const argv = f.strings([...rc, 'args']) ?? [];
  const tokens: Token[] = argv.map((text, i) => ({ text, path: [...rc, 'args', i] }));
  const flags = engineFlags(backend, backendVersion ?? defaultBackendVersion(backend), tokens, (p, m, c) => f.fail(p, m, c));
  if (flags.model || flags.servedNames) {
    const p = (flags.model ?? flags.servedNames)!.path;
    f.fail(p, 'the model and its name come from the OpenModel (source and metadata.name); take this flag out of args', 'invalid_manifest');
  }
  for (const n of flags.notes) f.ignored.push({ field: f.label(n.path), reason: n.reason });
  const env = readEnv(f, [...rc, 'envs']);
  const resources = f.object([...rc, 'resources']) ? readResources(f, [...rc, 'resources'], warnings) : { gpu: { count: 0 } };
  if (!f.object([...rc, 'resources'])) warnings.push(`Playground ${name}: no backendRuntimeConfig.resources, so the engine gets no GPU, as on a cluster`);
  f.ignore([...rc, 'configName'], 'a BackendRuntime preset in the cluster; Berth uses its own recipe for the engine');
  f.ignore([...rc, 'sharedMemorySize'], 'the pod\'s /dev/shm size; an engine on the host uses the host\'s');
  f.ignore([...rc, 'scaleTrigger'], 'HPA metrics of the cluster; Berth scales by its own requests per second and in-flight counts');

  const replicas = f.int(['spec', 'replicas'], 0);
  const minReplicas = f.int(['spec', 'elasticConfig', 'minReplicas'], 0);
  const maxReplicas = f.int(['spec', 'elasticConfig', 'maxReplicas'], 1);
  f.ignore(['spec', 'elasticConfig', 'scaleTrigger'], 'HPA metrics of the cluster; Berth scales by its own requests per second and in-flight counts');
  const min = minReplicas ?? replicas ?? 1;
  const max = maxReplicas ?? Math.max(min, 1);
  if (min > max) f.fail(['spec', 'elasticConfig', 'minReplicas'], `${min} replicas at least, but ${max} at most`);

  const input: DeploymentInput & { name: string } = {
    name,
    servedName: berth.servedNames ?? [model.doc.name!],
    modelId: model.modelId,
    backend,
    ...(backendVersion ? { backendVersion } : {}),
    backendArgs: flags.backendArgs.map((t) => t.text),
    ...deploymentParts(berth, resources, { min, max, rpsValue: berth.rpsValue, inFlightValue: berth.inFlightValue }),
    env,
  };
  return { input, warnings, model, f };
}

export function readLlmaz(docs: ManifestDocument[]): PlatformResult {
  const models = new Map<string, Model>();
  for (const d of docs.filter((d) => d.kind === 'OpenModel')) {
    const m = readOpenModel(d);
    if (models.has(d.name!)) new Fields(d).fail(['metadata', 'name'], `a second OpenModel named "${d.name}" in this manifest`);
    models.set(d.name!, m);
  }
  const claimed = new Set<string>();
  const deployments: PlatformResult['deployments'] = [];
  for (const doc of docs.filter((d) => d.kind === 'Playground')) {
    const { input, warnings, model, f } = readPlayground(doc, models);
    claimed.add(model.doc.name!);
    input.source = {
      platform: 'llmaz',
      id: `Playground/${doc.name}`,
      ...(doc.namespace ? { namespace: doc.namespace } : {}),
      kept: model.familyName !== undefined ? { familyName: model.familyName } : {},
      ignored: [...model.ignored, ...f.finish()],
    };
    deployments.push({ input, warnings, documents: [model.doc.index, doc.index] });
  }
  return {
    deployments,
    ignoredDocuments: [...models.values()]
      .filter((m) => !claimed.has(m.doc.name!))
      .map((m) => ({ document: m.doc.index, kind: m.doc.kind, name: m.doc.name, reason: 'an OpenModel alone runs nothing: no Playground in this manifest claims it' })),
  };
}
