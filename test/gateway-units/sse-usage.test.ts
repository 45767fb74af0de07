import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type EngineBackend, MAX_EVENT_BYTES, SseUsageTap } from '../../daemon/gateway/sse-usage.js';
import { dataEvents, fixture } from './fixtures.js';

/** The bytes a client gets when `chunks` go through `tap`. */
function run(tap: SseUsageTap, chunks: Buffer[]): Buffer {
  return Buffer.concat([...chunks.map((c) => tap.push(c)), tap.end()]);
}

/** Every way to cut `body` in two, then 1-byte chunks, then pseudo-random 3-way cuts (deterministic). */
function* splits(body: Buffer): Generator<Buffer[]> {
  for (let k = 0; k <= body.length; k++) yield [body.subarray(0, k), body.subarray(k)];
  yield Array.from({ length: body.length }, (_, i) => body.subarray(i, i + 1));
  let x = 7;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31) % (body.length + 1);
  for (let n = 0; n < 200; n++) {
    const [a, b] = [next(), next()].sort((p, q) => p - q) as [number, number];
    yield [body.subarray(0, a), body.subarray(a, b), body.subarray(b)];
  }
}

const crlf = (b: Buffer) => Buffer.from(b.toString('latin1').replaceAll('\n', '\r\n'), 'latin1');

interface Stream {
  /** With include_usage. */
  file: string;
  /** The same response without include_usage. */
  bare: string;
  backend: EngineBackend;
  usage: { promptTokens: number; completionTokens: number };
}
const STREAMS: Stream[] = [
  {
    file: 'vllm-chat-completions-stream-include-usage.sse',
    bare: 'vllm-chat-completions-stream.sse',
    backend: 'vllm',
    usage: { promptTokens: 30, completionTokens: 10 },
  },
  {
    file: 'vllm-completions-stream-include-usage.sse',
    bare: 'vllm-completions-stream.sse',
    backend: 'vllm',
    usage: { promptTokens: 7, completionTokens: 10 },
  },
  {
    file: 'sglang-chat-completions-stream-include-usage.sse',
    bare: 'sglang-chat-completions-stream.sse',
    backend: 'sglang',
    usage: { promptTokens: 42, completionTokens: 10 },
  },
];

describe('SseUsageTap, pass-through (stripInjectedUsage: false)', () => {
  for (const s of STREAMS) {
    for (const [file, usage] of [
      [s.file, s.usage],
      [s.bare, null],
    ] as const) {
      test(`${file}: returns the very Buffers it is given, at any chunking, and reads usage`, () => {
        const body = fixture(file);
        for (const chunks of splits(body)) {
          const tap = new SseUsageTap({ stripInjectedUsage: false, backend: s.backend });
          for (const chunk of chunks) assert.equal(tap.push(chunk), chunk);
          assert.equal(tap.end().length, 0);
          assert.deepEqual(tap.usage, usage);
          assert.equal(tap.sawFirstToken, true);
        }
      });
    }
  }
});

