// Turns untrusted deployment input (API body, spec file, state file) into a
// complete Deployment: schema first, then the defaults that depend on other
// fields, then the engine's own argument rules.
import { deploymentInputSchema, REDACTED, type Deployment } from '../contract/deployment.js';
import { defaultBackendVersion } from '../engines/catalogue.js';
import { loraProblem } from '../engines/lora.js';
import { validateBackendArgs } from '../engines/plan.js';
import { badRequest, fromZod } from '../http/errors.js';

export function normalizeDeployment(input: unknown): Deployment {
  const parsed = deploymentInputSchema.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const d = parsed.data;
  for (const [name, value] of Object.entries(d.secretEnv ?? {})) {
    // One value per name: which of the two the engine got would be a guess.
    if (name in d.env) throw badRequest(`secretEnv.${name}: also set in env; give it in one of them`, `secretEnv.${name}`);
    if (value === REDACTED) throw badRequest(`secretEnv.${name}: "${REDACTED}" is what answers show in place of a secret; send its value`, `secretEnv.${name}`);
  }
  // An image only means something to a container; accepted and ignored it would mislead.
  if (d.image !== undefined && d.mode === 'process') throw badRequest('image: only container or auto mode runs an image; set mode to "container"', 'image');
  const deployment: Deployment = {
    ...d,
    servedName: d.servedName ?? [d.name],
    backendVersion: d.backendVersion ?? defaultBackendVersion(d.backend),
  };
  validateBackendArgs(deployment.backend, deployment.backendVersion, deployment.backendArgs);
  const lora = loraProblem(deployment);
  if (lora) throw lora;
  return deployment;
}

/**
 * An update that sends back a spec as answers show it keeps the stored
 * secrets: a REDACTED value in `patch.secretEnv` means "unchanged", so
 * editing another field of a fetched spec never overwrites a token.
 */
export function keepRedactedSecrets(patch: unknown, stored: Deployment): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const secrets = (patch as { secretEnv?: unknown }).secretEnv;
  if (secrets === null || typeof secrets !== 'object' || Array.isArray(secrets)) return patch;
  const kept = Object.fromEntries(
    Object.entries(secrets as Record<string, unknown>).map(([k, v]) => [k, v === REDACTED && stored.secretEnv && k in stored.secretEnv ? stored.secretEnv[k] : v]),
  );
  return { ...patch, secretEnv: kept };
}

/**
 * RFC 7396 JSON merge patch: objects merge recursively, `null` removes a key,
 * anything else (arrays included) replaces.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}
