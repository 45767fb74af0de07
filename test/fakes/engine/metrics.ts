// GET /metrics with live values. The engine-responses fixture is the template: its families,
// HELP/TYPE lines, label order, buckets and sample order stay as they are (vLLM: single-process
// prometheus_client with *_created series; SGLang: multiprocess, _sum before the buckets), and
// only the model_name label and the sample values are replaced by what this process served.
import { pyFloatRepr } from './pyrepr.js';
import type { EngineName } from './shared.js';
import { responseFixture } from './shared.js';

export interface Finished {
  prompt: number;
  completion: number;
  finish: 'stop' | 'length' | 'abort';
  maxTokens: number;
  ttft: number;
  e2e: number;
  interToken: number[];
}

export class Metrics {
  private readonly template: string[];
  private readonly created = Date.now() / 1000;
  /**
   * Per histogram family: counts per bucket of the template's own bounds, the
   * sum and the count, as prometheus_client keeps them. Kept as buckets, not
   * values: the bench streams millions of tokens, and a scrape every 2 s must
   * cost the same after them as before.
   */
  private readonly hists = new Map<string, Histogram>();
  private readonly totals = { prompt: 0, generation: 0, requests: 0 };
  private readonly byReason = new Map<string, number>();
  private lastRequestAt = 0;

