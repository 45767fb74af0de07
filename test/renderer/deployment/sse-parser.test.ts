// The chat playground's SSE parser: what the page shows depends on it reading
// every event exactly once however the network cuts the stream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSse, SseParser, type SseMessage } from '../../../renderer/src/deployment/sse-parser.js';

function parseAll(chunks: string[]): SseMessage[] {
  const p = new SseParser();
  return [...chunks.flatMap((c) => p.push(c)), ...p.end()];
}

const STREAM =
  ': keep-alive\r\n' +
  'data: {"choices":[{"delta":{"content":"Hel"}}]}\r\n\r\n' +
  'event: update\nid: 7\ndata: first line\ndata: second line\n\n' +
  'data:no-space\r\r' +
  'data: {"choices":[{"delta":{"content":"ло ✓"}}]}\n\n' +
  'data: [DONE]\n\n';

const EXPECTED: SseMessage[] = [
  { event: 'message', data: '{"choices":[{"delta":{"content":"Hel"}}]}', id: undefined },
  { event: 'update', data: 'first line\nsecond line', id: '7' },
  { event: 'message', data: 'no-space', id: '7' },
  { event: 'message', data: '{"choices":[{"delta":{"content":"ло ✓"}}]}', id: '7' },
  { event: 'message', data: '[DONE]', id: '7' },
];

describe('SseParser', () => {
  it('reads events with LF, CRLF and lone-CR line ends, comments and multi-line data', () => {
    assert.deepEqual(parseAll([STREAM]), EXPECTED);
  });

  it('reads the same events whichever two chunks the stream is cut into', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      assert.deepEqual(parseAll([STREAM.slice(0, i), STREAM.slice(i)]), EXPECTED, `cut at ${i}: ${JSON.stringify(STREAM.slice(i - 2, i + 2))}`);
    }
  });

  it('reads the same events one character at a time', () => {
    assert.deepEqual(parseAll([...STREAM]), EXPECTED);
  });

  it('treats a CRLF split across chunks as one line end, not an empty line that ends the event', () => {
    assert.deepEqual(parseAll(['data: a\r', '\ndata: b\r\n\r\n']), [{ event: 'message', data: 'a\nb', id: undefined }]);
  });

  it('ignores comments, unknown fields, retry and empty events', () => {
    assert.deepEqual(parseAll([':hi\n\nretry: 10\nfoo: bar\n\nevent: x\n\ndata\n\n']), [{ event: 'message', data: '', id: undefined }]);
  });

  it('drops a leading byte-order mark', () => {
    assert.deepEqual(parseAll(['\ufeffdata: x\n\n']), [{ event: 'message', data: 'x', id: undefined }]);
  });

  it('keeps an event the stream ended without a blank line, but not a half-written line', () => {
    assert.deepEqual(parseAll(['data: [DONE]\n']), [{ event: 'message', data: '[DONE]', id: undefined }]);
    assert.deepEqual(parseAll(['data: a\n\ndata: {"trunc']), [{ event: 'message', data: 'a', id: undefined }]);
  });
});

describe('readSse', () => {
  it('decodes UTF-8 split inside a character across network chunks', async () => {
    const bytes = new TextEncoder().encode('data: {"t":"日本語 ✓"}\n\ndata: [DONE]\n\n');
    // Cut every 1..3 bytes: the three-byte characters land across chunk boundaries.
    const chunks: Uint8Array[] = [];
    for (let i = 0, n = 1; i < bytes.length; i += n, n = (n % 3) + 1) chunks.push(bytes.slice(i, i + n));
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(chunk);
        c.close();
      },
    });
    const got: string[] = [];
    await readSse(body, (m) => got.push(m.data));
    assert.deepEqual(got, ['{"t":"日本語 ✓"}', '[DONE]']);
  });
});
