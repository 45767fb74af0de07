import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engineGauges, parsePrometheusText } from '../../daemon/engines/metrics-scrape.js';
import { readEngineFixture } from './engine-fixtures.js';

const vllmText = readEngineFixture('vllm-metrics.txt');
const sglangText = readEngineFixture('sglang-metrics.txt');

/** Lines that should each yield one sample: not blank, not a comment. */
const sampleLines = (text: string) => text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));

describe('parsePrometheusText', () => {
  it('reads names, sorted labels with `le` among them, and values', () => {
    const [s] = parsePrometheusText(
      'vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="Qwen/Qwen2.5-0.5B-Instruct"} 1.0\n',
    );
    assert.deepEqual(s, {
      name: 'vllm:time_to_first_token_seconds_bucket',
      labels: { engine: '0', le: '+Inf', model_name: 'Qwen/Qwen2.5-0.5B-Instruct' },
      value: 1,
      created: false,
    });
  });

  it('unescapes \\\\, \\" and \\n in label values and keeps other backslashes', () => {
    const [s] = parsePrometheusText(String.raw`m{a="x\\y",b="say \"hi\"",c="l1\nl2",d="C:\temp",e="}, {"} 2` + '\n');
    assert.deepEqual(s?.labels, { a: 'x\\y', b: 'say "hi"', c: 'l1\nl2', d: 'C:\\temp', e: '}, {' });
  });

  it('reads +Inf, -Inf, NaN, exponents and drops timestamps', () => {
    const values = parsePrometheusText(
      ['a +Inf', 'b -Inf', 'c NaN', 'd 1.1701968896e+010', 'e 7 1700000000000', 'f{x="1"}\t-0.5', 'g Inf'].join('\n'),
    ).map((s) => [s.name, s.value]);
    assert.deepEqual(values, [
      ['a', Infinity],
      ['b', -Infinity],
      ['c', NaN],
      ['d', 11701968896],
      ['e', 7],
      ['f', -0.5],
      ['g', Infinity],
    ]);
  });

  it('skips comments, blank lines and malformed lines; accepts CRLF and a trailing comma', () => {
    const text = [
      '# HELP m Help with {braces} and "quotes".',
      '# TYPE m gauge',
      '# a free comment',
      '',
      'm{a="1",} 3\r',
      'no_value',
      'bad{a="unterminated} 1',
      'bad{a=1} 1',
      'bad 1.2.3',
      'bad{a="1"}4',
      'bad 1 2 3',
      '   m{a="2"} 4',
    ].join('\n');
    assert.deepEqual(
      parsePrometheusText(text).map((s) => [s.labels.a, s.value]),
      [
        ['1', 3],
        ['2', 4],
      ],
    );
  });

  it('keeps a label named __proto__ as plain data', () => {
    const [s] = parsePrometheusText('m{__proto__="x"} 1');
    assert.equal(Object.getPrototypeOf(s?.labels), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(s?.labels, '__proto__')?.value, 'x');
  });

  it('flags `_created` only where a counter or histogram of that family exists', () => {
    const text = [
      '# TYPE c_total counter',
      'c_total 5',
      '# TYPE c_created gauge',
      'c_created 1.7e9',
      // OpenMetrics spelling of a counter TYPE, sample order reversed.
      'd_created 1.7e9',
      '# TYPE d counter',
      // A histogram whose family name itself ends in _total (vLLM iteration_tokens_total).
      'h_total_count 2',
      'h_total_created 1.7e9',
      // A gauge that merely ends in _created: no family owns it.
      'jobs_created 12',
    ].join('\n');
    assert.deepEqual(
      parsePrometheusText(text).map((s) => [s.name, s.created]),
      [
        ['c_total', false],
        ['c_created', true],
        ['d_created', true],
        ['h_total_count', false],
        ['h_total_created', true],
        ['jobs_created', false],
      ],
    );
  });

  it('reads every sample line of the vLLM fixture and flags exactly its `_created` series', () => {
    const samples = parsePrometheusText(vllmText);
    assert.equal(samples.length, sampleLines(vllmText).length);
    const created = samples.filter((s) => s.created);
    assert.deepEqual(
      created.map((s) => s.name),
      samples.filter((s) => s.name.endsWith('_created')).map((s) => s.name),
    );
    assert.ok(created.length >= 20);
    // All creation timestamps (~1.7e9), none a count.
    for (const s of created) assert.ok(s.value > 1.7e9 && s.value < 1.8e9, `${s.name} ${s.value}`);

    const info = samples.find((s) => s.name === 'vllm:lora_requests_info');
    assert.deepEqual(info?.labels, { max_lora: '1', running_lora_adapters: '', waiting_lora_adapters: '' });
    const cache = samples.find((s) => s.name === 'vllm:cache_config_info');
    assert.equal(cache?.labels.num_gpu_blocks, '102400');
    assert.equal(cache?.labels.swap_space_bytes, '4294967296');
    const inf = samples.find(
      (s) => s.name === 'vllm:time_to_first_token_seconds_bucket' && s.labels.le === '+Inf',
    );
    assert.equal(inf?.value, 1);
  });

  it('reads every sample line of the SGLang fixture (multiprocess: _sum before buckets, no _created)', () => {
    const samples = parsePrometheusText(sglangText);
    assert.equal(samples.length, sampleLines(sglangText).length);
    assert.equal(samples.filter((s) => s.name.endsWith('_created')).length, 0);
    const ttft = samples.filter((s) => s.name.startsWith('sglang:time_to_first_token_seconds'));
    assert.equal(ttft[0]?.name, 'sglang:time_to_first_token_seconds_sum');
    assert.equal(ttft[0]?.value, 0.0421);
    assert.equal(ttft.at(-1)?.name, 'sglang:time_to_first_token_seconds_count');
  });
});

