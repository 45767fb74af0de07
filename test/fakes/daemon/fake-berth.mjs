#!/usr/bin/env node
// A stand-in for `berth serve`, for the desktop app's attach-or-spawn tests:
// started the way the app starts the daemon (execPath + entry + `serve`, the
// settings in the environment), it answers GET /api/v1/health as the Health
// contract says, GET /api/v1/events as a stream that opens with an empty
// snapshot, and GET /env with what it was given, so a test can check what
// reached it (and what did not: nothing secret in argv).
// Knobs (environment):
//   FAKE_BERTH_API_VERSION   the apiVersion it claims (default 1)
//   FAKE_BERTH_IGNORE_TERM=1 ignore SIGTERM (only SIGKILL stops it)
//   FAKE_BERTH_FAIL=<text>   print <text> on stderr and exit 1 before listening, like a daemon whose port is taken
import { createServer } from 'node:http';

if (process.argv[2] !== 'serve') {
  console.error(`fake-berth: expected "serve", got ${JSON.stringify(process.argv.slice(2))}`);
  process.exit(2);
}
if (process.env.FAKE_BERTH_FAIL) {
  console.error(`berth serve: ${process.env.FAKE_BERTH_FAIL}`);
  process.exit(1);
}
const port = Number(process.env.BERTH_PORT);
const host = process.env.BERTH_HOST ?? '127.0.0.1';
const started = Date.now();
const server = createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  if (req.url === '/api/v1/health') {
    res.end(JSON.stringify({ status: 'ok', service: 'berth', version: '0.0.0-fake', apiVersion: Number(process.env.FAKE_BERTH_API_VERSION ?? 1), uptimeSeconds: Math.round((Date.now() - started) / 1000) }));
  } else if (req.url === '/api/v1/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const ts = new Date().toISOString();
    const snapshot = { type: 'snapshot', ts, daemon: { version: '0.0.0-fake', apiVersion: 1, startedAt: ts }, deployments: [], gpus: null, usage: null, stats: [] };
    res.write(`id: 1\nevent: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
  } else if (req.url === '/env') {
    const pick = ['ELECTRON_RUN_AS_NODE', 'BERTH_HOST', 'BERTH_PORT', 'BERTH_VLLM_PYTHON', 'BERTH_SGLANG_PYTHON', 'HF_TOKEN'];
    res.end(JSON.stringify({ argv: process.argv.slice(1), env: Object.fromEntries(pick.map((k) => [k, process.env[k] ?? null])), pid: process.pid }));
  } else {
    res.statusCode = 404;
    res.end(JSON.stringify({ error: { code: 'route_not_found', message: `no route ${req.url}` } }));
  }
});
server.listen(port, host, () => console.log(`fake-berth listening on ${host}:${port}`));
process.on('SIGTERM', () => {
  if (process.env.FAKE_BERTH_IGNORE_TERM === '1') {
    console.log('fake-berth: ignoring SIGTERM');
    return;
  }
  console.log('fake-berth: stopping');
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
