// What the chat playground shows for each event the engines stream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { httpErrorMessage, interpretChunk, turnMetrics } from '../../../renderer/src/deployment/chat-stream.js';

describe('interpretChunk', () => {
  it("reads vLLM's chunks: role, content with the finish reason, then the usage chunk", () => {
    assert.deepEqual(interpretChunk('{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}'), []);
    assert.deepEqual(interpretChunk('{"choices":[{"index":0,"delta":{"content":" world","tool_calls":[]},"finish_reason":"stop"}]}'), [
      { kind: 'content', text: ' world' },
      { kind: 'finish', reason: 'stop' },
    ]);
    assert.deepEqual(interpretChunk('{"choices":[],"usage":{"prompt_tokens":9,"total_tokens":17,"completion_tokens":8}}'), [
      { kind: 'usage', promptTokens: 9, completionTokens: 8 },
    ]);
  });

  it("reads SGLang's chunks, where every key is present and null", () => {
    const chunk = '{"choices":[{"index":0,"delta":{"role":null,"content":"Hi","reasoning_content":null,"tool_calls":null},"finish_reason":null,"matched_stop":null}],"usage":null}';
    assert.deepEqual(interpretChunk(chunk), [{ kind: 'content', text: 'Hi' }]);
  });

  it("keeps a reasoning model's thinking apart from its answer", () => {
    assert.deepEqual(interpretChunk('{"choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]}'), [{ kind: 'reasoning', text: 'hmm' }]);
  });

  it('ends at [DONE]', () => {
    assert.deepEqual(interpretChunk('[DONE]'), [{ kind: 'done' }]);
  });

  it('reports an error event sent mid-stream, and a payload that is not JSON', () => {
    assert.deepEqual(interpretChunk('{"error":{"message":"engine died","type":"server_error","code":502}}'), [{ kind: 'error', message: 'engine died' }]);
    assert.equal(interpretChunk('{"choices":').at(0)?.kind, 'error');
  });
});

describe('httpErrorMessage', () => {
  it("shows the OpenAI envelope's message with the status", () => {
    const body = JSON.stringify({ error: { message: 'The model `nope` does not exist.', type: 'invalid_request_error', param: 'model', code: 'model_not_found' } });
    assert.equal(httpErrorMessage(404, body), 'The model `nope` does not exist. (HTTP 404)');
  });

  it('falls back to the status and the start of a body that is not ours', () => {
    assert.equal(httpErrorMessage(502, '<html>Bad gateway</html>'), 'HTTP 502: <html>Bad gateway</html>');
    assert.equal(httpErrorMessage(500, ''), 'HTTP 500');
  });
});

describe('turnMetrics', () => {
  it('measures TTFT from sending and the rate over the tokens after the first', () => {
    const m = turnMetrics({ sentAt: 1000, firstTokenAt: 1250, endedAt: 2250, completionTokens: 21, deltas: 20 });
    assert.deepEqual(m, { ttftMs: 250, tokensPerS: 20, tokens: 21, estimated: false });
  });

  it('counts deltas when a stopped stream never sent its usage, and says so', () => {
    const m = turnMetrics({ sentAt: 0, firstTokenAt: 100, endedAt: 600, completionTokens: null, deltas: 11 });
    assert.deepEqual(m, { ttftMs: 100, tokensPerS: 20, tokens: 11, estimated: true });
  });

  it('has no rate without two tokens and no TTFT without a first token', () => {
    assert.deepEqual(turnMetrics({ sentAt: 0, firstTokenAt: null, endedAt: 50, completionTokens: null, deltas: 0 }), {
      ttftMs: null,
      tokensPerS: null,
      tokens: 0,
      estimated: true,
    });
  });
});