describe('SseUsageTap, stripping injected usage', () => {
  for (const s of STREAMS.filter((x) => x.backend === 'vllm')) {
    test(`${s.file}: gives exactly ${s.bare}, at any chunking`, () => {
      const expected = fixture(s.bare);
      for (const chunks of splits(fixture(s.file))) {
        const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'vllm' });
        assert.equal(run(tap, chunks).toString(), expected.toString());
        assert.deepEqual(tap.usage, s.usage);
      }
    });

    test(`${s.file}: \\r\\n\\r\\n framing too`, () => {
      const expected = crlf(fixture(s.bare));
      for (const chunks of splits(crlf(fixture(s.file)))) {
        const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'vllm' });
        assert.deepEqual(run(tap, chunks), expected);
        assert.deepEqual(tap.usage, s.usage);
      }
    });
  }

  test('SGLang chat: the final chunk keeps its choice, its usage becomes null', () => {
    const withUsage = fixture('sglang-chat-completions-stream-include-usage.sse');
    const expected = withUsage
      .toString()
      .replace('"usage":{"prompt_tokens":42,"total_tokens":52,"completion_tokens":10,"prompt_tokens_details":null}}', '"usage":null}');
    assert.notEqual(expected, withUsage.toString());
    for (const chunks of splits(withUsage)) {
      const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'sglang' });
      assert.equal(run(tap, chunks).toString(), expected);
      assert.deepEqual(tap.usage, { promptTokens: 42, completionTokens: 10 });
    }
  });

  test('SGLang chat: the one difference left from a bare stream is the documented one', () => {
    // Bare SGLang 0.4.6 sends an empty-delta chunk with finish_reason and
    // matched_stop before the final chunk; with include_usage it does not (and
    // the last content chunk would carry finish_reason). Not reconstructable
    // without holding tokens back; see sse-usage.ts.
    const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'sglang' });
    const stripped = dataEvents(run(tap, [fixture('sglang-chat-completions-stream-include-usage.sse')]));
    const bare = dataEvents(fixture('sglang-chat-completions-stream.sse'));
    assert.match(bare.at(-3)!, /"finish_reason":"stop","matched_stop":128009/);
    assert.deepEqual(stripped, bare.toSpliced(-3, 1));
  });

  test('SGLang completions: the extra "choices":[] usage event is dropped', () => {
    const content =
      'data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" Paris","logprobs":null,"finish_reason":"length","matched_stop":null}],"usage":null}\n\n';
    const usage =
      'data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":7,"total_tokens":8,"completion_tokens":1}}\n\n';
    const done = 'data: [DONE]\n\n';
    for (const chunks of splits(Buffer.from(content + usage + done))) {
      const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'sglang' });
      assert.equal(run(tap, chunks).toString(), content + done);
      assert.deepEqual(tap.usage, { promptTokens: 7, completionTokens: 1 });
    }
  });

  test('vLLM continuous usage: removed from chat chunks, nulled on completion chunks', () => {
    const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'vllm' });
    const chat = (tail: string) =>
      `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi","tool_calls":[]}}]${tail}}\n\n`;
    assert.equal(
      tap.push(Buffer.from(chat(',"usage":{"prompt_tokens":3,"total_tokens":4,"completion_tokens":1}'))).toString(),
      chat(''),
    );
    const completion = (usage: string) =>
      `data: {"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"Hi","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":${usage}}\n\n`;
    assert.equal(
      tap.push(Buffer.from(completion('{"prompt_tokens":3,"total_tokens":5,"completion_tokens":2}'))).toString(),
      completion('null'),
    );
    assert.deepEqual(tap.usage, { promptTokens: 3, completionTokens: 2 });
  });

  test('usage on several events of one push, around events without it: every one is edited, the last one counts', () => {
    const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'vllm' });
    const chat = (content: string, tail: string) =>
      `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"${content}"}}]${tail}}\n\n`;
    const usage = (n: number) => `,"usage":{"prompt_tokens":3,"total_tokens":${3 + n},"completion_tokens":${n}}`;
    const sent = chat('A', '') + chat('B', usage(2)) + chat('C', '') + chat('D', '') + chat('E', usage(5)) + 'data: [DONE]\n\n';
    const want = chat('A', '') + chat('B', '') + chat('C', '') + chat('D', '') + chat('E', '') + 'data: [DONE]\n\n';
    assert.equal(tap.push(Buffer.from(sent)).toString(), want);
    assert.deepEqual(tap.usage, { promptTokens: 3, completionTokens: 5 });
  });

  test('a chunk of complete events needing no edit comes back as the same Buffer; a cut event is held, then released', () => {
    const body = fixture('vllm-chat-completions-stream-include-usage.sse');
    const usageAt = body.indexOf('data: {"id":"chatcmpl-97838b25a8cd42a88ac6fe9b1bd5d0ed","object":"chat.completion.chunk","created":1748844472,"model":"Qwen/Qwen2.5-0.5B-Instruct","choices":[]');
    const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'vllm' });
    const head = body.subarray(0, usageAt);
    assert.equal(tap.push(head), head);
    const cut = body.subarray(usageAt, usageAt + 40);
    assert.equal(tap.push(cut).length, 0);
    assert.equal(tap.push(body.subarray(usageAt + 40)).toString(), 'data: [DONE]\n\n');
    assert.equal(tap.end().length, 0);

    const partial = new SseUsageTap({ stripInjectedUsage: true, backend: 'vllm' });
    const first = body.subarray(0, body.indexOf('\n\n') + 2);
    const cutFirst = body.subarray(0, first.length + 10);
    const forwarded = partial.push(cutFirst);
    assert.deepEqual(forwarded, first);
    assert.equal(forwarded.buffer, cutFirst.buffer, 'a view, not a copy');
    assert.deepEqual(partial.end(), cutFirst.subarray(first.length), 'an unterminated event goes out as it came');
  });

  test('extra blank lines and mixed line endings: every chunking gives what one push of the whole stream gives', () => {
    // Past the first token the tap skips from one LF LF to the last one before
    // a usage object; a run of three LFs or a CR anywhere makes it walk the
    // lines instead. The two must agree wherever a cut falls.
    const chat = (content: string, end: string) =>
      `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"${content}"}}]}${end}`;
    const usage = 'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"total_tokens":7,"completion_tokens":4}}';
    const bodies = [
      chat('', '\n\n') + chat('A', '\n\n\n') + chat('B', '\n\n') + usage + '\n\n\n\n' + 'data: [DONE]\n\n',
      chat('', '\n\n') + chat('A', '\n\n') + chat('B', '\r\n\r\n') + chat('C', '\n\r\n') + usage + '\n\n' + 'data: [DONE]\n\n',
      chat('A', '\n\n') + chat('B', '\n\n') + chat('C', '\n\n') + usage + '\n\n' + chat('D', '\n\n\n') + 'data: [DONE]\n\n',
    ].map((b) => Buffer.from(b));
    for (const strip of [true, false]) {
      for (const body of bodies) {
        const whole = new SseUsageTap({ stripInjectedUsage: strip, backend: 'vllm' });
        const expected = run(whole, [body]);
        assert.deepEqual(whole.usage, { promptTokens: 3, completionTokens: 4 });
        if (strip) assert.equal(expected.includes('"usage"'), false, 'the usage event is dropped');
        for (const chunks of splits(body)) {
          const tap = new SseUsageTap({ stripInjectedUsage: strip, backend: 'vllm' });
          assert.deepEqual(run(tap, chunks), expected);
          assert.deepEqual(tap.usage, whole.usage);
        }
      }
    }
  });

  test('comments, other fields, errors and [DONE] pass unchanged', () => {
    const body = Buffer.from(
      [
        ': keep-alive\n\n',
        'event: message\nid: 7\ndata: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"x"}}]}\n\n',
        'data: {"error": {"object": "error", "message": "boom", "type": "BadRequestError", "param": null, "code": 400}}\n\n',
        'data: [DONE]\n\n',
      ].join(''),
    );
    for (const chunks of splits(body)) {
      const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'vllm' });
      assert.deepEqual(run(tap, chunks), body);
      assert.equal(tap.usage, null);
    }
  });

  test('multibyte UTF-8 cut anywhere arrives whole', () => {
    const body = Buffer.from(
      'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"héllo 🚀 世界"}}]}\n\n' +
        'data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":1,"total_tokens":5,"completion_tokens":4}}\n\n',
    );
    const expected = body.subarray(0, body.indexOf('\n\n') + 2);
    for (const chunks of splits(body)) {
      const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'vllm' });
      assert.deepEqual(run(tap, chunks), expected);
      assert.deepEqual(tap.usage, { promptTokens: 1, completionTokens: 4 });
    }
  });

  test('an event past MAX_EVENT_BYTES is forwarded unread instead of held without bound', () => {
    const huge = Buffer.from(`data: {"x":"${'a'.repeat(MAX_EVENT_BYTES)}"}\n\n`);
    const usage = Buffer.from(
      'data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":1,"total_tokens":2,"completion_tokens":1}}\n\n',
    );
    const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'vllm' });
    const firstPart = tap.push(huge.subarray(0, MAX_EVENT_BYTES + 1));
    assert.equal(firstPart.length, MAX_EVENT_BYTES + 1, 'flushed once it outgrew the limit');
    const rest = tap.push(Buffer.concat([huge.subarray(MAX_EVENT_BYTES + 1), usage]));
    assert.deepEqual(rest, huge.subarray(MAX_EVENT_BYTES + 1));
    assert.deepEqual(tap.usage, { promptTokens: 1, completionTokens: 1 });
  });
});

