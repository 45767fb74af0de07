// The engines' official images (resources/containers/images.json): which image a
// container deployment runs and how that image starts its engine. Read once;
// the container spec builder takes what it needs as plain values.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BACKENDS, type Backend } from '../../contract/deployment.js';
import { PACKAGE_ROOT } from '../../package-root.js';

const entrySchema = z
  .object({
    backend: z.enum(BACKENDS),
    version: z.string(),
    image: z.string(),
    tagTemplate: z.string().includes('{version}'),
    /** entrypoint: the image's ENTRYPOINT runs the engine module, Berth passes its flags; command: Berth passes the whole command. */
    runs: z.enum(['entrypoint', 'command']),
    entrypoint: z.array(z.string()).nullable(),
    python: z.string(),
    user: z.string(),
    hfCache: z.string().startsWith('/'),
    why: z.string(),
  })
  .strict();

const catalogueSchema = z.object({ $comment: z.string(), images: z.array(entrySchema), common: z.record(z.string(), z.string()) }).strict();

export type ImageEntry = z.infer<typeof entrySchema>;

let loaded: ImageEntry[] | null = null;

function entries(): ImageEntry[] {
  loaded ??= catalogueSchema.parse(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'resources/containers/images.json'), 'utf8'))).images;
  return loaded;
}

export interface ImageChoice {
  /** The catalogue entry whose start convention applies (the backend's). */
  entry: ImageEntry;
  image: string;
  /** Why the image is not the catalogue's own, when it is not. */
  warning: string | null;
}

/** The image for a backend and version, or the deployment's own `image`, with the backend's start convention. */
export function imageFor(backend: Backend, version: string, override?: string): ImageChoice {
  const entry = entries().find((e) => e.backend === backend);
  if (!entry) throw new Error(`resources/containers/images.json has no image for ${backend}`);
  if (override) {
    return { entry, image: override, warning: override === entry.image ? null : `image ${override} must start like ${entry.image} (${entry.runs === 'entrypoint' ? `its entrypoint runs ${entry.entrypoint?.join(' ')}` : 'no entrypoint: Berth passes the command'})` };
  }
  if (version === entry.version) return { entry, image: entry.image, warning: null };
  const image = entry.tagTemplate.replace('{version}', version);
  return { entry, image, warning: `no catalogued image for ${backend} ${version}; using ${image} by the project's tag convention` };
}

/** Every catalogued image, for the doctor. */
export function catalogueImages(): string[] {
  return entries().map((e) => e.image);
}
