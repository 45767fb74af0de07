// Pulls an image through the Engine API and turns its per-layer JSON lines
// into one progress figure: bytes and a percentage over the whole image.
import type { PullProgress } from '../../contract/api.js';
import { LaunchError } from '../launch-error.js';
import { DockerApiError, type DockerApi } from './engine-api.js';

/** One line of POST /images/create's stream (the fields Berth reads). */
export interface PullMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

interface Layer {
  current: number;
  total: number | null;
}

/** Sums the layers' progress. Extraction counts as downloaded: the bytes have arrived. */
export class PullTally {
  private readonly layers = new Map<string, Layer>();

  constructor(readonly image: string) {}

  /** Takes one message; returns true when the figures changed. */
  add(m: PullMessage): boolean {
    if (!m.id || !m.status) return false;
    const layer = this.layers.get(m.id) ?? { current: 0, total: null };
    const before = `${layer.current}/${layer.total}`;
    const status = m.status;
    if (status === 'Downloading' && m.progressDetail) {
      if (typeof m.progressDetail.total === 'number' && m.progressDetail.total > 0) layer.total = m.progressDetail.total;
      if (typeof m.progressDetail.current === 'number') layer.current = m.progressDetail.current;
    } else if (status === 'Download complete' || status === 'Extracting' || status === 'Pull complete' || status === 'Already exists') {
      if (layer.total !== null) layer.current = layer.total;
    } else if (status === 'Pulling fs layer' || status === 'Waiting') {
      // Known to exist, size unknown until it downloads.
    } else {
      return false; // "Pulling from <repo>" and the like carry the tag as id, not a layer
    }
    this.layers.set(m.id, layer);
    return before !== `${layer.current}/${layer.total}`;
  }

  progress(): PullProgress {
    let completed = 0;
    let total = 0;
    let known = false;
    for (const l of this.layers.values()) {
      if (l.total === null) continue;
      known = true;
      total += l.total;
      completed += Math.min(l.current, l.total);
    }
    return {
      image: this.image,
      completedBytes: completed,
      totalBytes: known ? total : null,
      percent: known && total > 0 ? Math.floor((completed / total) * 100) : null,
    };
  }
}

/**
 * Why a pull failed, in plain words, from the registry's message. Docker
 * gives no error code here, only the registry's text, so this is the one
 * place Berth reads a message: each pattern is the registry's own wording.
 */
export function explainPullFailure(image: string, message: string): string {
  let plain: string;
  if (/denied|unauthorized|authentication required|docker login/i.test(message)) {
    plain = 'access denied: the repository does not exist or is private (run `docker login` for a private one)';
  } else if (/manifest unknown|not found|no such image/i.test(message)) {
    plain = 'no such tag in the registry';
  } else if (/dial tcp|no such host|i\/o timeout|tls handshake|connection refused|network is unreachable|timeout|temporary failure in name resolution/i.test(message)) {
    plain = 'the registry cannot be reached (no network, or a proxy in the way)';
  } else {
    plain = 'Docker could not pull it';
  }
  return `cannot pull ${image}: ${plain} (${message.trim()})`;
}

/** `name:tag` / `name@digest` split the way POST /images/create takes it. */
export function splitReference(image: string): { fromImage: string; tag: string | null } {
  const at = image.indexOf('@');
  if (at >= 0) return { fromImage: image.slice(0, at), tag: image.slice(at + 1) };
  const colon = image.lastIndexOf(':');
  if (colon > image.lastIndexOf('/')) return { fromImage: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { fromImage: image, tag: 'latest' };
}

export async function imagePresent(api: DockerApi, image: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await api.json('GET', `/images/${encodeURIComponent(image)}/json`, undefined, { signal });
    return true;
  } catch (err) {
    if (err instanceof DockerApiError && err.status === 404) return false;
    throw err;
  }
}

/**
 * Pulls `image`, calling `onProgress` as the figures change. Rejects with a
 * LaunchError ('EPULL') whose message says why in plain words: before the
 * stream (an HTTP error) or inside it (an `error` line, how Docker reports a
 * registry's refusal after it answered 200).
 */
export async function pullImage(api: DockerApi, image: string, onProgress: (p: PullProgress) => void, signal?: AbortSignal): Promise<void> {
  const tally = new PullTally(image);
  const { fromImage, tag } = splitReference(image);
  const query = new URLSearchParams({ fromImage, ...(tag ? { tag } : {}) });
  let pending = '';
  let failure: string | null = null;
  const take = (line: string) => {
    if (!line.trim()) return;
    let m: PullMessage;
    try {
      m = JSON.parse(line) as PullMessage;
    } catch {
      return;
    }
    if (m.error || m.errorDetail?.message) failure ??= m.errorDetail?.message ?? m.error ?? 'unknown error';
    else if (tally.add(m)) onProgress(tally.progress());
  };
  try {
    await api.stream('POST', `/images/create?${query}`, (chunk) => {
      pending += chunk.toString('utf8');
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      for (const l of lines) take(l);
    }, { signal });
    take(pending);
  } catch (err) {
    if (signal?.aborted) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new LaunchError('EPULL', explainPullFailure(image, message), { cause: err });
  }
  if (failure !== null) throw new LaunchError('EPULL', explainPullFailure(image, failure));
  // A stream that ended early (the daemon restarted) is no image: check.
  if (!(await imagePresent(api, image, signal))) throw new LaunchError('EPULL', `cannot pull ${image}: the pull ended without the image`);
}
