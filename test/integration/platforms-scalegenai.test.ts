// ScaleGenAI's inference API against a real daemon and the fake engine: the
// published example (its extra brace removed) deploys asleep and the first
// request starts it on four GPUs; embedding mode answers /v1/embeddings; the
// chat template reaches the engine as a file; hf_token reaches the engine's
// environment and nowhere else; TTFT above the band adds a replica; every
// failure answers {"success":false,"message"}.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { DeploymentStatus } from '../../daemon/contract/api.js';
import { deploymentWhen, EventLog, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const EXAMPLE = JSON.parse(readFileSync(new URL('../fixtures/platforms/scalegenai-create-example.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const PUBLISHED = readFileSync(new URL('../fixtures/platforms/scalegenai-create-example.published.txt', import.meta.url), 'utf8');

interface Envelope<T = unknown> {
  success: boolean;
  message: T;
}

/** A small deployment that starts at once: no GPU, one replica. */
const small = (name: string, over: Record<string, unknown> = {}) => ({
  name,
  model: 'BAAI/bge-small-en-v1.5',
  engine: 'vllm',
  initial_worker_config: { min_workers: 1, max_workers: 1, initial_workers_gpu_num: 0 },
  ...over,
});

const create = (d: TestDaemon, body: unknown, headers: Record<string, string> = {}) => d.api<Envelope<{ inf_id: string }>>('POST', '/sg_inf/create', body, headers);

function assertFailure(r: { status: number; body: Envelope }, status: number, message: RegExp): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.success, false);
  assert.equal(typeof r.body.message, 'string');
  assert.match(r.body.message as string, message);
}

const engineState = async (port: number | null) =>
  (await (await fetch(`http://127.0.0.1:${port}/fake/state`)).json()) as { argv: string[]; env: Record<string, string> };

/** The UI's event stream up to its snapshot of `name`. */
async function eventSnapshot(d: TestDaemon, name: string): Promise<string> {
  const ctl = new AbortController();
  const r = await fetch(`${d.url}/api/v1/events`, { signal: ctl.signal });
  const reader = r.body!.getReader();
  let text = '';
  while (!text.includes(`"name":"${name}"`)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
  }
  ctl.abort();
  return text;
}

function post(d: TestDaemon, path: string, body: unknown) {
  return fetch(d.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('ScaleGenAI on one machine', () => {
  let d: TestDaemon;
  const logged: string[] = [];
  const token = 'hf_tOkEn_never_shown_42';
  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    d = await startTestDaemon({ machine: 'h100x8', env: { FAKE_ECHO_ENV: 'HF_TOKEN' }, log: pino({ level: 'trace' }, sink) });
  });
  after(() => d.stop());

  it('the published example (its extra brace removed) deploys asleep; the first request starts it on 4 GPUs', async () => {
    const bad = await fetch(`${d.url}/sg_inf/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: PUBLISHED });
    assertFailure({ status: bad.status, body: (await bad.json()) as Envelope }, 400, /not valid JSON/);

    const created = await create(d, EXAMPLE);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.success, true);
    const id = created.body.message.inf_id;
    const asleep = await d.api<Envelope<Record<string, unknown>>>('GET', `/sg_inf/${id}`);
    assert.equal(asleep.body.message.status, 'sleeping', 'scale_to_zero with min_workers 0');

    const chat = await post(d, '/v1/chat/completions', { model: 'meta-llama/Llama-3.1-70B-Instruct', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(chat.status, 200);
    assert.equal(chat.headers.get('x-berth-served-by'), 'llama-70b-dep');
    await chat.arrayBuffer();
    const s = (await d.api<DeploymentStatus>('GET', '/api/v1/deployments/llama-70b-dep')).body;
    const replica = s.replicas.find((r) => r.state === 'ready')!;
    assert.equal(replica.gpus.length, 4);
    assert.match((await engineState(replica.port)).argv.join(' '), /--tensor-parallel-size 4 --max-model-len 32000/);

    const shown = await d.api<Envelope<Record<string, unknown>>>('GET', `/sg_inf/${id}`);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.message.inf_id, id);
    assert.equal(shown.body.message.status, 'ready');
    assert.deepEqual(shown.body.message.cloud_providers, EXAMPLE.cloud_providers, 'cloud fields kept as given');
    const na = (shown.body.message.not_applicable as { field: string; reason: string }[]).map((f) => f.field);
    for (const f of ['cloud_providers', 'controller_cloud_config', 'allow_spot_instances', 'initial_worker_config.initial_workers_gpu']) assert.ok(na.includes(f), f);

    const deleted = await d.api<Envelope<string>>('DELETE', `/sg_inf/${id}`);
    assert.equal(deleted.status, 200);
    assert.equal(deleted.body.success, true);
    assert.equal((await d.api('GET', '/api/v1/deployments/llama-70b-dep')).status, 404);
    assertFailure(await d.api('GET', `/sg_inf/${id}`), 404, /no inference deployment/);
  });

  it('embedding mode serves /v1/embeddings', async () => {
    const created = await create(d, small('embed', { inf_type: 'embedding' }));
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const ready = await deploymentWhen(d, 'embed');
    assert.match((await engineState(ready.replicas[0]!.port)).argv.join(' '), /--task embed --no-enable-lora/);
    const r = await post(d, '/v1/embeddings', { model: 'embed', input: ['a', 'b'] });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { data: { embedding: number[] }[] };
    assert.equal(body.data.length, 2);
    assert.equal((await d.api('DELETE', `/sg_inf/${created.body.message.inf_id}`)).status, 200);
  });

  it('a custom chat template reaches the engine as a file in the state dir, gone with the deployment', async () => {
    const created = await create(d, small('templated', { custom_chat_template: '{% for m in messages %}{{ m.content }}{% endfor %}' }));
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const id = created.body.message.inf_id;
    const file = join(d.home, 'chat-templates', `${id}.jinja`);
    assert.equal(readFileSync(file, 'utf8'), '{% for m in messages %}{{ m.content }}{% endfor %}');
    const ready = await deploymentWhen(d, 'templated');
    const argv = (await engineState(ready.replicas[0]!.port)).argv;
    assert.equal(argv[argv.indexOf('--chat-template') + 1], file);
    assert.equal((await d.api('DELETE', `/sg_inf/${id}`)).status, 200);
    assert.equal(existsSync(file), false);
  });

  it('hf_token reaches the engine as HF_TOKEN, and never argv, logs, the state answers or GET', async () => {
    const created = await create(d, small('gated', { hf_token: token }));
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const id = created.body.message.inf_id;
    const ready = await deploymentWhen(d, 'gated');
    const engine = await engineState(ready.replicas[0]!.port);
    assert.equal(engine.env.HF_TOKEN, token);
    assert.ok(!engine.argv.join(' ').includes(token));

    const shown = await d.api<Envelope<Record<string, unknown>>>('GET', `/sg_inf/${id}`);
    assert.equal(shown.body.message.hf_token, '<redacted>');
    const answers = [
      JSON.stringify(shown.body),
      JSON.stringify((await d.api('GET', '/api/v1/deployments/gated')).body),
      JSON.stringify((await d.api('GET', '/api/v1/deployments')).body),
      await eventSnapshot(d, 'gated'),
    ];
    const plan = await d.api<{ env: Record<string, string> }>('POST', '/api/v1/plan', { ...ready.spec, secretEnv: { HF_TOKEN: token } });
    assert.equal(plan.status, 200, JSON.stringify(plan.body));
    assert.equal(plan.body.env.HF_TOKEN, '<redacted>');
    answers.push(JSON.stringify(plan.body));
    for (const a of answers) assert.ok(!a.includes(token), a.slice(0, 200));
    assert.deepEqual(ready.spec.secretEnv, { HF_TOKEN: '<redacted>' });
    assert.ok(logged.length > 0, 'the daemon logged at all');
    assert.ok(!logged.join('').includes(token), 'not in the daemon log');
    const log = readFileSync(join(d.home, 'logs', 'gated', `${ready.replicas[0]!.id}.log`), 'utf8');
    assert.ok(!log.includes(token), 'not in the engine log');

    // Kept for the next daemon, in a file only its owner reads.
    const stateFile = join(d.home, 'deployments.json');
    assert.ok(readFileSync(stateFile, 'utf8').includes(token));
    assert.equal(statSync(stateFile).mode & 0o077, 0);

    // Sending the answer back unchanged (as an edit form would) keeps the token.
    const patched = await d.api<DeploymentStatus>('PATCH', '/api/v1/deployments/gated', { secretEnv: { HF_TOKEN: '<redacted>' }, env: { X: '1' } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    const again = await deploymentWhen(d, 'gated', (s) => s.state === 'ready' && s.replicas.some((r) => r.state === 'ready'));
    const restarted = await engineState(again.replicas.find((r) => r.state === 'ready')!.port);
    assert.equal(restarted.env.HF_TOKEN, token);
    assert.equal((await d.api('DELETE', `/sg_inf/${id}`)).status, 200);
  });

  it('bad bodies, unknown ids and routes answer {"success":false,"message"} naming the field', async () => {
    assertFailure(await create(d, small('x', { gpu_count: 1 })), 400, /^gpu_count: not a field/);
    assertFailure(await create(d, small('x', { engine: 'tgi' })), 400, /^engine: /);
    assertFailure(await create(d, small('x', { model: 'a b' })), 400, /^model: /);
    assertFailure(await create(d, small('x', { autoscaling_config: { autoscaling_strategy: 'queue' } })), 400, /^autoscaling_config\.autoscaling_strategy: /);
    assertFailure(await create(d, small('x', { initial_worker_config: { initial_workers_gpu: 'B200', initial_workers_gpu_num: 1, use_other_gpus: false } })), 409, /^initial_worker_config\.initial_workers_gpu_num: .*B200/);
    assertFailure(await create(d, [1]), 400, /^body: /);
    assertFailure(await d.api('GET', '/sg_inf/no-such-id'), 404, /^inference_id: /);
    assertFailure(await d.api('DELETE', '/sg_inf/no-such-id'), 404, /^inference_id: /);
    assertFailure(await d.api('GET', '/sg_inf/create'), 405, /POST/);
    assertFailure(await d.api('GET', '/sg_inf/a/b'), 404, /no route/);
    const taken = await create(d, small('twice'));
    assert.equal(taken.status, 200);
    assertFailure(await create(d, small('twice')), 409, /^name: .*already exists/);
    assert.equal((await d.api('DELETE', `/sg_inf/${taken.body.message.inf_id}`)).status, 200);
  });
});

describe('ScaleGenAI with an API key', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8', settings: { apiKey: 'k-9' } });
  });
  after(() => d.stop());

  it('needs Berth\'s key as a Bearer token, checked before the body is read', async () => {
    assertFailure(await create(d, small('locked')), 401, /API key/);
    const r = await fetch(`${d.url}/sg_inf/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as Envelope).success, false);
    const ok = await create(d, small('locked'), { authorization: 'Bearer k-9' });
    assert.equal(ok.status, 200);
    assert.equal((await d.api('DELETE', `/sg_inf/${ok.body.message.inf_id}`, undefined, { authorization: 'Bearer k-9' })).status, 200);
  });
});

describe('ScaleGenAI ttft_latency_sec strategy', () => {
  it('slow first tokens add a replica, up to max_workers', async () => {
    // Every token takes 300 ms: the engine's TTFT is far above the 0.1 s band.
    const d = await startTestDaemon({ machine: 'h100x8', settings: { scaleIntervalMs: 200 }, env: { FAKE_TOKEN_DELAY_MS: '300', FAKE_TOKENS: '2' } });
    try {
      const events = new EventLog(d);
      const created = await create(d, {
        name: 'slow',
        model: 'Qwen/Qwen2.5-0.5B-Instruct',
        engine: 'vllm',
        initial_worker_config: { min_workers: 1, max_workers: 2, initial_workers_gpu: 'H100', initial_workers_gpu_num: 1 },
        autoscaling_config: { autoscaling_strategy: 'ttft_latency_sec', upper_allowed_latency_sec: 0.1, lower_allowed_latency_sec: 0.01, time_window_sec: 600 },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      await deploymentWhen(d, 'slow');
      const r = await post(d, '/v1/chat/completions', { model: 'slow', stream: true, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(r.status, 200);
      await r.arrayBuffer();
      await events.find((e) => e.type === 'deployment.scale' && e.name === 'slow' && e.to === 2, 'slow scaled to 2');
      const s = await deploymentWhen(d, 'slow', (x) => x.replicas.filter((rep) => rep.state === 'ready').length === 2, 'two ready replicas');
      assert.equal(s.spec.scale.max, 2);
    } finally {
      await d.stop();
    }
  });
});
