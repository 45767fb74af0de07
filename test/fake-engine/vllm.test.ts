// The vLLM fake over HTTP, spawned through the wrapper with the daemon's argv.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { Fake } from './harness.js';
import { fakeState, freePort, post, sseData, startFake, startVllm, status, VLLM_MODULE, waitFor, waitStatus } from './harness.js';

const chat = (model: string, extra: object = {}) => ({ model, messages: [{ role: 'user', content: 'Say hello' }], ...extra });

describe('vLLM: start-up and routes', () => {
  let f: Fake;
  before(async () => {
    f = await startVllm([], { FAKE_START_DELAY_MS: '150' });
  });
  after(() => f.kill());

  it('refuses connections while loading; /health is 200, empty, once listening', async () => {
    assert.equal(await status(f, '/health'), undefined);
    await waitStatus(f, '/health', 200);
    const r = await fetch(f.url('/health'));
    assert.equal(r.headers.get('content-type'), null);
    assert.equal(await r.text(), '');
    assert.match(f.stdout(), new RegExp(`\\[api_server\\.py:1336\\] Starting vLLM API server on http://127\\.0\\.0\\.1:${f.port}\\n`));
    assert.match(f.stdout(), /non-default args: \{'host': '127\.0\.0\.1', 'port': \d+, 'model': 'Qwen\/Qwen2\.5-0\.5B-Instruct', 'served_model_name': \['qwen', 'qwen-alias'\]\}/);
    assert.match(f.stderr(), new RegExp(`INFO:     Started server process \\[${f.proc.pid}\\]\\nINFO:     Waiting for application startup\\.\\nINFO:     Application startup complete\\.`));
    assert.doesNotMatch(f.stdout() + f.stderr(), /Uvicorn running on/);
  });

  it('/v1/models lists every served name, /version the engine version', async () => {
    const models = (await (await fetch(f.url('/v1/models'))).json()) as { data: { id: string; root: string; owned_by: string }[] };
    assert.deepEqual(models.data.map((m) => [m.id, m.root, m.owned_by]), [['qwen', 'Qwen/Qwen2.5-0.5B-Instruct', 'vllm'], ['qwen-alias', 'Qwen/Qwen2.5-0.5B-Instruct', 'vllm']]);
    assert.deepEqual(await (await fetch(f.url('/version'))).json(), { version: '0.9.0.1' });
  });

  it('chat, non-stream: JSON body with consistent usage', async () => {
    const r = await post(f, '/v1/chat/completions', chat('qwen-alias'));
    assert.equal(r.status, 200);
    assert.equal(r.contentType, 'application/json');
    const body = JSON.parse(r.text) as { id: string; model: string; choices: { message: { content: string }; finish_reason: string }[]; usage: Record<string, number> };
    assert.match(body.id, /^chatcmpl-[0-9a-f]{32}$/);
    assert.equal(body.model, 'qwen-alias');
    assert.equal(body.choices[0]?.finish_reason, 'stop');
    assert.equal(body.choices[0]?.message.content, 'Hello! How can I help you');
    assert.deepEqual(body.usage, { prompt_tokens: 8, total_tokens: 16, completion_tokens: 8, prompt_tokens_details: null });
  });

  it('chat, stream: SSE framing, [DONE], a usage chunk only when asked for', async () => {
    const plain = await post(f, '/v1/chat/completions', chat('qwen', { stream: true, max_tokens: 3 }));
    assert.equal(plain.contentType, 'text/event-stream; charset=utf-8');
    const events = sseData(plain.text);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { choices: { delta: { content?: string }; finish_reason?: string }[]; usage?: unknown });
    assert.equal(chunks.length, 1 + 3); // role chunk + 3 tokens, the last with finish_reason "length"
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'length');
    assert.ok(chunks.every((c) => !('usage' in c)));

    const counted = sseData((await post(f, '/v1/chat/completions', chat('qwen', { stream: true, stream_options: { include_usage: true } }))).text);
    const last = JSON.parse(counted.at(-2) as string) as { choices: unknown[]; usage: Record<string, number> };
    assert.deepEqual(last.choices, []);
    const streamed = counted.slice(1, -2).length; // token chunks between the role chunk and the usage chunk
    assert.deepEqual(last.usage, { prompt_tokens: 8, total_tokens: 8 + streamed, completion_tokens: streamed });
  });

  it('completions stream: every chunk carries usage:null, the last one finish_reason', async () => {
    const events = sseData((await post(f, '/v1/completions', { model: 'qwen', prompt: 'The capital of France is', stream: true })).text);
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { choices: { finish_reason: string | null }[]; usage: null });
    assert.ok(chunks.every((c) => c.usage === null));
    assert.deepEqual(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean), ['stop']);
  });

  it('errors: unknown model 404, invalid JSON 400, unknown route and LoRA routes without the env var', async () => {
    const unknown = await post(f, '/v1/chat/completions', chat('gpt-4o'));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.text, '{"object":"error","message":"The model `gpt-4o` does not exist.","type":"NotFoundError","param":null,"code":404}');
    const bad = await post(f, '/v1/chat/completions', '{not json');
    assert.equal(bad.status, 400);
    assert.equal((JSON.parse(bad.text) as { type: string }).type, 'BadRequestError');
    for (const path of ['/nope', '/v1/load_lora_adapter', '/v1/unload_lora_adapter']) {
      const r = await post(f, path, { lora_name: 'x', lora_path: '/x' });
      assert.deepEqual([r.status, r.text], [404, '{"detail":"Not Found"}'], path);
    }
  });

  it('/metrics counts what was served, in the fixture format', async () => {
    const r = await fetch(f.url('/metrics'));
    assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const text = await r.text();
    const state = await fakeState(f);
    assert.match(text, new RegExp(`^vllm:generation_tokens_total\\{engine="0",model_name="qwen"\\} ${state.completedTokens}\\.0$`, 'm'));
    assert.match(text, /^vllm:request_success_total\{engine="0",finished_reason="length",model_name="qwen"\} 1\.0$/m);
    assert.match(text, /^vllm:num_requests_running\{engine="0",model_name="qwen"\} 0\.0$/m);
    // A histogram as prometheus_client writes one: cumulative buckets, +Inf equal to the count, the sum of what was observed.
    const family = 'vllm:request_generation_tokens';
    const sample = (suffix: string) => [...text.matchAll(new RegExp(`^${family}_${suffix}\\{[^}]*\\} (\\S+)$`, 'gm'))].map((m) => Number(m[1]));
    const buckets = sample('bucket');
    const [count] = sample('count');
    assert.ok(buckets.length > 1 && count! > 0, 'buckets and a count');
    assert.deepEqual([...buckets].sort((a, b) => a - b), buckets, 'cumulative');
    assert.equal(buckets.at(-1), count);
    assert.deepEqual(sample('sum'), [state.completedTokens]);
  });
});

