// The engine catalogue: Berth's recipes (resources/engines/catalogue.json) and
// the version each deployment gets. Recipes are data; berth-flags.ts and
// plan.ts interpret them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BACKENDS, type Backend } from '../contract/deployment.js';
import { PlanError } from './errors.js';
import { ENGINE_RESOURCES_DIR, type EngineSpec, loadSpec, specVersions } from './spec.js';
import { compareVersions, isVersion } from './versions.js';

const why = z.string().min(1);

/** When a conditional flag applies. Every listed condition must hold. */
const whenSchema = z
  .object({
    /** The deployment's backendArgs are empty. */
    noBackendArgs: z.boolean().optional(),
    /** The replica has at least this many GPUs allocated. */
    minGpus: z.int().min(0).optional(),
  })
  .strict();

const recipeSchema = z
  .object({
    backend: z.enum(BACKENDS),
    /** The spec's version; the recipe covers every release that spec describes. */
    version: z.string(),
    spec: z.string(),
    /** Spec entrypoint id whose parser checks the argv. */
    entrypoint: z.string(),
    /** Run as `<interpreter> -m <module>`. */
    module: z.string(),
    model: z.object({ flag: z.string(), why }).strict(),
    servedNames: z.object({ flag: z.string(), pass: z.enum(['all', 'first']), why }).strict(),
    hostFlag: z.string(),
    portFlag: z.string(),
    /** Added to every launch, after host and port. */
    defaultFlags: z.array(z.object({ argv: z.array(z.string()).min(1), why }).strict()),
    defaultEnv: z.array(z.object({ name: z.string(), value: z.string(), why }).strict()),
    conditionalFlags: z.array(z.object({ when: whenSchema, argv: z.array(z.string()).min(1), why }).strict()),
    tensorParallel: z
      .object({
        flag: z.string(),
        when: whenSchema,
        /** allocatedGpus: the GPUs handed to this replica; replicaGpus: workers x gpu.count. */
        size: z.enum(['allocatedGpus', 'replicaGpus']),
        why,
      })
      .strict(),
    readiness: z
      .object({
        http: z.object({ path: z.string().startsWith('/'), status: z.int() }).strict().nullable(),
        logLine: z.string().nullable(),
        why,
      })
      .strict(),
  })
  .strict();

const catalogueSchema = z.object({
  $comment: z.string().optional(),
  defaultVersions: z.object({ vllm: z.string(), sglang: z.string() }).strict(),
  recipes: z.array(recipeSchema).min(1),
});

export type Recipe = z.infer<typeof recipeSchema>;
export type RecipeCondition = z.infer<typeof whenSchema>;
type Catalogue = z.infer<typeof catalogueSchema>;

let loaded: Catalogue | null = null;

function catalogue(): Catalogue {
  if (!loaded) {
    const raw: unknown = JSON.parse(readFileSync(join(ENGINE_RESOURCES_DIR, 'catalogue.json'), 'utf8'));
    const parsed = catalogueSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`engine catalogue: ${z.prettifyError(parsed.error)}`);
    loaded = parsed.data;
  }
  return loaded;
}

/** A release Berth knows exactly: the recipe and spec that describe it. */
interface Known {
  version: string;
  recipe: Recipe;
  spec: EngineSpec;
}

function known(backend: Backend): Known[] {
  return catalogue()
    .recipes.filter((r) => r.backend === backend)
    .flatMap((recipe) => {
      const spec = loadSpec(recipe.spec);
      return specVersions(spec).map((version) => ({ version, recipe, spec }));
    })
    .sort((a, b) => compareVersions(a.version, b.version));
}

export interface ResolvedRecipe {
  recipe: Recipe;
  spec: EngineSpec;
  /** The known release whose flags apply: the one asked for, or the nearest lower one. */
  recipeVersion: string;
  warnings: string[];
}

/**
 * The recipe for `backend` at `version`. A version Berth has no spec for is
 * accepted with a warning and treated as the nearest lower known release
 * (engines mostly add flags, so an older parser is the safer guess); a version
 * below every known one is refused.
 */
export function resolveRecipe(backend: Backend, version: string): ResolvedRecipe {
  if (!isVersion(version)) {
    throw new PlanError('invalid_version', 'backendVersion', `backendVersion "${version}" is not a version like 0.9.0.1`);
  }
  const all = known(backend);
  const exact = all.find((k) => compareVersions(k.version, version) === 0);
  if (exact) return { recipe: exact.recipe, spec: exact.spec, recipeVersion: exact.version, warnings: [] };
  const lower = all.filter((k) => compareVersions(k.version, version) < 0).at(-1);
  if (!lower) {
    const versions = all.map((k) => k.version).join(', ');
    throw new PlanError(
      'unsupported_version',
      'backendVersion',
      `${backend} ${version} is older than every version Berth has a recipe for (${versions})`,
    );
  }
  return {
    recipe: lower.recipe,
    spec: lower.spec,
    recipeVersion: lower.version,
    warnings: [`${backend} ${version} has no recipe; using ${lower.version}`],
  };
}

export function defaultBackendVersion(backend: Backend): string {
  return catalogue().defaultVersions[backend];
}

export interface EngineInfo {
  backend: Backend;
  defaultVersion: string;
  /** Releases Berth has a recipe and spec for, oldest first. */
  versions: string[];
}

export function listEngines(): EngineInfo[] {
  return BACKENDS.map((backend) => ({
    backend,
    defaultVersion: defaultBackendVersion(backend),
    versions: known(backend).map((k) => k.version),
  }));
}
