import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseOpenAiBody, rewriteBody } from '../../daemon/gateway/request-body.js';
import { HttpError } from '../../daemon/http/errors.js';

const parse = (body: string | Buffer) => parseOpenAiBody(Buffer.isBuffer(body) ? body : Buffer.from(body));

describe('parseOpenAiBody', () => {
  test('reads model, stream and the client include_usage', () => {
    const req = parse('{"model":"llama","messages":[],"stream":true,"stream_options":{"include_usage":true}}');
    assert.equal(req.model, 'llama');
    assert.equal(req.stream, true);
    assert.equal(req.includeUsage, true);
    assert.deepEqual(req.json.messages, []);
  });

  test('stream and include_usage are read as pydantic reads Optional[bool]', () => {
    const rows: [stream: unknown, streaming: boolean][] = [
      [undefined, false],
      [null, false],
      [false, false],
      [true, true],
      [1, true],
      [0, false],
      ['true', true],
      ['Yes', true],
      ['off', false],
      ['maybe', false], // the engine answers 400; we just don't treat it as a stream
      [2, false],
    ];
    for (const [stream, streaming] of rows) {
      const body = JSON.stringify({ model: 'm', stream, stream_options: { include_usage: stream } });
      const req = parse(body);
      assert.equal(req.stream, streaming, body);
      assert.equal(req.includeUsage, streaming, body);
    }
    assert.equal(parse('{"model":"m","stream":true,"stream_options":null}').includeUsage, false);
    assert.equal(parse('{"model":"m","stream":true,"stream_options":[true]}').includeUsage, false);
  });

  test('accepts a UTF-8 BOM, as Python json.loads(bytes) does', () => {
    assert.equal(parse(Buffer.from('\uFEFF{"model":"m"}')).model, 'm');
  });

  const errors: [body: string | Buffer, code: string, param: string | undefined, message: RegExp][] = [
    ['', 'invalid_json', undefined, /could not parse the JSON body/],
    ['{"model":"m",}', 'invalid_json', undefined, /not valid JSON/],
    [Buffer.from([0x7b, 0x22, 0x6d, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 'invalid_json', undefined, /JSON/],
    ['[]', 'invalid_type', undefined, /expected a JSON object, but got an array/],
    ['"m"', 'invalid_type', undefined, /but got a string/],
    ['null', 'invalid_type', undefined, /but got null/],
    ['{"messages":[]}', 'missing_model', 'model', /you must provide a model parameter/],
    ['{"model":null}', 'missing_model', 'model', /you must provide a model parameter/],
    ['{"model":""}', 'missing_model', 'model', /you must provide a model parameter/],
    ['{"model":7}', 'invalid_type', 'model', /Invalid type for 'model': expected a string, but got an integer/],
    ['{"model":["a"]}', 'invalid_type', 'model', /but got an array/],
  ];
  for (const [body, code, param, message] of errors) {
    test(`400 ${code}: ${JSON.stringify(body.toString())}`, () => {
      assert.throws(
        () => parse(body),
        (err: unknown) => {
          assert.ok(err instanceof HttpError);
          assert.equal(err.status, 400);
          assert.equal(err.code, code);
          assert.equal(err.field, param);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }
});

describe('rewriteBody', () => {
  // Bytes a JS round trip would change: a float written `1.0`, an int above
  // 2^53, a \u escape, and an unusual spacing.
  const BODY =
    '{"model":"alias", "messages":[{"role":"user","content":"caf\\u00e9 ☕"}],"temperature":1.0,"seed":12345678901234567891,"stream":true,"keep_alive":"5m"}';

  test('returns the same Buffer when nothing changes', () => {
    const req = parse(BODY);
    assert.equal(rewriteBody(req, {}), req.raw);
    assert.equal(rewriteBody(req, { model: 'alias', dropFields: ['absent'], set: { temperature: 1, x: undefined } }), req.raw);
    const asked = parse('{"model":"m","stream":true,"stream_options":{"include_usage":true}}');
    assert.equal(rewriteBody(asked, { includeUsage: true }), asked.raw, 'the client already asked');
    const notStreaming = parse('{"model":"m"}');
    assert.equal(rewriteBody(notStreaming, { includeUsage: true }), notStreaming.raw, 'vLLM refuses stream_options without stream');
  });

  test('changes only the members it is asked to', () => {
    const req = parse(BODY);
    assert.equal(
      rewriteBody(req, { model: 'Qwen/Qwen2.5-0.5B-Instruct', dropFields: ['keep_alive'] }).toString(),
      '{"model":"Qwen/Qwen2.5-0.5B-Instruct", "messages":[{"role":"user","content":"caf\\u00e9 ☕"}],"temperature":1.0,"seed":12345678901234567891,"stream":true}',
    );
    assert.equal(
      rewriteBody(req, { set: { lora_path: 'sql-adapter' }, includeUsage: true }).toString(),
      BODY.slice(0, -1) + ', "lora_path":"sql-adapter", "stream_options":{"include_usage":true}}',
    );
  });

  test('include_usage alone goes in as the first member, every other byte kept', () => {
    for (const body of ['{"model":"m","stream":true}', ' \n{ "model" : "m", "stream": true }\n', '\ufeff{"model":"m","stream":1}']) {
      const req = parse(body);
      const out = rewriteBody(req, { includeUsage: true }).toString();
      const brace = body.indexOf('{') + 1;
      assert.equal(out, body.slice(0, brace) + '"stream_options":{"include_usage":true},' + body.slice(brace), body);
      const { stream_options, ...rest } = JSON.parse(out.replace(/^\ufeff/, '')) as Record<string, unknown>;
      assert.deepEqual(stream_options, { include_usage: true });
      assert.deepEqual(rest, JSON.parse(body.replace(/^\ufeff/, '')));
    }
  });

  test('include_usage merges into the client stream_options', () => {
    const rows: [stream_options: string, expected: string | null][] = [
      ['null', '{"include_usage":true}'],
      ['{}', '{"include_usage":true}'],
      ['{"include_usage":false}', '{"include_usage":true}'],
      ['{ "include_usage": "no", "x": 1 }', '{ "include_usage": true, "x": 1 }'],
      ['{"x":1}', '{"x":1,"include_usage":true}'],
      // continuous_usage_stats did nothing without include_usage; keep it that way
      ['{"continuous_usage_stats":true}', '{"continuous_usage_stats":false,"include_usage":true}'],
      ['{"continuous_usage_stats":false}', '{"continuous_usage_stats":false,"include_usage":true}'],
      // the client's own 400s stay theirs
      ['"yes"', null],
      ['{"include_usage":"maybe"}', null],
    ];
    for (const [options, expected] of rows) {
      const req = parse(`{"model":"m","stream":true,"stream_options":${options}}`);
      const out = rewriteBody(req, { includeUsage: true });
      if (expected === null) assert.equal(out, req.raw, options);
      else assert.equal(out.toString(), `{"model":"m","stream":true,"stream_options":${expected}}`, options);
    }
  });

  test('drops keep separators right; pretty bodies stay pretty; BOM and trailing space survive', () => {
    const pretty = parse('\uFEFF{\n  "keep_alive": -1,\n  "model": "a",\n  "stream": true\n}\n');
    assert.equal(
      rewriteBody(pretty, { model: 'b', dropFields: ['keep_alive'], includeUsage: true }).toString(),
      '\uFEFF{\n  "model": "b",\n  "stream": true,\n  "stream_options":{"include_usage":true}\n}\n',
    );
    const req = parse('{"a":1,"model":"m","b":2}');
    assert.equal(rewriteBody(req, { dropFields: ['a', 'b'] }).toString(), '{"model":"m"}');
    assert.equal(rewriteBody(req, { dropFields: ['model'], set: { model: 'x' } }).toString(), '{"a":1,"model":"x","b":2}');
  });

  test('duplicate keys: every copy is replaced (JSON.parse and Python both keep the last)', () => {
    const req = parse('{"model":"a","model":"b"}');
    assert.equal(req.model, 'b');
    assert.equal(rewriteBody(req, { model: 'c' }).toString(), '{"model":"c","model":"c"}');
  });
});
