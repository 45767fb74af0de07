// Reads one engine's /metrics for the stats API. The parsing is pure and lives
// in engines/metrics-scrape.ts; this file owns only the HTTP call and turns
// every way it can fail into a sentence for the UI, never a throw: one
// unreachable replica must not fail the stats of the others.
import type { Backend } from '../contract/deployment.js';
import type { EngineGauges } from '../contract/stats.js';
import { engineGauges } from '../engines/metrics-scrape.js';

export interface EngineScrape {
  gauges: EngineGauges | null;
  /** Why gauges is null, in plain words; null on success. */
  error: string | null;
}

/**
 * GETs `url` (the engine's /metrics, e.g. `http://127.0.0.1:8001/metrics`) and
 * extracts the gauges. `timeoutMs` bounds the whole exchange, body included:
 * the stats view polls, and a wedged engine that accepts the connection but
 * never answers must not hold the request open.
 */
export async function scrapeEngine(url: string, backend: Backend, timeoutMs = 2000): Promise<EngineScrape> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { signal, headers: { accept: 'text/plain' } });
    if (!res.ok) {
      await res.body?.cancel();
      // SGLang 0.4.6 mounts /metrics only with --enable-metrics; without it the
      // route is FastAPI's plain 404. vLLM always serves it, so its 404 is odd.
      if (res.status === 404 && backend === 'sglang') {
        return { gauges: null, error: 'SGLang serves /metrics only with --enable-metrics' };
      }
      return { gauges: null, error: `engine answered HTTP ${res.status} on /metrics` };
    }
    return { gauges: engineGauges(backend, await res.text()), error: null };
  } catch (err) {
    // Checked on the signal, not the error: fetch rejects with the signal's
    // reason, which differs between the connect and body phases.
    if (signal.aborted) return { gauges: null, error: `no answer from the engine within ${timeoutMs} ms` };
    const code = errorCode(err);
    if (code === 'ECONNREFUSED') return { gauges: null, error: 'connection refused: the engine is not listening' };
    if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') {
      return { gauges: null, error: 'the engine closed the connection' };
    }
    // Shown, never matched on: the message only helps a person read it.
    const detail = code ?? (err as { cause?: { message?: unknown } } | null)?.cause?.message ?? 'unknown error';
    return { gauges: null, error: `could not reach the engine (${String(detail)})` };
  }
}

/**
 * Node's fetch wraps the socket error: TypeError('fetch failed') with the
 * system error as `cause`; where localhost resolves to both ::1 and 127.0.0.1
 * the cause is an AggregateError holding one error per address.
 */
function errorCode(err: unknown): string | null {
  const cause = (err as { cause?: unknown } | null)?.cause ?? err;
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const first = (cause as { errors?: unknown[] } | null)?.errors?.[0];
  const inner = (first as { code?: unknown } | undefined)?.code;
  return typeof inner === 'string' ? inner : null;
}
