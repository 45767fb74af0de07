// The chat playground's request, as the page makes it (fetch + the stream
// reader + the chunk interpreter), against a real daemon and the fake engine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DeploymentStatus } from '../../../daemon/contract/api.js';
import { streamChat } from '../../../renderer/src/deployment/chat-request.js';
import type { ChatStreamItem } from '../../../renderer/src/deployment/chat-stream.js';
import { deploymentWhen, startTestDaemon, type TestDaemon, waitFor } from '../../helpers/daemon.js';

describe('chat playground request', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8' });
    for (const spec of [
      { name: 'talk', servedName: ['talk', 'talk-alias'], modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'vllm', env: { FAKE_TOKENS: '12' } },
      { name: 'slow', modelId: 'Qwen/Qwen2.5-0.5B-Instruct', backend: 'sglang', env: { FAKE_TOKENS: '400', FAKE_TOKEN_DELAY_MS: '20' } },
    ]) {
      assert.equal((await d.api('POST', '/api/v1/deployments', spec)).status, 201);
    }
    await deploymentWhen(d, 'talk');
    await deploymentWhen(d, 'slow');
  });
  after(() => d.stop());

  it('streams the answer in pieces, then its usage, and ends at [DONE]; a second turn carries the first', async () => {
    const items: ChatStreamItem[] = [];
    const first = await streamChat({
      baseUrl: d.url,
      model: 'talk-alias',
      messages: [{ role: 'user', content: 'Hello' }],
      signal: new AbortController().signal,
      onItem: (i) => items.push(i),
    });
    assert.deepEqual(first, { kind: 'done' });
    const content = items.filter((i) => i.kind === 'content');
    assert.ok(content.length >= 2, 'the answer arrives in several pieces');
    const usage = items.find((i) => i.kind === 'usage');
    assert.equal(usage?.kind === 'usage' ? usage.completionTokens : null, 12, "the engine's usage reaches the page");
    assert.ok(items.some((i) => i.kind === 'finish'));

    const answer = content.map((i) => (i.kind === 'content' ? i.text : '')).join('');
    const second = await streamChat({
      baseUrl: d.url,
      model: 'talk',
      messages: [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: answer },
        { role: 'user', content: 'And again' },
      ],
      signal: new AbortController().signal,
      onItem: () => {},
    });
    assert.deepEqual(second, { kind: 'done' });
  });

  it("shows the gateway's own message for a model that does not exist", async () => {
    const out = await streamChat({ baseUrl: d.url, model: 'nope', messages: [{ role: 'user', content: 'hi' }], signal: new AbortController().signal, onItem: () => {} });
    assert.equal(out.kind, 'error');
    assert.match(out.kind === 'error' ? out.message : '', /The model `nope` does not exist.*\(HTTP 404\)/);
  });

  it('Stop aborts the request and the engine stops generating', async () => {
    const port = (await d.api<DeploymentStatus>('GET', '/api/v1/deployments/slow')).body.replicas[0]!.port!;
    const engine = async () => (await (await fetch(`http://127.0.0.1:${port}/fake/state`)).json()) as { aborted: number; inFlight: number };
    const before = await engine();
    const ctl = new AbortController();
    let pieces = 0;
    const out = await streamChat({
      baseUrl: d.url,
      model: 'slow',
      messages: [{ role: 'user', content: 'tell me a long story' }],
      signal: ctl.signal,
      onItem: (i) => {
        if (i.kind === 'content' && ++pieces === 3) ctl.abort();
      },
    });
    assert.deepEqual(out, { kind: 'stopped' });
    await waitFor(async () => {
      const s = await engine();
      return s.aborted === before.aborted + 1 && s.inFlight === 0;
    }, 'the engine to see the request aborted');
  });

  it('says the daemon is unreachable when nothing listens', async () => {
    const out = await streamChat({ baseUrl: 'http://127.0.0.1:9', model: 'talk', messages: [], signal: new AbortController().signal, onItem: () => {} });
    assert.deepEqual(out, { kind: 'error', message: 'the Berth daemon could not be reached' });
  });
});