describe('vLLM: runtime LoRA (VLLM_ALLOW_RUNTIME_LORA_UPDATING)', () => {
  let f: Fake;
  before(async () => {
    f = await startVllm(['--enable-lora'], { VLLM_ALLOW_RUNTIME_LORA_UPDATING: 'True' });
    await waitStatus(f, '/health', 200);
  });
  after(() => f.kill());

  it('loads, lists, serves and unloads an adapter with the fixture bodies', async () => {
    assert.match(f.stdout(), /Route: \/v1\/load_lora_adapter, Methods: POST\n.*Route: \/v1\/unload_lora_adapter, Methods: POST\n.*Route: \/metrics/);
    const path = tmpdir();
    const loaded = await post(f, '/v1/load_lora_adapter', { lora_name: 'sql-lora', lora_path: path });
    assert.deepEqual([loaded.status, loaded.contentType, loaded.text], [200, null, "Success: LoRA adapter 'sql-lora' added successfully."]);
    const again = await post(f, '/v1/load_lora_adapter', { lora_name: 'sql-lora', lora_path: path });
    assert.equal(again.text, '{"object":"error","message":"The lora adapter \'sql-lora\' has already been loaded.","type":"InvalidUserInput","param":null,"code":400}');
    const missing = await post(f, '/v1/load_lora_adapter', { lora_name: 'other', lora_path: '/no/such/adapter' });
    assert.equal(missing.status, 404);

    const models = (await (await fetch(f.url('/v1/models'))).json()) as { data: { id: string; root: string; parent: string | null }[] };
    assert.deepEqual(models.data.at(-1), { ...models.data.at(-1), id: 'sql-lora', root: path, parent: 'qwen' });
    const served = await post(f, '/v1/chat/completions', chat('sql-lora'));
    assert.equal((JSON.parse(served.text) as { model: string }).model, 'sql-lora');

    const unloaded = await post(f, '/v1/unload_lora_adapter', { lora_name: 'sql-lora' });
    assert.equal(unloaded.text, "Success: LoRA adapter 'sql-lora' removed successfully.");
    assert.equal((await post(f, '/v1/unload_lora_adapter', { lora_name: 'sql-lora' })).status, 404);
    assert.equal((await post(f, '/v1/chat/completions', chat('sql-lora'))).status, 404);
  });
});

