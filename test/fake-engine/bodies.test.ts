// Response bodies and stream sequences against the engine-responses fixtures, byte for byte,
// given the fixtures' ids, timestamps and token split.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Answer } from '../fakes/engine/bodies.js';
import { chatBody, completionBody, modelsBody } from '../fakes/engine/bodies.js';
import type { EngineConfig } from '../fakes/engine/config.js';
import { CHAT_PHRASE, COMPLETION_PHRASE, plan, usage } from '../fakes/engine/generation.js';
import { Metrics, floatToGoString } from '../fakes/engine/metrics.js';
import { responseFixture } from '../fakes/engine/shared.js';
import { chatStream, completionStream } from '../fakes/engine/sse.js';

const created = 1748844472;
// 9 text tokens + EOS = the fixtures' 10 completion tokens, finish_reason "stop".
const vllmChat: Answer = { id: 'chatcmpl-97838b25a8cd42a88ac6fe9b1bd5d0ed', created, model: 'Qwen/Qwen2.5-0.5B-Instruct', gen: plan(CHAT_PHRASE, 10, null, 30) };
const sglangChat: Answer = { id: '9a8b7c6d5e4f40318293a4b5c6d7e8f9', created, model: 'meta-llama/Llama-3.1-8B-Instruct', gen: plan(CHAT_PHRASE, 10, null, 42) };
// max_tokens 10 below the budget: 10 text tokens, finish_reason "length", no EOS.
const vllmCompletion: Answer = { id: 'cmpl-61c020e54b964d5a98fa7527bfcdd378', created, model: 'Qwen/Qwen2.5-0.5B-Instruct', gen: plan(COMPLETION_PHRASE, 16, 10, 7) };

const plain = { includeUsage: false, continuousUsage: false };
const withUsage = { includeUsage: true, continuousUsage: false };
const wire = (events: { data: string }[]) => events.map((e) => e.data).join('');

describe('stream sequences', () => {
  const cases: [string, () => string][] = [
    ['vllm-chat-completions-stream.sse', () => wire(chatStream('vllm', vllmChat, plain))],
    ['vllm-chat-completions-stream-include-usage.sse', () => wire(chatStream('vllm', vllmChat, withUsage))],
    ['vllm-completions-stream.sse', () => wire(completionStream('vllm', vllmCompletion, plain))],
    ['vllm-completions-stream-include-usage.sse', () => wire(completionStream('vllm', vllmCompletion, withUsage))],
    ['sglang-chat-completions-stream.sse', () => wire(chatStream('sglang', sglangChat, plain))],
    ['sglang-chat-completions-stream-include-usage.sse', () => wire(chatStream('sglang', sglangChat, withUsage))],
  ];
  for (const [fixture, build] of cases) it(fixture, () => assert.equal(build(), responseFixture(fixture)));

  it('one token is generated before each token-carrying event, none before [DONE]', () => {
    const events = chatStream('vllm', vllmChat, withUsage);
    assert.equal(events.filter((e) => e.afterToken).length, vllmChat.gen.tokens.length);
    assert.equal(events.at(-1)?.afterToken, false);
  });
});

describe('non-stream bodies', () => {
  it('vllm-chat-completions-nonstream.json', () => assert.equal(JSON.stringify(chatBody('vllm', vllmChat)), responseFixture('vllm-chat-completions-nonstream.json')));
  it('sglang-chat-completions-nonstream.json', () => assert.equal(JSON.stringify(chatBody('sglang', sglangChat)), responseFixture('sglang-chat-completions-nonstream.json')));
  it('vllm-completions-nonstream.json', () => assert.equal(JSON.stringify(completionBody('vllm', vllmCompletion)), responseFixture('vllm-completions-nonstream.json')));

  it('/v1/models cards carry the fixture keys in the fixture order', () => {
    const cfg = { engine: 'vllm', model: 'Qwen/Qwen2.5-0.5B-Instruct', servedNames: ['Qwen/Qwen2.5-0.5B-Instruct'], maxModelLen: 32768 } as EngineConfig;
    const ours = modelsBody(cfg, [{ name: 'sql-lora', path: '/adapters/sql-lora', base: null }]);
    const fixture = JSON.parse(responseFixture('vllm-models-with-lora.json')) as typeof ours;
    const shape = (m: typeof ours) => JSON.stringify(m, (k, v: unknown) => (k === 'created' || k === 'id' && typeof v === 'string' && v.startsWith('modelperm-') ? 0 : v));
    assert.equal(shape(ours), shape(fixture));
  });
});

describe('token accounting', () => {
  it('usage counts what was generated, EOS included', () => {
    const g = plan(CHAT_PHRASE, 8, null, 12);
    assert.equal(g.tokens.length, 8);
    assert.equal(g.tokens.at(-1), '');
    assert.deepEqual(usage(g), { prompt_tokens: 12, total_tokens: 20, completion_tokens: 8 });
    const capped = plan(CHAT_PHRASE, 8, 3, 12);
    assert.deepEqual([capped.tokens.length, capped.finish], [3, 'length']);
  });
});

describe('metrics text', () => {
  it("formats values as prometheus_client's floatToGoString", () => {
    assert.equal(floatToGoString(30), '30.0');
    assert.equal(floatToGoString(1048576), '1.048576e+06');
    assert.equal(floatToGoString(11701968896), '1.1701968896e+010');
    assert.equal(floatToGoString(0.0312), '0.0312');
    assert.equal(floatToGoString(Infinity), '+Inf');
  });

  it('keeps the fixture layout and fills in live counters and buckets', () => {
    const m = new Metrics('vllm', 'qwen', false);
    m.record({ prompt: 30, completion: 10, finish: 'stop', maxTokens: 32738, ttft: 0.03, e2e: 0.09, interToken: Array<number>(9).fill(0.007) });
    const text = m.render(1);
    const fixture = responseFixture('vllm-metrics.txt').split('\n');
    const names = (lines: string[]) => lines.map((l) => l.replace(/ \S+$/, '').replace(/model_name="[^"]*"/, ''));
    // Same series in the same order, minus vllm:lora_requests_info (only with --enable-lora).
    assert.deepEqual(names(text.split('\n')), names(fixture.filter((l) => !l.includes('vllm:lora_requests_info'))));
    assert.match(text, /^vllm:num_requests_running\{engine="0",model_name="qwen"\} 1\.0$/m);
    assert.match(text, /^vllm:generation_tokens_total\{engine="0",model_name="qwen"\} 10\.0$/m);
    assert.match(text, /^vllm:request_success_total\{engine="0",finished_reason="stop",model_name="qwen"\} 1\.0$/m);
    assert.match(text, /^vllm:request_generation_tokens_bucket\{engine="0",le="5\.0",model_name="qwen"\} 0\.0$/m);
    assert.match(text, /^vllm:request_generation_tokens_bucket\{engine="0",le="10\.0",model_name="qwen"\} 1\.0$/m);
    assert.match(text, /^vllm:iteration_tokens_total_sum\{engine="0",model_name="qwen"\} 39\.0$/m);
  });
});
