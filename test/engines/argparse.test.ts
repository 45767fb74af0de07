// checkArgv against the real engine parsers described by the specs. Expected
// messages are argparse's text after "<prog>: error: ".
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type ArgvCheck, checkArgv } from '../../daemon/engines/argparse.js';
import { loadSpec } from '../../daemon/engines/spec.js';
import { ENGINE_LOG_FIXTURES as logs } from '../helpers/fixtures.js';

const vllm = loadSpec('vllm-0.9.0.1.json');
const sglang = loadSpec('sglang-0.4.6.json');
const VLLM = { entrypoint: 'api_server', version: '0.9.0.1' };
const sglangAt = (version: string) => ({ entrypoint: 'launch_server', version });

/** Canonical flag -> values of its last use, for compact expectations. */
function summary(r: ArgvCheck): Record<string, string[]> | string {
  if (!r.ok) return r.error.message;
  return Object.fromEntries([...r.options].map(([flag, uses]) => [flag, [...uses.at(-1)!.values]]));
}

type Row = [argv: string[], expected: Record<string, string[]> | string];

describe('vLLM 0.9.0.1 api_server parser', () => {
  const rows: Row[] = [
    // spellings
    [['--port', '9000'], { '--port': ['9000'] }],
    [['--port=9000'], { '--port': ['9000'] }],
    [['-tp', '2'], { '--tensor-parallel-size': ['2'] }],
    [['-tp=2'], { '--tensor-parallel-size': ['2'] }],
    [['-t', '2'], { '--tensor-parallel-size': ['2'] }],
    [['--tensor', '2'], { '--tensor-parallel-size': ['2'] }],
    [['--tensor_parallel_size', '2'], { '--tensor-parallel-size': ['2'] }],
    [['--tensor_parallel_size=2'], { '--tensor-parallel-size': ['2'] }],
    [['-q', 'awq'], { '--quantization': ['awq'] }],
    [['-qawq'], { '--quantization': ['awq'] }],
    [['-O3'], { '--compilation-config': ['3'] }],
    [['-O', '3'], { '--compilation-config': ['3'] }],
    [['--max-loras', '4'], { '--max-loras': ['4'] }],
    [['--max-lora-r', '64'], { '--max-lora-rank': ['64'] }],
    [['--no-enable-lora'], { '--enable-lora': [] }],
    [['--enable-lora', '--no-enable-lora'], { '--enable-lora': [] }],
    // nargs
    [['--served-model-name', 'a', 'b', '--port', '1'], { '--served-model-name': ['a', 'b'], '--port': ['1'] }],
    [['--served-model-name=a'], { '--served-model-name': ['a'] }],
    [['--hf-token'], { '--hf-token': [] }],
    [['--hf-token', 'hf_x'], { '--hf-token': ['hf_x'] }],
    [['--cuda-graph-sizes', '1', '2', '-4'], { '--cuda-graph-sizes': ['1', '2', '-4'] }],
    [['--seed', '-1'], { '--seed': ['-1'] }],
    [['--middleware', 'a', '--middleware', 'b'], { '--middleware': ['b'] }],
    // types
    [['--max-model-len', '32k'], { '--max-model-len': ['32k'] }],
    [['--gpu-memory-utilization', '0.85'], { '--gpu-memory-utilization': ['0.85'] }],
    [['--seed', 'None'], { '--seed': ['None'] }],
    [['--allowed-origins', '["http://a"]'], { '--allowed-origins': ['["http://a"]'] }],
    [['--limit-mm-per-prompt', '{"image": 2}'], { '--limit-mm-per-prompt': ['{"image": 2}'] }],
    [['--limit-mm-per-prompt', 'image=2'], { '--limit-mm-per-prompt': ['image=2'] }],
    [['--hf-overrides', 'not-json'], { '--hf-overrides': ['not-json'] }],
    [['--compilation-config.level', '3'], { '--compilation-config': ['{"level": "3"}'] }],
    [['--compilation-config.a.b=1', '--compilation-config.a.c', '2'], { '--compilation-config': ['{"a": {"b": "1", "c": "2"}}'] }],
    [['--block-size', '16'], { '--block-size': ['16'] }],

    // rejected
    [['--foo', '1'], 'unrecognized arguments: --foo 1'],
    [['--mem-fraction-static', '0.8'], 'unrecognized arguments: --mem-fraction-static 0.8'],
    [['stray'], 'unrecognized arguments: stray'],
    [['--port', '1', 'stray', '--foo'], 'unrecognized arguments: stray --foo'],
    [['--tp', '2'], 'unrecognized arguments: --tp 2'],
    [['-tp2'], 'unrecognized arguments: -tp2'],
    [['model_tag'], 'unrecognized arguments: model_tag'],
    [['--headless'], 'unrecognized arguments: --headless'],
    [['--config', 'x.yaml'], 'unrecognized arguments: --config'],
    // Without the bare token vLLM's --config splice does not run; argparse abbreviates to --config-format.
    [['--config=x.yaml'], "argument --config-format: invalid choice: 'x.yaml' (choose from 'auto', 'hf', 'mistral')"],
    [['--data-parallel-start-rank', '1'], 'unrecognized arguments: --data-parallel-start-rank 1'],
    [['-dpr', '1'], 'unrecognized arguments: -dpr 1'],
    [['--max-lora', '8'], 'ambiguous option: --max-lora could match --max-loras, --max-lora-rank'],
    [['--max-lora=8'], 'ambiguous option: --max-lora=8 could match --max-loras, --max-lora-rank'],
    [['--no-enable'], 'ambiguous option: --no-enable could match --no-enable-prompt-embeds, --no-enable-sleep-mode, --no-enable-reasoning, --no-enable-expert-parallel, --no-enable-prefix-caching, --no-enable-lora, --no-enable-lora-bias, --no-enable-prompt-adapter, --no-enable-chunked-prefill'],
    [['-dp'], 'argument --data-parallel-size/-dp: expected one argument'],
    [['--port'], 'argument --port: expected one argument'],
    [['--port', '--host', 'h'], 'argument --port: expected one argument'],
    [['--served-model-name', '--port', '1'], 'argument --served-model-name: expected at least one argument'],
    [['--port', 'x'], "argument --port: invalid int value: 'x'"],
    [['-tp', '1.5'], "argument --tensor-parallel-size/-tp: invalid int value: '1.5'"],
    [['--gpu-memory-utilization', 'most'], "argument --gpu-memory-utilization: invalid float value: 'most'"],
    [['--seed', 'x'], "argument --seed: Value x cannot be converted to <class 'int'>."],
    [['--max-model-len', '1.5K'], 'argument --max-model-len: Decimals are not allowed with binary suffixes like K. Did you mean to use 1.5k instead?'],
    [['--allowed-origins', '[oops'], "argument --allowed-origins: invalid loads value: '[oops'"],
    [['--limit-mm-per-prompt', 'image'], 'argument --limit-mm-per-prompt: Each item should be in the form KEY=VALUE'],
    [['-O', 'fast'], "argument --compilation-config/-O: invalid <lambda> value: 'fast'"],
    [['--dtype', 'fp4'], "argument --dtype: invalid choice: 'fp4' (choose from 'auto', 'bfloat16', 'float', 'float16', 'float32', 'half')"],
    [['--block-size', '7'], 'argument --block-size: invalid choice: 7 (choose from 1, 8, 16, 32, 64, 128)'],
    [['--enable-lora=yes'], "argument --enable-lora/--no-enable-lora: ignored explicit argument 'yes'"],
    [['--disable-log-stats=1'], "argument --disable-log-stats: ignored explicit argument '1'"],
    [['--help'], 'argument -h/--help: prints usage and exits; not a server option'],
    [['--port', 'x', '--max-lora', '8'], 'ambiguous option: --max-lora could match --max-loras, --max-lora-rank'],
  ];
  for (const [argv, expected] of rows) {
    it(`${JSON.stringify(argv)} -> ${typeof expected === 'string' ? expected : 'ok'}`, () => {
      assert.deepEqual(summary(checkArgv(vllm, argv, VLLM)), expected);
    });
  }

  it('reports the index of the offending token', () => {
    const at = (argv: string[]) => {
      const r = checkArgv(vllm, argv, VLLM);
      assert.ok(!r.ok);
      return [r.error.index, r.error.flag, r.error.code];
    };
    assert.deepEqual(at(['--port', '1', '--dtype', 'fp4']), [3, '--dtype', 'invalid-value']);
    assert.deepEqual(at(['--port', '1', '--foo']), [2, '--foo', 'unrecognized']);
    assert.deepEqual(at(['--port', '1', '--max-lora', '8']), [2, '--max-lora', 'ambiguous']);
    assert.deepEqual(at(['--port', '1', '--served-model-name']), [2, '--served-model-name', 'expected-value']);
    assert.deepEqual(at(['--compilation-config.level']), [0, '--compilation-config', 'expected-value']);
  });

  it('records every token a use took, dotted keys included', () => {
    const r = checkArgv(vllm, ['--port', '1', '--compilation-config.level', '3', '-tp', '2'], VLLM);
    assert.ok(r.ok);
    assert.deepEqual(
      r.uses.map((u) => [u.flag, u.optionString, u.index, u.tokens]),
      [
        ['--port', '--port', 0, [0, 1]],
        ['--tensor-parallel-size', '-tp', 4, [4, 5]],
        ['--compilation-config', '--compilation-config', 2, [2, 3]],
      ],
    );
  });

  it('marks the --no- spelling as negated', () => {
    const r = checkArgv(vllm, ['--no-enable-l', '--enable-lora-b'], VLLM);
    assert.ok(!r.ok); // --no-enable-l is ambiguous with --no-enable-lora-bias
    const ok = checkArgv(vllm, ['--no-enable-lora'], VLLM);
    assert.ok(ok.ok);
    assert.equal(ok.uses[0]!.negated, true);
  });
});

