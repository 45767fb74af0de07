// Main's event stream reader against a real HTTP server: parsing, the store,
// reconnects with Last-Event-ID, and a daemon that is not there as a state.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { StreamEvent } from '../../daemon/contract/live.js';
import { followDaemon } from '../../main/daemon-client.js';
import { SseParser, followStream, type LinkState, type SseMessage } from '../../main/event-stream.js';
import { LiveStore, parseStreamMessage } from '../../main/live-store.js';
import { waitFor } from '../helpers/daemon.js';
import { deployment } from './deployments.js';

describe('SseParser', () => {
  it('follows the spec: multi-line data, ids that persist, comments, retry, CRLF split across chunks', () => {
    const p = new SseParser();
    const got: SseMessage[] = [];
    const feed = ': hello\r\nid: 7\r\nevent: snapshot\r\ndata: {"a":\r\ndata: 1}\r\n\r\ndata: no id\r\n\r\nretry: 1500\nevent:x\ndata\n\n';
    // One character at a time: every split point, CR and LF apart included.
    for (const ch of feed) got.push(...p.push(ch));
    assert.deepEqual(got, [
      { id: '7', event: 'snapshot', data: '{"a":\n1}' },
      { id: '7', event: 'message', data: 'no id' },
      { id: '7', event: 'x', data: '' },
    ]);
    assert.equal(p.retryMs, 1500);
  });

  it('dispatches nothing for a block without data, and ignores an id with NUL', () => {
    const p = new SseParser();
    assert.deepEqual(p.push('event: lonely\n\nid: a\0b\ndata: x\n\n'), [{ id: null, event: 'message', data: 'x' }]);
  });
});

const msg = (e: unknown): SseMessage => ({ id: '1', event: 'x', data: JSON.stringify(e) });

describe('LiveStore', () => {
  it('a snapshot replaces everything; created/updated upsert; deleted removes; the rest is ignored', () => {
    const store = new LiveStore();
    const apply = (e: unknown) => {
      const parsed = parseStreamMessage(msg(e));
      if (parsed) store.apply(parsed);
      return parsed !== null;
    };
    const snapshot = { type: 'snapshot', ts: 't', daemon: { version: '0.1.0', apiVersion: 1, startedAt: 't' }, deployments: [deployment('b', 'ready'), deployment('a', 'stopped')], gpus: null, usage: null, stats: [] };
    assert.ok(apply(snapshot));
    assert.deepEqual(store.state.deployments.map((d) => d.name), ['a', 'b'], 'sorted by name');
    assert.equal(store.state.daemon?.version, '0.1.0');
    assert.ok(apply({ type: 'deployment.updated', ts: 't', name: 'a', deployment: deployment('a', 'starting') }));
    assert.ok(apply({ type: 'deployment.created', ts: 't', name: 'c', deployment: deployment('c', 'pending') }));
    assert.deepEqual(store.state.deployments.map((d) => `${d.name}:${d.state}`), ['a:starting', 'b:ready', 'c:pending']);
    assert.ok(apply({ type: 'deployment.deleted', ts: 't', name: 'b' }));
    assert.deepEqual(store.state.deployments.map((d) => d.name), ['a', 'c']);
    assert.ok(apply({ ...snapshot, deployments: [] }));
    assert.deepEqual(store.state.deployments, []);
  });

  it('malformed messages change nothing', () => {
    const bad = [
      'not json',
      { type: 'deployment.updated', ts: 't', name: 'a' },
      { type: 'deployment.updated', ts: 't', name: 'a', deployment: { ...deployment('a', 'ready'), state: 'exploded' } },
      { type: 'snapshot', deployments: 'all of them' },
      { type: 'stats', ts: 't', stats: [] },
    ];
    for (const b of bad) assert.equal(parseStreamMessage(typeof b === 'string' ? { id: null, event: 'x', data: b } : msg(b)), null, JSON.stringify(b));
  });
});

