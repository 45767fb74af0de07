// Turns untrusted deployment input (API body, spec file, state file) into a
// complete Deployment: schema first, then the defaults that depend on other
// fields, then the engine's own argument rules.
import { deploymentInputSchema, type Deployment } from '../contract/deployment.js';
import { defaultBackendVersion } from '../engines/catalogue.js';
import { validateBackendArgs } from '../engines/plan.js';
import { badRequest, fromZod } from '../http/errors.js';

export function normalizeDeployment(input: unknown): Deployment {
  const parsed = deploymentInputSchema.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const d = parsed.data;
  // An image only means something to a container; accepted and ignored it would mislead.
  if (d.image !== undefined && d.mode === 'process') throw badRequest('image: only container or auto mode runs an image; set mode to "container"', 'image');
  const deployment: Deployment = {
    ...d,
    servedName: d.servedName ?? [d.name],
    backendVersion: d.backendVersion ?? defaultBackendVersion(d.backend),
  };
  validateBackendArgs(deployment.backend, deployment.backendVersion, deployment.backendArgs);
  return deployment;
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