describe('SGLang 0.4.6.x launch_server parser', () => {
  const base = ['--model-path', 'm'];
  const rows: [version: string, argv: string[], expected: Record<string, string[]> | string][] = [
    ['0.4.6', ['--tp-size', '2'], { '--model-path': ['m'], '--tensor-parallel-size': ['2'] }],
    ['0.4.6', ['--tp', '2'], { '--model-path': ['m'], '--tensor-parallel-size': ['2'] }],
    ['0.4.6', ['--tensor-parallel-size=2'], { '--model-path': ['m'], '--tensor-parallel-size': ['2'] }],
    ['0.4.6', ['--dp', '2'], { '--model-path': ['m'], '--data-parallel-size': ['2'] }],
    ['0.4.6', ['--lora-paths'], { '--model-path': ['m'], '--lora-paths': [] }],
    ['0.4.6', ['--lora-paths', 'a=/x', 'b=/y', '--disable-radix-cache'], { '--model-path': ['m'], '--lora-paths': ['a=/x', 'b=/y'], '--disable-radix-cache': [] }],
    ['0.4.6', ['--cuda-graph-bs', '1', '2', '4'], { '--model-path': ['m'], '--cuda-graph-bs': ['1', '2', '4'] }],
    ['0.4.6.post1', ['--reasoning-parser', 'qwen3'], { '--model-path': ['m'], '--reasoning-parser': ['qwen3'] }],
    ['0.4.6.post2', ['--pp-size', '2'], { '--model-path': ['m'], '--pipeline-parallel-size': ['2'] }],
    ['0.4.6.post2', ['--tool-call-parser', 'pythonic'], { '--model-path': ['m'], '--tool-call-parser': ['pythonic'] }],
    ['0.4.6.post5', ['--attention-backend', 'aiter'], { '--model-path': ['m'], '--attention-backend': ['aiter'] }],

    ['0.4.6', ['--gpu-memory-utilization', '0.8'], 'unrecognized arguments: --gpu-memory-utilization 0.8'],
    ['0.4.6', ['--model_path', 'x'], 'unrecognized arguments: --model_path x'],
    ['0.4.6', ['--no-trust-remote-code'], 'unrecognized arguments: --no-trust-remote-code'],
    ['0.4.6', ['-tp', '2'], 'unrecognized arguments: -tp 2'],
    ['0.4.6', ['--pp-size', '2'], 'unrecognized arguments: --pp-size 2'],
    ['0.4.6.post1', ['--pipeline-parallel-size', '2'], 'unrecognized arguments: --pipeline-parallel-size 2'],
    ['0.4.6', ['--reasoning-parser', 'qwen3'], "argument --reasoning-parser: invalid choice: 'qwen3' (choose from 'deepseek-r1')"],
    ['0.4.6.post1', ['--tool-call-parser', 'pythonic'], "argument --tool-call-parser: invalid choice: 'pythonic' (choose from 'qwen25', 'mistral', 'llama3', 'deepseekv3')"],
    ['0.4.6', ['--tp-size', 'two'], "argument --tensor-parallel-size/--tp-size: invalid int value: 'two'"],
    ['0.4.6', ['--disable-cuda'], 'ambiguous option: --disable-cuda could match --disable-cuda-graph, --disable-cuda-graph-padding'],
    ['0.4.6', ['--enable-flashmla'], 'argument --enable-flashmla: removed option; the engine raises ValueError when it is given'],
  ];
  for (const [version, argv, expected] of rows) {
    it(`${version} ${JSON.stringify(argv)} -> ${typeof expected === 'string' ? expected : 'ok'}`, () => {
      assert.deepEqual(summary(checkArgv(sglang, [...base, ...argv], sglangAt(version))), expected);
    });
  }

  it('requires --model-path', () => {
    assert.equal(summary(checkArgv(sglang, ['--port', '1'], sglangAt('0.4.6'))), 'the following arguments are required: --model-path');
  });
});

// The two argparse failures in the fixtures were produced by running the tags'
// own parser code: Berth must print the same last line.
describe('argparse wording matches the engine logs', () => {
  const cases = [
    { file: 'vllm-0.9.0.1-unrecognized-arg.log', spec: vllm, at: VLLM, prog: 'api_server.py' },
    { file: 'sglang-0.4.6-unrecognized-arg.log', spec: sglang, at: sglangAt('0.4.6'), prog: 'launch_server.py' },
  ];
  for (const c of cases) {
    it(c.file, () => {
      const table = JSON.parse(readFileSync(join(logs, 'cases.json'), 'utf8')) as { files: Record<string, { argv: string[] }> };
      const argv = table.files[c.file]!.argv.slice(3); // after `python3 -m <module>`
      const lastLine = readFileSync(join(logs, c.file), 'utf8').trimEnd().split('\n').at(-1);
      const r = checkArgv(c.spec, argv, c.at);
      assert.ok(!r.ok);
      assert.equal(`${c.prog}: error: ${r.error.message}`, lastLine);
    });
  }
});
