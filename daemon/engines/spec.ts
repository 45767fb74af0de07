// Typed access to an engine CLI spec (resources/engines/<engine>-<version>.json).
// The specs were produced by introspecting each engine's own argparse parser at
// its release tag; Berth treats them as the truth about what a flag is. Only the
// fields Berth reads are validated; the rest (notes, endpoints, metrics) stay in
// the file for people.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BACKENDS } from '../contract/deployment.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { compareVersions } from './versions.js';

/** Where the spec copies and catalogue.json live (production has no ../shared). */
export const ENGINE_RESOURCES_DIR = join(PACKAGE_ROOT, 'resources/engines');

const choice = z.union([z.string(), z.number()]);

const flagSchema = z.object({
  /** Canonical name: the first option string argparse registered. */
  name: z.string().min(1),
  /** Other option strings of the same action, in registration order (`-tp`, `--tp-size`). */
  aliases: z.array(z.string()),
  /** Berth's summary of the Python type; `parserType` is the callable argparse calls. */
  type: z.string(),
  parserType: z.string().nullable(),
  action: z.string(),
  nargs: z.union([z.null(), z.int().min(0), z.enum(['?', '*', '+'])]),
  choices: z.array(choice).nullable(),
  const: z.unknown().optional(),
  required: z.boolean().optional(),
  positional: z.boolean().optional(),
  /** BooleanOptionalAction's `--no-` spelling. */
  negatedForm: z.string().optional(),
  /** Entrypoint ids whose parser has this flag; absent = every entrypoint. */
  entrypoints: z.array(z.string()).optional(),
  /** First release (of the versions this spec covers) whose parser has the flag. */
  availableFrom: z.string().optional(),
  changedIn: z.array(z.object({ version: z.string(), field: z.literal('choices'), value: z.array(choice) })).optional(),
  deprecated: z.boolean().optional(),
  /** argparse's default, as the introspection printed it (null: none, or computed at run time). */
  default: z.unknown().optional(),
});

const specSchema = z.object({
  engine: z.enum(BACKENDS),
  version: z.string(),
  entrypoints: z.array(z.object({ id: z.string(), argv: z.array(z.string()) })).min(1),
  defaultPort: z.int(),
  argParsing: z.object({ parser: z.string() }),
  flags: z.array(flagSchema).min(1),
  /** Later releases this spec also describes (SGLang's 0.4.6.postN), oldest first. */
  postReleaseChanges: z.array(z.object({ version: z.string() })).optional(),
  lora: z.object({
    maxLoraRankAllowed: z.array(z.int()).optional(),
    maxLoraRankValidation: z.string().optional(),
    /** Keys are a version or a range like `0.4.6.post2..post5`. */
    requiredCompanionFlags: z.record(z.string(), z.array(z.string())).optional(),
    assertMessage: z.string().optional(),
  }),
  readyLogLine: z.string(),
});

export type EngineSpec = z.infer<typeof specSchema>;
export type SpecFlag = z.infer<typeof flagSchema>;

const cache = new Map<string, EngineSpec>();

/** Loads and validates `resources/engines/<file>`; each file is read once per process. */
export function loadSpec(file: string): EngineSpec {
  let spec = cache.get(file);
  if (!spec) {
    const raw: unknown = JSON.parse(readFileSync(join(ENGINE_RESOURCES_DIR, file), 'utf8'));
    const parsed = specSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`engine spec ${file}: ${z.prettifyError(parsed.error)}`);
    spec = parsed.data;
    cache.set(file, spec);
  }
  return spec;
}

/** Every release the spec describes exactly, oldest first. */
export function specVersions(spec: EngineSpec): string[] {
  const versions = [spec.version, ...(spec.postReleaseChanges ?? []).map((c) => c.version)];
  return versions.sort(compareVersions);
}