/** A server the test scripts connection by connection. */
async function sseServer(onConnection: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<{ server: Server; port: number; url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    onConnection(req, res, requests.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { server, port, url: `http://127.0.0.1:${port}/api/v1/events`, requests };
}

const sse = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
const send = (res: ServerResponse, id: number, e: StreamEvent | Record<string, unknown>) => res.write(`id: ${id}\nevent: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`);
const snapshotOf = (...names: string[]) => ({ type: 'snapshot', ts: 't', daemon: { version: '0.1.0', apiVersion: 1, startedAt: 't' }, deployments: names.map((n) => deployment(n, 'ready')), gpus: null, usage: null, stats: [] });

describe('followStream against a real server', () => {
  it('reconnects after the stream ends, resuming with Last-Event-ID, and sends the API key', async () => {
    const srv = await sseServer((_req, res, n) => {
      sse(res);
      if (n === 1) {
        send(res, 1, snapshotOf('qwen'));
        send(res, 2, { type: 'deployment.created', ts: 't', name: 'llama', deployment: deployment('llama', 'starting') });
        res.end();
      } else {
        send(res, 3, { type: 'deployment.updated', ts: 't', name: 'llama', deployment: deployment('llama', 'ready') });
      }
    });
    const store = new LiveStore();
    const links: LinkState['kind'][] = [];
    store.subscribe((s) => links.at(-1) !== s.link.kind && links.push(s.link.kind));
    const f = followDaemon({ baseUrl: `http://127.0.0.1:${srv.port}`, apiKey: 'k-123', store, initialRetryMs: 20 });
    try {
      await waitFor(() => store.state.deployments.find((d) => d.name === 'llama' && d.state === 'ready'), 'the delta after the reconnect');
      assert.equal(srv.requests[0]!.headers['last-event-id'], undefined);
      assert.equal(srv.requests[1]!.headers['last-event-id'], '2');
      assert.equal(srv.requests[0]!.headers.authorization, 'Bearer k-123');
      assert.deepEqual(store.state.deployments.map((d) => d.name), ['llama', 'qwen']);
      assert.deepEqual(links.slice(0, 4), ['connecting', 'live', 'lost', 'live']);
    } finally {
      f.close();
      srv.server.closeAllConnections();
      srv.server.close();
    }
  });

  it('nothing listening is the "lost" state, retried until a daemon appears', async () => {
    const srv = await sseServer((_req, res) => {
      sse(res);
      send(res, 1, snapshotOf('qwen'));
    });
    const port = srv.port;
    await new Promise<void>((r) => srv.server.close(() => r()));
    const store = new LiveStore();
    const f = followDaemon({ baseUrl: `http://127.0.0.1:${port}`, apiKey: null, store, initialRetryMs: 20 });
    try {
      const lost = await waitFor(() => (store.state.link.kind === 'lost' ? store.state.link : null), 'the lost state');
      assert.equal(lost.reason, 'nothing listens on the port');
      srv.server.listen(port, '127.0.0.1');
      await waitFor(() => store.state.link.kind === 'live' && store.state.deployments.length === 1, 'live again once the daemon is back');
    } finally {
      f.close();
      srv.server.closeAllConnections();
      srv.server.close();
    }
  });

  it('a connection that goes silent is dropped and reopened', async () => {
    const srv = await sseServer((_req, res, n) => {
      sse(res);
      res.flushHeaders();
      if (n > 1) send(res, 1, snapshotOf('qwen'));
      // The first connection never sends a byte: a hung daemon.
    });
    const store = new LiveStore();
    const f = followStream({
      url: srv.url,
      idleMs: 200,
      initialRetryMs: 20,
      onLink: (l) => store.setLink(l),
      onMessage: (m) => {
        const e = parseStreamMessage(m);
        if (e) store.apply(e);
      },
    });
    try {
      await waitFor(() => store.state.deployments.length === 1, 'the snapshot on the second connection');
      assert.ok(srv.requests.length >= 2);
    } finally {
      f.close();
      srv.server.closeAllConnections();
      srv.server.close();
    }
  });

  it('a refusal (401 without the key) is its own state, with the daemon\'s message', async () => {
    const srv = await sseServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'invalid_api_key', message: 'missing or wrong API key: send Authorization: Bearer <key>' } }));
    });
    const links: LinkState[] = [];
    const f = followStream({ url: srv.url, initialRetryMs: 1000, onLink: (l) => links.push(l), onMessage: () => {} });
    try {
      const refused = await waitFor(() => links.find((l) => l.kind === 'refused'), 'the refused state');
      assert.equal(refused.kind === 'refused' && refused.status, 401);
      assert.match(refused.kind === 'refused' ? refused.message : '', /API key/);
    } finally {
      f.close();
      srv.server.closeAllConnections();
      srv.server.close();
    }
  });
});
