import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { scrapeEngine } from '../../daemon/metrics/engine-stats.js';
import { readEngineFixture } from './engine-fixtures.js';

const PROM = 'text/plain; version=0.0.4; charset=utf-8';

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

describe('scrapeEngine', () => {
  // One server plays every engine behaviour, by path.
  const server = createServer((req, res) => {
    switch (req.url) {
      case '/vllm/metrics':
        res.writeHead(200, { 'content-type': PROM }).end(readEngineFixture('vllm-metrics.txt'));
        return;
      case '/sglang/metrics':
        res.writeHead(200, { 'content-type': PROM }).end(readEngineFixture('sglang-metrics.txt'));
        return;
      case '/not-found/metrics':
        // FastAPI's answer for an unmounted route (SGLang without --enable-metrics).
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
        return;
      case '/error/metrics':
        res.writeHead(500).end('Internal Server Error');
        return;
      case '/stall-body/metrics':
        // Headers and part of the body, then nothing: the timeout must cover the body too.
        res.writeHead(200, { 'content-type': PROM });
        res.write('vllm:num_requests_running{engine="0",model_name="m"} 1.0\n');
        return;
      default:
        // '/hang/metrics': accept the connection, never answer.
        return;
    }
  });
  let base = '';
  before(async () => {
    base = await listen(server);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('reads the vLLM gauges from a 200', async () => {
    assert.deepEqual(await scrapeEngine(`${base}/vllm/metrics`, 'vllm'), {
      gauges: { runningRequests: 0, waitingRequests: 0, kvCacheUsage: 0, promptTokensTotal: 30, generationTokensTotal: 10 },
      error: null,
    });
  });

  it('reads the SGLang gauges from a 200', async () => {
    assert.deepEqual(await scrapeEngine(`${base}/sglang/metrics`, 'sglang'), {
      gauges: { runningRequests: 0, waitingRequests: 0, kvCacheUsage: 0, promptTokensTotal: 42, generationTokensTotal: 10 },
      error: null,
    });
  });

  it('explains an SGLang 404 as metrics not enabled', async () => {
    assert.deepEqual(await scrapeEngine(`${base}/not-found/metrics`, 'sglang'), {
      gauges: null,
      error: 'SGLang serves /metrics only with --enable-metrics',
    });
  });

  it('reports other statuses as they are', async () => {
    assert.deepEqual(await scrapeEngine(`${base}/not-found/metrics`, 'vllm'), {
      gauges: null,
      error: 'engine answered HTTP 404 on /metrics',
    });
    assert.deepEqual(await scrapeEngine(`${base}/error/metrics`, 'vllm'), {
      gauges: null,
      error: 'engine answered HTTP 500 on /metrics',
    });
  });

  it('reports a refused connection', async () => {
    const closed = createServer();
    const url = `${await listen(closed)}/metrics`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    assert.deepEqual(await scrapeEngine(url, 'vllm'), {
      gauges: null,
      error: 'connection refused: the engine is not listening',
    });
  });

  it('gives up after the timeout when no answer comes', async () => {
    const t0 = performance.now();
    assert.deepEqual(await scrapeEngine(`${base}/hang/metrics`, 'vllm', 100), {
      gauges: null,
      error: 'no answer from the engine within 100 ms',
    });
    assert.ok(performance.now() - t0 < 1500);
  });

  it('gives up after the timeout when the body stalls', async () => {
    const t0 = performance.now();
    assert.deepEqual(await scrapeEngine(`${base}/stall-body/metrics`, 'vllm', 100), {
      gauges: null,
      error: 'no answer from the engine within 100 ms',
    });
    assert.ok(performance.now() - t0 < 1500);
  });
});
