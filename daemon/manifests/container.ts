// One container that runs an engine (KServe's runtime container, Knative's
// service container) -> the engine, its version, its Berth-facing arguments.
// Shared by kserve.ts and knative.ts.
import type { Backend } from '../contract/deployment.js';
import { defaultBackendVersion } from '../engines/catalogue.js';
import { engineCommand, engineFlags, type EngineFlags, type Token } from './engine-command.js';
import type { Fields } from './fields.js';
import { backendVersionFor, imageVersion, readEnv } from './kubernetes.js';
import type { Path } from './paths.js';

export const SCHEDULING_REASON = 'schedules or pulls pods in a cluster; nothing to do on one machine';

/**
 * Kubernetes expands `$(NAME)` in a container's command and args from its env
 * before anything runs (an undefined one stays as written; `$$` is a `$`), so
 * Berth does too, before reading the engine's arguments.
 */
export function expandEnvRefs(word: string, env: Record<string, string>): string {
  return word.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => (name === undefined ? '$' : (env[name] ?? m)));
}

export interface EngineContainer {
  backend: Backend;
  backendVersion: string | undefined;
  image: string | undefined;
  env: Record<string, string>;
  flags: EngineFlags;
  /** `vllm serve MODEL`'s positional model. */
  positionalModel: Token | null;
}

export function readEngineContainer(
  f: Fields,
  path: Path,
  opts: {
    what: string;
    warnings: string[];
    /** Rewrites each word first (KServe's `{{.Name}}`). */
    template?: (word: string) => string;
    /** More args appended (KServe's predictor.model.args). */
    extraArgs?: Token[];
    /** The document `extraArgs` were written in, which a refusal of one of them names. */
    extraFields?: Fields;
    extraEnv?: Record<string, string>;
    versionOverride?: string;
  },
): EngineContainer {
  const env = { ...readEnv(f, [...path, 'env']), ...opts.extraEnv };
  const t = (w: string) => expandEnvRefs(opts.template ? opts.template(w) : w, env);
  const image = f.str([...path, 'image']);
  const cmd = engineCommand({
    command: f.strings([...path, 'command'])?.map(t),
    commandPath: [...path, 'command'],
    args: f.strings([...path, 'args'])?.map(t),
    argsPath: [...path, 'args'],
    image,
    env: (n) => env[n],
    fail: (p, m, c) => f.fail(p, m, c),
  });
  for (const n of cmd.notes) f.ignored.push({ field: f.label(n.path), reason: n.reason });
  Object.assign(env, cmd.env);
  let backendVersion = opts.versionOverride;
  if (backendVersion === undefined && image) {
    const v = imageVersion(image);
    if (v) backendVersion = backendVersionFor(cmd.backend, v, opts.what, opts.warnings);
  }
  const ownerOf = (p: Path): Fields => (opts.extraFields && opts.extraArgs?.some((t) => t.path === p) ? opts.extraFields : f);
  const flags = engineFlags(cmd.backend, backendVersion ?? defaultBackendVersion(cmd.backend), [...cmd.args, ...(opts.extraArgs ?? [])], (p, m, c) => ownerOf(p).fail(p, m, c));
  for (const n of flags.notes) {
    const owner = ownerOf(n.path);
    owner.ignored.push({ field: owner.label(n.path), reason: n.reason });
  }
  if (image) {
    f.ignored.push({
      field: f.label([...path, 'image']),
      reason: `Berth runs the engine from the host's Python (BERTH_${cmd.backend.toUpperCase()}_PYTHON), not the image; kept for export${backendVersion ? '' : ' (its tag names no version)'}`,
    });
  }
  f.ignore([...path, 'imagePullPolicy'], SCHEDULING_REASON);
  f.take([...path, 'name']);
  return { backend: cmd.backend, backendVersion, image, env, flags, positionalModel: cmd.positionalModel };
}