describe('SseUsageTap, first token', () => {
  const cases: [name: string, backend: EngineBackend, file: string, firstTokenEvent: number][] = [
    // vLLM's role chunk has "content":"" and SGLang's "content":null: not tokens.
    ['vLLM chat', 'vllm', 'vllm-chat-completions-stream.sse', 1],
    ['vLLM completions', 'vllm', 'vllm-completions-stream.sse', 0],
    ['SGLang chat', 'sglang', 'sglang-chat-completions-stream-include-usage.sse', 1],
  ];
  for (const [name, backend, file, firstTokenEvent] of cases) {
    test(`${name}: fires once, on the push that completes event #${firstTokenEvent}`, () => {
      const events = fixture(file).toString().split(/(?<=\n\n)/);
      let calls = 0;
      const tap = new SseUsageTap({ stripInjectedUsage: false, backend, onFirstToken: () => calls++ });
      events.forEach((event, i) => {
        tap.push(Buffer.from(event));
        assert.equal(calls, i >= firstTokenEvent ? 1 : 0, `after event ${i}`);
        assert.equal(tap.sawFirstToken, i >= firstTokenEvent);
      });
    });
  }

  const chunk = (choice: string) => Buffer.from(`data: {"id":"c","object":"chat.completion.chunk","choices":[${choice}]}\n\n`);
  const rows: [choice: string, token: boolean][] = [
    ['{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}', false],
    ['{"index":0,"delta":{"content":"","tool_calls":[]},"finish_reason":"stop"}', false],
    ['{"index":0,"delta":{"role":null,"content":null,"reasoning_content":null,"tool_calls":null}}', false],
    ['{"index":0,"delta":{"reasoning_content":"Let me think"}}', true],
    ['{"index":0,"delta":{"tool_calls":[{"id":"call_1","type":"function","index":0,"function":{"name":"f","arguments":""}}]}}', true],
    ['{"index":0,"delta":{"content":""}},{"index":1,"delta":{"content":"x"}}', true],
    ['{"index":0,"delta":{"content":"say \\"content\\":\\""}}', true],
  ];
  for (const [choice, token] of rows) {
    test(`${token ? 'token' : 'no token'}: ${choice}`, () => {
      const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'vllm' });
      tap.push(chunk(choice));
      assert.equal(tap.sawFirstToken, token);
    });
  }
});

