// Is a stream passed through as it is generated? Against an engine that paces its
// tokens, an unbuffered proxy delivers the first chunk long before the last and in
// many reads; a buffering one delivers it at about the total time, in few reads.
import { Agent, request } from 'node:http';
import { chatBody, completeBody, percentiles, type Percentiles } from './load.js';

export interface StreamTimings {
  /** Request sent → first body bytes, ms. */
  firstChunk: Percentiles;
  /** Request sent → end of the stream, ms. */
  total: Percentiles;
  /** Median number of socket reads that carried the body. */
  reads: number;
  failures: string[];
}

interface One {
  firstChunk: number;
  total: number;
  reads: number;
}

function once(url: string, body: string, agent: Agent): Promise<One> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let firstChunk = NaN;
      let reads = 0;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (reads++ === 0) firstChunk = performance.now() - t0;
        text += chunk;
      });
      res.on('end', () => {
        const total = performance.now() - t0;
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
        else if (!completeBody('stream', text)) reject(new Error('stream ended without data: [DONE]'));
        else resolve({ firstChunk, total, reads });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    // A proxy that never ends a stream must fail the run, not hang it.
    req.setTimeout(30_000, () => req.destroy(new Error('no data for 30 s')));
    req.end(body);
  });
}

/** `n` sequential streams over one keep-alive connection, after one to open it. */
export async function streamTimings(url: string, model: string, n: number): Promise<StreamTimings> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const body = chatBody(model, 'stream');
  const runs: One[] = [];
  const failures: string[] = [];
  try {
    for (let i = 0; i <= n; i++) {
      try {
        const r = await once(url, body, agent);
        if (i > 0) runs.push(r); // the first pays for the connect
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  } finally {
    agent.destroy();
  }
  return {
    firstChunk: percentiles(runs.map((r) => r.firstChunk)),
    total: percentiles(runs.map((r) => r.total)),
    reads: percentiles(runs.map((r) => r.reads)).p50,
    failures: [...new Set(failures)].map((f) => `${failures.filter((x) => x === f).length}× ${f}`),
  };
}