  constructor(
    private readonly engine: EngineName,
    private readonly modelName: string,
    private readonly loraEnabled: boolean,
  ) {
    this.template = responseFixture(`${engine}-metrics.txt`).replace(/\n$/, '').split('\n');
    for (const line of this.template) {
      const m = /^([\w:]+)_bucket\{.*le="([^"]+)"/.exec(line);
      if (!m) continue;
      const family = m[1] as string;
      let h = this.hists.get(family);
      if (!h) this.hists.set(family, (h = { bounds: [], counts: [], sum: 0, count: 0 }));
      const le = m[2] === '+Inf' ? Infinity : Number(m[2]);
      if (!h.bounds.includes(le)) h.bounds.push(le);
    }
    for (const h of this.hists.values()) {
      h.bounds.sort((a, b) => a - b);
      h.counts = h.bounds.map(() => 0);
    }
  }

  record(f: Finished): void {
    this.byReason.set(f.finish, (this.byReason.get(f.finish) ?? 0) + 1);
    this.lastRequestAt = Date.now() / 1000;
    if (f.finish === 'abort') return;
    this.totals.prompt += f.prompt;
    this.totals.generation += f.completion;
    this.totals.requests += 1;
    const decode = Math.max(0, f.e2e - f.ttft);
    const hist: Record<string, number[]> =
      this.engine === 'vllm'
        ? {
            'vllm:request_prompt_tokens': [f.prompt],
            'vllm:request_generation_tokens': [f.completion],
            // The first engine step schedules the whole prompt, each later step one token.
            'vllm:iteration_tokens_total': [f.prompt, ...Array<number>(Math.max(0, f.completion - 1)).fill(1)],
            'vllm:request_max_num_generation_tokens': [f.maxTokens],
            'vllm:request_params_n': [1],
            'vllm:request_params_max_tokens': [f.maxTokens],
            'vllm:time_to_first_token_seconds': [f.ttft],
            'vllm:time_per_output_token_seconds': f.interToken,
            'vllm:e2e_request_latency_seconds': [f.e2e],
            'vllm:request_queue_time_seconds': [0],
            'vllm:request_inference_time_seconds': [f.e2e],
            'vllm:request_prefill_time_seconds': [f.ttft],
            'vllm:request_decode_time_seconds': [decode],
          }
        : {
            'sglang:time_to_first_token_seconds': [f.ttft],
            'sglang:inter_token_latency_seconds': f.interToken,
            'sglang:e2e_request_latency_seconds': [f.e2e],
          };
    for (const [k, values] of Object.entries(hist)) {
      const h = this.hists.get(k);
      if (!h) continue; // a family the fixture has no buckets for
      for (const v of values) {
        const i = h.bounds.findIndex((b) => v <= b);
        if (i >= 0) h.counts[i]! += 1;
        h.sum += v;
        h.count += 1;
      }
    }
  }

  render(running: number): string {
    const live: Record<string, (labels: string) => number> = {
      'vllm:num_requests_running': () => running,
      'vllm:prompt_tokens_total': () => this.totals.prompt,
      'vllm:gpu_prefix_cache_queries_total': () => this.totals.prompt,
      'vllm:generation_tokens_total': () => this.totals.generation,
      'vllm:request_success_total': (l) => this.byReason.get(/finished_reason="(\w+)"/.exec(l)?.[1] ?? '') ?? 0,
      'vllm:cache_config_info': () => 1,
      'vllm:lora_requests_info': () => this.lastRequestAt,
      'sglang:num_running_reqs': () => running,
      'sglang:prompt_tokens_total': () => this.totals.prompt,
      'sglang:generation_tokens_total': () => this.totals.generation,
      'sglang:num_requests_total': () => this.totals.requests,
    };
    // vllm:lora_requests_info exists only with --enable-lora, once a request has been recorded.
    const skip = new Set(this.loraEnabled && this.lastRequestAt ? [] : ['vllm:lora_requests_info']);
    const out: string[] = [];
    let family = '';
    let histogram = false;
    for (const line of this.template) {
      const meta = /^# (HELP|TYPE) (\S+)(?: (\S+))?/.exec(line);
      if (meta) {
        family = meta[2] as string;
        if (meta[1] === 'TYPE') histogram = meta[3] === 'histogram';
        if (!skip.has(family)) out.push(line);
        continue;
      }
      const m = /^([\w:]+)(\{.*\})? (\S+)$/.exec(line);
      if (!m || skip.has(family)) continue;
      const [, name, rawLabels = '', fixtureValue] = m as unknown as [string, string, string | undefined, string];
      const labels = rawLabels.replace(/model_name="(?:[^"\\]|\\.)*"/, `model_name="${escapeLabel(this.modelName)}"`);
      const engineSeries = name.startsWith(`${this.engine}:`);
      let value: number | string = fixtureValue; // python_* and process_* keep the fixture's values
      if (name.endsWith('_created')) value = this.created;
      else if (histogram && engineSeries) value = this.histogramSample(family, name, labels);
      else if (engineSeries) value = live[name]?.(labels) ?? 0;
      out.push(`${name}${labels} ${typeof value === 'number' ? floatToGoString(value) : value}`);
    }
    return `${out.join('\n')}\n`;
  }

  private histogramSample(family: string, name: string, labels: string): number {
    const h = this.hists.get(family);
    if (!h) return 0;
    if (name === `${family}_count`) return h.count;
    if (name === `${family}_sum`) return h.sum;
    const raw = /le="([^"]+)"/.exec(labels)?.[1] ?? '+Inf';
    const le = raw === '+Inf' ? Infinity : Number(raw);
    let n = 0;
    for (let i = 0; i < h.bounds.length && h.bounds[i]! <= le; i++) n += h.counts[i]!;
    return n;
  }
}

interface Histogram {
  /** Upper bounds, ascending, +Inf last. */
  bounds: number[];
  /** Observations per bucket (not cumulative). */
  counts: number[];
  sum: number;
  count: number;
}

function escapeLabel(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** prometheus_client's floatToGoString: Python repr, but Go's early switch to exponent form. */
export function floatToGoString(d: number): string {
  if (d === Infinity) return '+Inf';
  if (d === -Infinity) return '-Inf';
  if (Number.isNaN(d)) return 'NaN';
  const s = pyFloatRepr(d);
  const dot = s.indexOf('.');
  if (d > 0 && dot > 6) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, '');
    return `${mantissa}e+0${dot - 1}`;
  }
  return s;
}