describe('SseUsageTap, any valid JSON (an engine changing its separators must not leak usage)', () => {
  // Python's json.dumps default separators (", ", ": "), and more.
  const spaced = (usageSep: string, inner: string) =>
    `data: {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [], "usage"${usageSep}{${inner}"prompt_tokens": 3, "total_tokens": 7, "completion_tokens": 4${inner}}}\n\n`;
  const content = 'data: {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": 0, "delta": {"content": "Hi"}}]}\n\n';
  const done = 'data: [DONE]\n\n';
  for (const [name, sep, inner] of [
    ['": {"', ': ', ''],
    ['" : {"', ' : ', ''],
    ['":{ " with inner spaces', ':', ' '],
    ['tabs and CRs around the colon', '\t\r:\t ', '\t'],
  ] as const) {
    test(`usage written ${name}: counted, and its chunk dropped at any chunking`, () => {
      const body = Buffer.from(content + spaced(sep, inner) + done);
      for (const chunks of splits(body)) {
        const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'vllm' });
        assert.equal(run(tap, chunks).toString(), content + done);
        assert.deepEqual(tap.usage, { promptTokens: 3, completionTokens: 4 });
      }
      const reader = new SseUsageTap({ stripInjectedUsage: false, backend: 'vllm' });
      assert.deepEqual(run(reader, [body]), body);
      assert.deepEqual(reader.usage, { promptTokens: 3, completionTokens: 4 });
    });
  }

  test('"usage": null is no usage and passes untouched; "usage": {...} on the same backend is read', () => {
    // SGLang's chunks carry "usage":null until the final one.
    const chunk = (usage: string) =>
      `data: {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": null}], "usage" : ${usage}}\n\n`;
    const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'sglang' });
    const plain = Buffer.from(chunk('null'));
    assert.equal(tap.push(plain), plain, 'nothing to edit: the same Buffer');
    assert.equal(tap.usage, null);
    const final = chunk('{ "prompt_tokens" : 5 , "total_tokens" : 6 , "completion_tokens" : 1 }');
    assert.equal(tap.push(Buffer.from(final)).toString(), chunk('null'));
    assert.deepEqual(tap.usage, { promptTokens: 5, completionTokens: 1 });
  });

  test('the word usage elsewhere (a value, inside a string) is not a usage object', () => {
    const body = Buffer.from(
      'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"\\"usage\\": {\\"prompt_tokens\\": 1}"}}],"note":"usage"}\n\n',
    );
    const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'vllm' });
    assert.deepEqual(run(tap, [body]), body);
    assert.equal(tap.usage, null);
  });

  test('pretty-printed JSON over several data: lines: read as a client joins them, the usage event dropped', () => {
    const pretty = JSON.stringify(
      { id: 'c', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 2, total_tokens: 5, completion_tokens: 3 } },
      null,
      2,
    );
    const event = pretty.split('\n').map((l) => `data: ${l}\n`).join('') + '\n';
    const content = 'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"A"}}]}\n\n';
    const body = Buffer.from(content + event + 'data: [DONE]\n\n');
    for (const chunks of splits(body)) {
      const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'vllm' });
      assert.equal(run(tap, chunks).toString(), content + 'data: [DONE]\n\n');
      assert.deepEqual(tap.usage, { promptTokens: 2, completionTokens: 3 });
    }
  });

  test('after the first token, a push of whole events is still read when the usage value starts on the next data: line', () => {
    const content = 'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"A"}}]}\n\n';
    // The key ends one data line, its object opens the next: one JSON document once the lines are joined.
    const usage = 'data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":\ndata: {"prompt_tokens":5,"total_tokens":9,"completion_tokens":4}}\n\n';
    const done = 'data: [DONE]\n\n';
    for (const strip of [true, false]) {
      const tap = new SseUsageTap({ stripInjectedUsage: strip, backend: 'vllm' });
      const out = run(tap, [content, usage, done].map((e) => Buffer.from(e))).toString();
      assert.equal(out, strip ? content + done : content + usage + done);
      assert.deepEqual(tap.usage, { promptTokens: 5, completionTokens: 4 });
    }
  });

  test('pretty-printed SGLang final chunk: usage nulled, the event still one JSON document over its data lines', () => {
    const doc = {
      id: 'c',
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      usage: { prompt_tokens: 4, total_tokens: 6, completion_tokens: 2 },
    };
    const event = 'id: 9\n' + JSON.stringify(doc, null, 2).split('\n').map((l) => `data: ${l}\r\n`).join('') + '\r\n';
    const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'sglang' });
    const out = run(tap, [Buffer.from(event)]).toString();
    assert.deepEqual(tap.usage, { promptTokens: 4, completionTokens: 2 });
    assert.ok(out.startsWith('id: 9\n') && out.endsWith('\r\n\r\n'), out);
    const joined = out
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice('data: '.length))
      .join('\n');
    assert.deepEqual(JSON.parse(joined), { ...doc, usage: null });
  });

  test('CRLF framing with spaced JSON: counted and dropped at any chunking', () => {
    const content = 'data: {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "A"}}]}\r\n\r\n';
    const usage = 'data: {"id": "c", "object": "chat.completion.chunk", "choices": [ ], "usage": {"prompt_tokens": 1, "total_tokens": 3, "completion_tokens": 2}}\r\n\r\n';
    const done = 'data: [DONE]\r\n\r\n';
    for (const chunks of splits(Buffer.from(content + usage + done))) {
      const tap = new SseUsageTap({ stripInjectedUsage: true, backend: 'vllm' });
      assert.equal(run(tap, chunks).toString(), content + done);
      assert.deepEqual(tap.usage, { promptTokens: 1, completionTokens: 2 });
    }
  });
});
