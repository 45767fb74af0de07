// The official openai client against Berth's /v1, with fake engines behind it.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI, { NotFoundError } from 'openai';
import type { DeploymentStatus } from '../../daemon/contract/api.js';
import { deploymentWhen, startTestDaemon, type TestDaemon, waitFor } from '../helpers/daemon.js';

describe('gateway with the openai SDK', () => {
  let d: TestDaemon;
  let client: OpenAI;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8' });
    for (const spec of [
      { name: 'chat', servedName: ['chat', 'chat-alias'], modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', env: { FAKE_TOKENS: '6' } },
      { name: 'sg', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'sglang', backendArgs: ['--lora-paths', 'sql=/loras/sql', '--disable-radix-cache', '--disable-cuda-graph'] },
      { name: 'slow', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', env: { FAKE_TOKENS: '400', FAKE_TOKEN_DELAY_MS: '20' } },
    ]) {
      assert.equal((await d.api('POST', '/api/v1/deployments', spec)).status, 201);
    }
    for (const name of ['chat', 'sg', 'slow']) {
      await deploymentWhen(d, name);
    }
    client = new OpenAI({ baseURL: `${d.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => d.stop());

  it('lists every served name with Berth state', async () => {
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id).sort();
    assert.deepEqual(ids.filter((id) => id !== 'pirate'), ['chat', 'chat-alias', 'sg', 'slow', 'sql']);
    const chat = page.data.find((m) => m.id === 'chat') as unknown as { owned_by: string; berth: { state: string; deployment: string } };
    assert.equal(chat.berth.state, 'ready');
    assert.equal(chat.berth.deployment, 'chat');
  });

  it('passes the query string on to the engine as the client sent it', async () => {
    const target = '/v1/chat/completions?trace=abc%20x&n=1';
    const r = await fetch(`${d.url}${target}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(r.status, 200);
    await r.text();
    // The engine's own access log (uvicorn's line) says what reached it.
    await waitFor(async () => {
      const logs = await d.api<{ lines: string[] }>('GET', '/api/v1/deployments/chat/logs?tail=200', undefined, { accept: 'application/json' });
      return logs.body.lines.some((l) => l.includes(`"POST ${target} HTTP/1.1" 200`));
    }, 'the engine to log the target it was sent');
  });

  it('answers a chat completion through any served name', async () => {
    const r = await client.chat.completions.create({ model: 'chat-alias', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.model, 'chat-alias');
    assert.ok(r.choices[0]!.message.content!.length > 0);
    assert.equal(r.usage!.completion_tokens, 6);
  });

  it('streams a chat completion chunk by chunk, ending as the engine ends', async () => {
    const stream = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    assert.ok(chunks.length >= 7);
    assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
    assert.ok(chunks.every((c) => c.choices.length > 0), 'no usage chunk the client did not ask for');
    assert.ok(chunks.at(-1)!.choices[0]!.finish_reason, 'the last chunk carries the finish reason');
  });

  it('passes the usage chunk when the client asks for it', async () => {
    const stream = await client.chat.completions.create({
      model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    assert.equal(chunks.at(-1)!.choices.length, 0);
    assert.equal(chunks.at(-1)!.usage!.completion_tokens, 6);
  });

  it('answers completions and embeddings', async () => {
    const c = await client.completions.create({ model: 'chat', prompt: 'Say hi' });
    assert.equal(c.object, 'text_completion');
    const e = await client.embeddings.create({ model: 'chat', input: ['a', 'b'] });
    assert.equal(e.data.length, 2);
    assert.ok(e.data[0]!.embedding.length > 0);
  });

  it('routes to a LoRA adapter a vLLM engine loaded at run time', async () => {
    const port = (await d.api<DeploymentStatus>('GET', '/api/v1/deployments/chat')).body.replicas[0]!.port!;
    // vLLM refuses an adapter path that does not exist.
    const loraPath = mkdtempSync(join(tmpdir(), 'berth-lora-'));
    const loaded = await fetch(`http://127.0.0.1:${port}/v1/load_lora_adapter`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lora_name: 'pirate', lora_path: loraPath }),
    });
    assert.equal(loaded.status, 200);
    const r = await client.chat.completions.create({ model: 'pirate', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.model, 'pirate');
    const card = (await client.models.list()).data.find((m) => m.id === 'pirate') as unknown as { parent: string; root: string };
    assert.equal(card.parent, 'chat');
    assert.equal(card.root, loraPath);
  });

  it('selects an SGLang adapter by model, as with vLLM', async () => {
    const r = await client.chat.completions.create({ model: 'sql', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.model, 'sql');
  });

  it('surfaces an unknown model as the SDK\'s NotFoundError naming the models that exist', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.code, 'model_not_found');
      assert.equal(err.param, 'model');
      assert.match(err.message, /The model `nope` does not exist\. Available models: chat, chat-alias, pirate, sg, sql, slow/);
      return true;
    });
  });

  it('passes stream chunks on while the engine is still generating (no buffering)', async () => {
    const port = (await d.api<DeploymentStatus>('GET', '/api/v1/deployments/slow')).body.replicas[0]!.port!;
    const res = await fetch(`${d.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 50 }),
    });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /^data: \{/);
    // The client holds a chunk while the engine has not finished: nothing waited for the end.
    const engine = (await (await fetch(`http://127.0.0.1:${port}/fake/state`)).json()) as { inFlight: number };
    assert.equal(engine.inFlight, 1);
    await reader.cancel();
  });

  it('an aborted stream stops the engine generating', async () => {
    const port = (await d.api<DeploymentStatus>('GET', '/api/v1/deployments/slow')).body.replicas[0]!.port!;
    const engineState = async () =>
      (await (await fetch(`http://127.0.0.1:${port}/fake/state`)).json()) as { aborted: number; inFlight: number; completedTokens: number };
    const before = await waitFor(async () => {
      const s = await engineState();
      return s.inFlight === 0 ? s : null;
    }, 'engine idle');
    const ctl = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'slow', messages: [{ role: 'user', content: 'hi' }], stream: true },
      { signal: ctl.signal },
    );
    let n = 0;
    try {
      for await (const _ of stream) if (++n === 3) ctl.abort();
    } catch {
      /* the SDK may end the iteration quietly or throw an abort error */
    }
    // Chunks the client had already read before the abort may still be yielded
    // by the SDK (a loaded machine delivers several per read): what Berth owes
    // is that the engine stops generating, asserted below.
    assert.ok(n >= 3, 'the stream was aborted mid-way');
    const state = await waitFor(async () => {
      const s = await engineState();
      return s.aborted === before.aborted + 1 && s.inFlight === 0 ? s : null;
    }, 'engine to see the abort');
    assert.ok(state.completedTokens - before.completedTokens < 400, 'generation stopped early');
  });

  it('rejects malformed requests before they reach an engine, in OpenAI\'s shape', async () => {
    const post = (body: string) =>
      fetch(`${d.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const bad = await post('{"model":');
    assert.equal(bad.status, 400);
    const badBody = (await bad.json()) as { error: { type: string; code: string } };
    assert.equal(badBody.error.type, 'invalid_request_error');
    const missing = await post('{"messages":[]}');
    assert.equal(missing.status, 400);
    assert.equal(((await missing.json()) as { error: { param: string } }).error.param, 'model');
    const huge = await post(JSON.stringify({ model: 'chat', prompt: 'x'.repeat(33 * 1024 * 1024) }));
    assert.equal(huge.status, 413);
  });
});
