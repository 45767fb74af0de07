// Closed-loop load with autocannon: `connections` keep-alive connections, each
// sending its next request as soon as the previous response has fully arrived.
import autocannon from 'autocannon';

export type Mode = 'json' | 'stream';

export function chatBody(model: string, mode: Mode): string {
  return JSON.stringify({
    model,
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 16,
    ...(mode === 'stream' ? { stream: true } : {}),
  });
}

/** A response is only a success if it is the whole answer: a truncated stream is not. */
export function completeBody(mode: Mode, body: string): boolean {
  return mode === 'stream' ? body.endsWith('data: [DONE]\n\n') : body.startsWith('{') && body.includes('"choices"');
}

export interface Percentiles {
  p50: number;
  p99: number;
}

/** Nearest-rank percentiles, in the samples' unit. */
export function percentiles(samples: number[]): Percentiles {
  const s = Float64Array.from(samples).sort();
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! : NaN);
  return { p50: at(0.5), p99: at(0.99) };
}

export interface LoadResult extends Percentiles {
  /** Successful (2xx, complete) responses per second. */
  rps: number;
  ok: number;
  /** Empty when every response was a complete 2xx. */
  failures: string[];
}

const is2xx = (status: number) => status >= 200 && status < 300;

export async function load(url: string, opts: { model: string; mode: Mode; connections: number; seconds: number }): Promise<LoadResult> {
  // autocannon checks every body, error bodies included, and tells verifyBody no
  // status. It calls verifyBody synchronously right after emitting 'response' for
  // the same response, so the status seen there is this body's: a mismatch is then
  // exactly an incomplete 2xx, already counted under non2xx otherwise.
  let status = 0;
  const run = autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: chatBody(opts.model, opts.mode),
    connections: opts.connections,
    duration: opts.seconds,
    verifyBody: (body) => !is2xx(status) || completeBody(opts.mode, body),
  });
  // autocannon's own histogram has 1 ms resolution, too coarse for a sub-millisecond
  // proxy hop at concurrency 1, so we keep every 2xx response time (float ms) ourselves.
  const latencies: number[] = [];
  run.on('response', (_client: unknown, code: number, _bytes: number, ms: number) => {
    status = code;
    if (is2xx(code)) latencies.push(ms);
  });
  const r = await run;

  const failures: string[] = [];
  const codes = Object.entries(r.statusCodeStats).filter(([code]) => !code.startsWith('2'));
  if (r.non2xx) failures.push(`${r.non2xx} non-2xx (${codes.map(([c, { count }]) => `${c}×${count}`).join(', ')})`);
  if (r.errors) failures.push(`${r.errors} errors (${r.timeouts} timeouts)`);
  if (r.mismatches) failures.push(`${r.mismatches} incomplete 2xx bodies`);
  const ok = r['2xx'] - r.mismatches;
  if (ok <= 0 && failures.length === 0) failures.push('no responses');
  return { rps: ok / r.duration, ok, failures, ...percentiles(latencies) };
}

/**
 * One row from several rounds of the same point: the round with the median
 * throughput, its latency percentiles with it; successes and failures of all.
 */
export function medianRound<R extends LoadResult>(rounds: R[]): R & { roundsRps: number[] } {
  if (rounds.length === 0) throw new Error('medianRound: no rounds');
  const sorted = [...rounds].sort((a, b) => a.rps - b.rps);
  const mid = sorted[(sorted.length - 1) >> 1]!;
  return {
    ...mid,
    ok: rounds.reduce((n, r) => n + r.ok, 0),
    failures: rounds.flatMap((r) => r.failures),
    roundsRps: rounds.map((r) => Math.round(r.rps)),
  };
}
