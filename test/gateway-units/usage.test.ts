import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { editJsonObject, jsonObjectMembers } from '../../daemon/gateway/json-spans.js';
import { usageFromJson } from '../../daemon/gateway/token-usage.js';
import { fixture } from './fixtures.js';

describe('usageFromJson', () => {
  const rows: [file: string, usage: { promptTokens: number; completionTokens: number } | null][] = [
    ['vllm-chat-completions-nonstream.json', { promptTokens: 30, completionTokens: 10 }],
    ['vllm-completions-nonstream.json', { promptTokens: 7, completionTokens: 10 }],
    ['vllm-embeddings.json', { promptTokens: 9, completionTokens: 0 }],
    ['sglang-chat-completions-nonstream.json', { promptTokens: 42, completionTokens: 10 }],
    ['sglang-chat-completions-unknown-model-200.json', { promptTokens: 42, completionTokens: 10 }],
    ['vllm-chat-completions-404-model-not-found.json', null],
    ['vllm-chat-completions-400-context-length.json', null],
    ['vllm-chat-completions-401-unauthorized.json', null],
    ['sglang-chat-completions-400-context-length.json', null],
    ['sglang-chat-completions-400-invalid-json.json', null],
    ['vllm-models-single.json', null],
    ['vllm-load-lora-adapter-200.txt', null],
    ['vllm-health.txt', null],
  ];
  for (const [file, usage] of rows) {
    test(file, () => {
      const body = fixture(file);
      assert.deepEqual(usageFromJson(body), usage);
      assert.deepEqual(usageFromJson(body.toString()), usage);
    });
  }

  test('embeddings without completion_tokens (OpenAI shape) count 0', () => {
    assert.deepEqual(
      usageFromJson('{"object":"list","data":[],"model":"m","usage":{"prompt_tokens":5,"total_tokens":5}}'),
      { promptTokens: 5, completionTokens: 0 },
    );
  });

  test('a nested "usage" after the real one is not mistaken for it (falls back to a full parse)', () => {
    assert.deepEqual(
      usageFromJson('{"usage":{"prompt_tokens":1,"completion_tokens":2},"meta":{"usage":{"prompt_tokens":9}}}'),
      { promptTokens: 1, completionTokens: 2 },
    );
    assert.equal(usageFromJson('{"meta":{"usage":{"prompt_tokens":9}}}'), null);
  });

  test('spaces and pretty-printing (Python json.dumps) are fine; junk is null', () => {
    assert.deepEqual(usageFromJson('{\n  "usage": {"prompt_tokens": 3, "completion_tokens": 4},\n  "x": null\n}\n'), {
      promptTokens: 3,
      completionTokens: 4,
    });
    for (const junk of ['', 'not json', '{"usage":null}', '{"usage":{"prompt_tokens":"3"}}', '{"usage":{"prompt_tokens":-1}}', '[1]']) {
      assert.equal(usageFromJson(junk), null, junk);
    }
  });
});

describe('JSON spans', () => {
  test('members keep offsets into the original bytes; escaped keys decode', () => {
    const b = Buffer.from('{ "a" : 1.0 , "b\\u0065":"x\\"}" ,"c":[{"d":"}"}] }');
    const scanned = jsonObjectMembers(b, 0)!;
    assert.deepEqual(
      scanned.members.map((m) => [m.key, b.toString('utf8', m.valueStart, m.valueEnd)]),
      [
        ['a', '1.0'],
        ['be', '"x\\"}"'],
        ['c', '[{"d":"}"}]'],
      ],
    );
    assert.equal(scanned.close, b.length - 1);
  });

  test('edits splice; kept members keep their separators', () => {
    const b = Buffer.from('{\n  "a": 1,\n  "b": 2,\n  "c": 3\n}');
    const edit = (e: Parameters<typeof editJsonObject>[2]) => Buffer.concat(editJsonObject(b, 0, e)!).toString();
    assert.equal(edit({}), b.toString());
    assert.equal(edit({ drop: new Set(['a']) }), '{\n  "b": 2,\n  "c": 3\n}');
    assert.equal(edit({ drop: new Set(['c']) }), '{\n  "a": 1,\n  "b": 2\n}');
    assert.equal(edit({ replace: new Map([['b', Buffer.from('"two"')]]) }), '{\n  "a": 1,\n  "b": "two",\n  "c": 3\n}');
    assert.equal(edit({ replace: new Map([['d', Buffer.from('4')]]) }), '{\n  "a": 1,\n  "b": 2,\n  "c": 3,\n  "d":4\n}');
    assert.equal(Buffer.concat(editJsonObject(Buffer.from('{}'), 0, { replace: new Map([['k', Buffer.from('1')]]) })!).toString(), '{"k":1}');
  });
});
