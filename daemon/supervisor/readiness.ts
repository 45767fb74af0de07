// Decides when a starting engine is ready. Each engine has its own truth:
// vLLM 0.9 never prints "Uvicorn running on" and refuses connections until
// ready, so GET /health == 200 is the signal; SGLang's /health answers before
// warm-up ends, so only its ready log line or /health_generate count.
import type { Readiness } from '../contract/api.js';
import { stripAnsi } from '../logs/ansi.js';

export interface HttpProbe {
  /** Resolves to the status code, or null when no HTTP answer came. */
  (url: string, signal: AbortSignal): Promise<number | null>;
}

export const fetchProbe: HttpProbe = async (url, signal) => {
  // A controller of our own per probe: tying fetch to the long-lived start
  // signal directly would pile one listener per poll onto it.
  const ctl = new AbortController();
  const abort = () => ctl.abort();
  signal.addEventListener('abort', abort, { once: true });
  const timer = setTimeout(abort, 5_000);
  try {
    const res = await fetch(url, { signal: ctl.signal });
    await res.body?.cancel();
    return res.status;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', abort);
  }
};

export function lineSignalsReady(readiness: Readiness, line: string): boolean {
  return readiness.logLine !== null && stripAnsi(line).includes(readiness.logLine);
}

/**
 * Polls the readiness URL until it answers with the expected status or
 * `signal` aborts. An answer counts only while `isEngine()` says the port is
 * the engine's: another program may have bound it first.
 */
export async function pollHttpReady(
  readiness: Readiness,
  baseUrl: string,
  intervalMs: number,
  signal: AbortSignal,
  probe: HttpProbe = fetchProbe,
  isEngine: () => boolean = () => true,
): Promise<boolean> {
  const http = readiness.http;
  if (!http) return new Promise<boolean>((resolve) => signal.addEventListener('abort', () => resolve(false), { once: true }));
  while (!signal.aborted) {
    if ((await probe(baseUrl + http.path, signal)) === http.status && !signal.aborted && isEngine()) return true;
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      const t = setTimeout(wake, intervalMs);
      signal.addEventListener('abort', wake, { once: true });
    });
  }
  return false;
}