describe('vLLM: failure knobs (independent processes, run side by side)', { concurrency: true }, () => {
  it('a client that disconnects mid-stream stops the generation and is counted as aborted', async () => {
    const f = await startVllm([], { FAKE_TOKENS: '200', FAKE_TOKEN_DELAY_MS: '20' });
    try {
      await waitStatus(f, '/health', 200);
      const ac = new AbortController();
      const r = await fetch(f.url('/v1/chat/completions'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(chat('qwen', { stream: true })),
        signal: ac.signal,
      });
      const reader = (r.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      ac.abort();
      const state = await waitFor(async () => {
        const s = await fakeState(f);
        return s.aborted === 1 ? s : undefined;
      }, 'the abort to be counted');
      assert.deepEqual([state.requests, state.inFlight, state.completedTokens], [1, 0, 0]);
      await waitFor(() => /INFO \S+ \S+ \[async_llm\.py:\d+\] Aborted request chatcmpl-[0-9a-f]{32}\./.test(f.stdout()) || undefined, 'the abort log line');
      const metrics = await (await fetch(f.url('/metrics'))).text();
      assert.match(metrics, /finished_reason="abort",model_name="qwen"\} 1\.0/);
    } finally {
      f.kill();
    }
  });

  it('FAKE_CRASH_AFTER=2: two answers, then a traceback and exit 1', async () => {
    const f = await startVllm([], { FAKE_CRASH_AFTER: '2' });
    await waitStatus(f, '/health', 200);
    assert.equal((await post(f, '/v1/chat/completions', chat('qwen'))).status, 200);
    assert.equal((await post(f, '/v1/completions', { model: 'qwen', prompt: 'x' })).status, 200);
    assert.deepEqual(await f.exited, { code: 1, signal: null });
    assert.match(f.stdout(), /ERROR \S+ \S+ \[core\.py:502\] EngineCore encountered a fatal error\./);
    assert.match(f.stderr(), /RuntimeError: CUDA error: an illegal memory access was encountered\n$/);
  });

  it('FAKE_DIE_AT_REQUEST=2: the second request gets no response byte, the engine exits 1', async () => {
    const f = await startVllm([], { FAKE_DIE_AT_REQUEST: '2' });
    await waitStatus(f, '/health', 200);
    assert.equal((await post(f, '/v1/chat/completions', chat('qwen'))).status, 200);
    await assert.rejects(post(f, '/v1/chat/completions', chat('qwen')));
    assert.deepEqual(await f.exited, { code: 1, signal: null });
  });

  it('FAKE_HTTP_500: inference routes answer the engine error envelope', async () => {
    const f = await startVllm([], { FAKE_HTTP_500: '1' });
    try {
      await waitStatus(f, '/health', 200);
      const r = await post(f, '/v1/chat/completions', chat('qwen'));
      assert.equal(r.status, 500);
      assert.deepEqual(Object.keys(JSON.parse(r.text) as object), ['object', 'message', 'type', 'param', 'code']);
      assert.equal((await post(f, '/v1/chat/completions', chat('nope'))).status, 404, 'the model check still comes first');
    } finally {
      f.kill();
    }
  });

  it('port already taken: the OSError traceback and exit 1', async () => {
    const holder = createServer();
    const port = await freePort();
    await new Promise<void>((r) => holder.listen(port, '127.0.0.1', r));
    try {
      const f = startFake([...VLLM_MODULE, '--model', 'm', '--host', '127.0.0.1', '--port', String(port)], {}, port);
      assert.deepEqual(await f.exited, { code: 1, signal: null });
      assert.match(f.stderr(), /sock\.bind\(addr\)\nOSError: \[Errno 98\] Address already in use\n$/);
    } finally {
      holder.close();
    }
  });
});