describe('engineGauges', () => {
  it('reads the vLLM fixture', () => {
    assert.deepEqual(engineGauges('vllm', vllmText), {
      runningRequests: 0,
      waitingRequests: 0,
      kvCacheUsage: 0,
      promptTokensTotal: 30,
      generationTokensTotal: 10,
    });
  });

  it('reads the SGLang fixture', () => {
    assert.deepEqual(engineGauges('sglang', sglangText), {
      runningRequests: 0,
      waitingRequests: 0,
      kvCacheUsage: 0,
      promptTokensTotal: 42,
      generationTokensTotal: 10,
    });
  });

  it('returns nulls for the other engine’s body: names are exact, not guessed', () => {
    const none = { runningRequests: null, waitingRequests: null, kvCacheUsage: null, promptTokensTotal: null, generationTokensTotal: null };
    assert.deepEqual(engineGauges('sglang', vllmText), none);
    assert.deepEqual(engineGauges('vllm', sglangText), none);
    assert.deepEqual(engineGauges('vllm', ''), none);
  });

  it('never takes a `_created` timestamp or a longer name for a counter', () => {
    const text = [
      'vllm:prompt_tokens_created{engine="0",model_name="m"} 1.7488444001234567e+09',
      'vllm:prompt_tokens_total_extra{engine="0",model_name="m"} 99',
      'vllm:prompt_tokens_total{engine="0",model_name="m"} 30.0',
    ].join('\n');
    assert.equal(engineGauges('vllm', text).promptTokensTotal, 30);
  });

  it('sums counts across label sets, takes the fullest KV cache, ignores non-finite values', () => {
    const text = [
      'vllm:num_requests_running{engine="0",model_name="a"} 3.0',
      'vllm:num_requests_running{engine="1",model_name="a"} 4.0',
      'vllm:num_requests_waiting{engine="0",model_name="a"} NaN',
      'vllm:num_requests_waiting{engine="1",model_name="a"} 2.0',
      'vllm:gpu_cache_usage_perc{engine="0",model_name="a"} 0.25',
      'vllm:gpu_cache_usage_perc{engine="1",model_name="a"} 0.875',
      'vllm:generation_tokens_total{engine="0",model_name="a"} NaN',
    ].join('\n');
    assert.deepEqual(engineGauges('vllm', text), {
      runningRequests: 7,
      waitingRequests: 2,
      kvCacheUsage: 0.875,
      promptTokensTotal: null,
      generationTokensTotal: null,
    });
  });

  it('sums SGLang series across served names', () => {
    const text = [
      'sglang:num_queue_reqs{engine_type="unified",model_name="a"} 1.0',
      'sglang:num_queue_reqs{engine_type="unified",model_name="b"} 2.0',
      'sglang:prompt_tokens_total{model_name="a"} 10.0',
      'sglang:prompt_tokens_total{model_name="b"} 5.0',
    ].join('\n');
    const g = engineGauges('sglang', text);
    assert.equal(g.waitingRequests, 3);
    assert.equal(g.promptTokensTotal, 15);
  });
});
