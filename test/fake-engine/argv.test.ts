// The fake's argparse against what CPython's argparse does with the engines' parsers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildParser, parseArgs } from '../fakes/engine/argparse.js';
import { loadSpec, logLines } from '../fakes/engine/shared.js';
import { flexibleArgs } from '../fakes/engine/vllm-argv.js';

const vllm = buildParser(loadSpec('vllm'), '0.9.0.1', 'api_server', 'api_server.py');
const sglang = (version = '0.4.6') => buildParser(loadSpec('sglang'), version, 'launch_server', 'launch_server.py');

const parseVllm = (...argv: string[]) => parseArgs(vllm, flexibleArgs(argv), 80);
const parseSglang = (argv: string[], version?: string) => parseArgs(sglang(version), argv, 80);

function values(r: ReturnType<typeof parseArgs>) {
  assert.ok(r.ok, r.ok ? '' : r.stderr.split('\n').at(-2));
  return r.values;
}

/** The `<prog>: error: ...` line, after checking the exit code. */
function error(r: ReturnType<typeof parseArgs>): string {
  assert.ok(!r.ok);
  assert.equal(r.exitCode, 2);
  assert.ok(r.stderr.startsWith('usage: '));
  return r.stderr.trimEnd().split('\n').at(-1) as string;
}

describe('usage block and error line, byte for byte against the captures (COLUMNS=80)', () => {
  it('SGLang: launch_server.py, required --model-path unbracketed', () => {
    const r = parseSglang(['--model-path', 'Qwen/Qwen2.5-0.5B-Instruct', '--gpu-memory-utilization', '0.8']);
    assert.ok(!r.ok);
    assert.equal(r.stderr, `${logLines('sglang-0.4.6-unrecognized-arg').join('\n')}\n`);
  });

  it('vLLM: api_server.py, after the platform/plugin INFO lines that go to stdout', () => {
    const r = parseVllm('--model', 'Qwen/Qwen2.5-0.5B-Instruct', '--mem-fraction-static', '0.8');
    assert.ok(!r.ok);
    const expected = logLines('vllm-0.9.0.1-unrecognized-arg').filter((l) => !l.startsWith('INFO '));
    // The spec lists the tool parsers llama4_json before llama3_json; the usage fixture, generated
    // from the tag's registry, has them the other way round. The fake follows the spec.
    const swap = (s: string) => s.replace('llama4_json,llama3_json', 'llama3_json,llama4_json');
    assert.equal(swap(r.stderr), `${expected.join('\n')}\n`);
  });
});

describe('vLLM FlexibleArgumentParser', () => {
  it('rewrites underscores in keys, accepts --flag=value and human-readable ints', () => {
    assert.equal(values(parseVllm('--max_model_len=32k')).get('max_model_len'), 32000);
    assert.equal(values(parseVllm('--max-model-len', '1K')).get('max_model_len'), 1024);
  });

  it('takes unique prefixes and aliases, rejects ambiguous ones', () => {
    assert.equal(values(parseVllm('--tensor-parallel', '2')).get('tensor_parallel_size'), 2);
    assert.equal(values(parseVllm('-tp', '4')).get('tensor_parallel_size'), 4);
    assert.equal(values(parseVllm('-O3')).get('compilation_config'), '3');
    assert.match(error(parseVllm('--max', '1')), /^api_server\.py: error: ambiguous option: --max could match --max-model-len, --max-seq-len-to-capture, /);
  });

  it('BooleanOptionalAction: --flag and --no-flag, no explicit value', () => {
    assert.equal(values(parseVllm('--no-enable-prefix-caching')).get('enable_prefix_caching'), false);
    assert.equal(values(parseVllm('--enable-lora')).get('enable_lora'), true);
    assert.equal(
      error(parseVllm('--enable-prefix-caching=1')),
      "api_server.py: error: argument --enable-prefix-caching/--no-enable-prefix-caching: ignored explicit argument '1'",
    );
  });

  it("nargs='+' is greedy, but an explicit =value counts as one", () => {
    const v = values(parseVllm('--served-model-name', 'a', 'b', '--port', '9000'));
    assert.deepEqual(v.get('served_model_name'), ['a', 'b']);
    assert.equal(v.get('port'), 9000);
    assert.equal(error(parseVllm('--served-model-name=a', 'b')), 'api_server.py: error: unrecognized arguments: b');
  });

  it('types and choices fail with argparse wording', () => {
    assert.equal(error(parseVllm('--port', 'abc')), "api_server.py: error: argument --port: invalid int value: 'abc'");
    assert.equal(error(parseVllm('--port')), 'api_server.py: error: argument --port: expected one argument');
    assert.equal(error(parseVllm('--seed', 'x')), "api_server.py: error: argument --seed: Value x cannot be converted to <class 'int'>.");
    assert.equal(
      error(parseVllm('--dtype', 'fp64')),
      "api_server.py: error: argument --dtype: invalid choice: 'fp64' (choose from 'auto', 'bfloat16', 'float', 'float16', 'float32', 'half')",
    );
    assert.equal(error(parseVllm('--block-size', '7')), 'api_server.py: error: argument --block-size: invalid choice: 7 (choose from 1, 8, 16, 32, 64, 128)');
    assert.equal(values(parseVllm('--quantization', 'None')).get('quantization'), null);
  });

  it('--lora-modules: name=path or JSON, checked by LoRAParserAction', () => {
    assert.deepEqual(values(parseVllm('--lora-modules', 'sql=/adapters/sql')).get('lora_modules'), ['sql=/adapters/sql']);
    assert.equal(error(parseVllm('--lora-modules', '{bad')), 'api_server.py: error: Invalid JSON format for --lora-modules: {bad');
  });

  it('unknown options are collected with their values', () => {
    assert.equal(error(parseVllm('--foo=bar', '--port', '1')), 'api_server.py: error: unrecognized arguments: --foo=bar');
  });
});

describe('SGLang launch_server', () => {
  it('--tp abbreviates --tp-size (the docs rely on it)', () => {
    assert.equal(values(parseSglang(['--model-path', 'm', '--tp', '2'])).get('tensor_parallel_size'), 2);
  });

  it('has no --no- forms and no underscore rewrite', () => {
    assert.equal(error(parseSglang(['--model-path', 'm', '--no-trust-remote-code'])), 'launch_server.py: error: unrecognized arguments: --no-trust-remote-code');
    assert.equal(error(parseSglang(['--model_path', 'm'])), 'launch_server.py: error: the following arguments are required: --model-path');
  });

  it('flags newer than the running version do not exist', () => {
    assert.equal(error(parseSglang(['--model-path', 'm', '--pp-size', '2'])), 'launch_server.py: error: unrecognized arguments: --pp-size 2');
    assert.equal(values(parseSglang(['--model-path', 'm', '--pp-size', '2'], '0.4.6.post2')).get('pipeline_parallel_size'), 2);
  });
});
