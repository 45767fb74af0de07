// Reads an engine's /metrics body (Prometheus text format 0.0.4, as written by
// prometheus_client) into samples, and picks out the few gauges Berth shows.
// Pure: the fetch lives in metrics/engine-stats.ts.
//
// Engine facts that shape this file (vLLM 0.9.0.1 V1, SGLang 0.4.6):
// - vLLM does not disable prometheus_client's `_created` series, so every
//   counter `X_total` and histogram `X` comes with a `X_created` gauge holding a
//   unix timestamp (~1.7e9). Taking one for a counter reads as billions of
//   tokens, hence exact names and the `created` flag below.
// - vLLM labels every engine series with `engine` and `model_name`, SGLang with
//   `model_name` (plus `engine_type` on scheduler gauges); with data parallelism
//   or several served names one metric has several label sets.
// - SGLang runs prometheus_client's multiprocess collector: no `_created`, and
//   histogram `_sum` comes before the buckets. Nothing here depends on order.
import type { Backend } from '../contract/deployment.js';
import type { EngineGauges } from '../contract/stats.js';

export interface Sample {
  /** The series name as written, suffix included (`vllm:prompt_tokens_total`, `..._bucket`). */
  name: string;
  /** Label values unescaped. `le` stays a string ("+Inf", "0.5"), as in the text. */
  labels: Readonly<Record<string, string>>;
  /** May be NaN, +Infinity or -Infinity: the format allows them. */
  value: number;
  /**
   * True for prometheus_client's `<family>_created` creation-timestamp series:
   * a sample named `X_created` where the same body declares or shows a counter
   * or histogram/summary `X` (`X_total`, `X_count`, or a TYPE line). Kept so a
   * caller can see them, flagged so nobody sums a timestamp as a count.
   */
  created: boolean;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
// Go's ParseFloat as Prometheus uses it, minus hex floats no Python exporter writes.
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses Prometheus text exposition into samples in body order.
 *
 * Lenient on purpose: a line it cannot read is skipped, not fatal, because one
 * odd series from a newer engine version must not blank the whole stats panel.
 * Comments (`# HELP`, `# TYPE`, anything else after `#`) produce no samples;
 * TYPE lines only help recognise `_created` series. Timestamps after the value
 * are accepted and dropped.
 */
export function parsePrometheusText(text: string): Sample[] {
  const parsed: Omit<Sample, 'created'>[] = [];
  // Families that own a `_created` companion: `X` for a counter exposed as
  // `X_total`, or for a histogram/summary `X`.
  const families = new Set<string>();

  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const trimmed = line.trimStart();
    if (trimmed === '') continue;
    if (trimmed.startsWith('#')) {
      const m = /^#\s+TYPE\s+(\S+)\s+(\S+)/.exec(trimmed);
      if (m) {
        const [, name = '', type = ''] = m;
        // prometheus_client writes `# TYPE X_total counter` in format 0.0.4
        // and `# TYPE X counter` in OpenMetrics; accept both spellings.
        if (type === 'counter') families.add(stripSuffix(name, '_total'));
        else if (type === 'histogram' || type === 'summary' || type === 'gaugehistogram') families.add(name);
      }
      continue;
    }
    const sample = parseSampleLine(trimmed);
    if (!sample) continue;
    if (sample.name.endsWith('_total')) families.add(stripSuffix(sample.name, '_total'));
    else if (sample.name.endsWith('_count')) families.add(stripSuffix(sample.name, '_count'));
    parsed.push(sample);
  }

  return parsed.map((s) => ({
    ...s,
    created: s.name.endsWith('_created') && families.has(stripSuffix(s.name, '_created')),
  }));
}

function stripSuffix(name: string, suffix: string): string {
  return name.endsWith(suffix) ? name.slice(0, -suffix.length) : name;
}

/** `name{a="x",b="y"} value [timestamp]`, or null when the line is malformed. */
function parseSampleLine(line: string): Omit<Sample, 'created'> | null {
  const nameMatch = METRIC_NAME.exec(line);
  if (!nameMatch) return null;
  const name = nameMatch[0];
  let i = name.length;

  const entries: [string, string][] = [];
  const brace = skipBlanks(line, i);
  if (line[brace] === '{') {
    i = skipBlanks(line, brace + 1);
    while (line[i] !== '}') {
      const labelMatch = LABEL_NAME.exec(line.slice(i));
      if (!labelMatch) return null;
      const label = labelMatch[0];
      i = skipBlanks(line, i + label.length);
      if (line[i] !== '=') return null;
      i = skipBlanks(line, i + 1);
      if (line[i] !== '"') return null;
      const value = readQuoted(line, i + 1);
      if (!value) return null;
      entries.push([label, value.text]);
      i = skipBlanks(line, value.end);
      // A trailing comma before `}` is legal in the format.
      if (line[i] === ',') i = skipBlanks(line, i + 1);
      else if (line[i] !== '}') return null;
    }
    i += 1;
  }

  // The value must be separated from the name or the closing brace.
  const rest = line.slice(i);
  if (rest !== '' && !/^[ \t]/.test(rest)) return null;
  const [valueToken, timestamp, ...extra] = rest.trim().split(/[ \t]+/);
  if (valueToken === undefined || extra.length > 0) return null;
  if (timestamp !== undefined && !/^-?\d+$/.test(timestamp)) return null;
  const value = parseValue(valueToken);
  if (value === null) return null;
  // fromEntries defines own properties, so a label named `__proto__` stays data.
  return { name, labels: Object.fromEntries(entries), value };
}

function skipBlanks(s: string, i: number): number {
  while (s[i] === ' ' || s[i] === '\t') i += 1;
  return i;
}

/**
 * Reads a label value whose opening quote is just before `start`. The format
 * escapes only `\\`, `\"` and `\n`; any other backslash is kept as written,
 * which is what prometheus_client's own parser does.
 */
function readQuoted(s: string, start: number): { text: string; end: number } | null {
  let out = '';
  for (let i = start; i < s.length; i += 1) {
    const c = s[i];
    if (c === '"') return { text: out, end: i + 1 };
    if (c === '\\' && i + 1 < s.length) {
      const next = s[i + 1];
      if (next === '\\' || next === '"') out += next;
      else if (next === 'n') out += '\n';
      else out += c + next;
      i += 1;
      continue;
    }
    out += c;
  }
  return null;
}

function parseValue(token: string): number | null {
  switch (token.toLowerCase()) {
    case 'nan':
      return Number.NaN;
    case '+inf':
    case 'inf':
      return Number.POSITIVE_INFINITY;
    case '-inf':
      return Number.NEGATIVE_INFINITY;
  }
  return FLOAT.test(token) ? Number(token) : null;
}

type Combine = 'sum' | 'max';
type GaugeSource = { name: string; combine: Combine };

// Exact series names per engine. A Record over Backend, so adding an engine to
// the contract fails to compile until it says where its gauges are.
//
// Counts add up across label sets (one per served name or per data-parallel
// engine). KV-cache usage is a fraction per engine: a sum could pass 1 and a
// mean would hide one full engine, so the fullest one is reported.
const SOURCES: Record<Backend, Record<keyof EngineGauges, GaugeSource>> = {
  vllm: {
    runningRequests: { name: 'vllm:num_requests_running', combine: 'sum' },
    waitingRequests: { name: 'vllm:num_requests_waiting', combine: 'sum' },
    kvCacheUsage: { name: 'vllm:gpu_cache_usage_perc', combine: 'max' },
    promptTokensTotal: { name: 'vllm:prompt_tokens_total', combine: 'sum' },
    generationTokensTotal: { name: 'vllm:generation_tokens_total', combine: 'sum' },
  },
  sglang: {
    runningRequests: { name: 'sglang:num_running_reqs', combine: 'sum' },
    // SGLang has no num_requests_waiting; its scheduler queue is num_queue_reqs.
    waitingRequests: { name: 'sglang:num_queue_reqs', combine: 'sum' },
    kvCacheUsage: { name: 'sglang:token_usage', combine: 'max' },
    promptTokensTotal: { name: 'sglang:prompt_tokens_total', combine: 'sum' },
    generationTokensTotal: { name: 'sglang:generation_tokens_total', combine: 'sum' },
  },
};

/**
 * The gauges Berth shows for one engine, from its /metrics body. A gauge is
 * null when no finite sample of its exact name is present: NaN or ±Inf carry
 * no usable reading, and a null says "unknown" where a 0 would lie.
 */
export function engineGauges(backend: Backend, text: string): EngineGauges {
  const samples = parsePrometheusText(text);
  const pick = ({ name, combine }: GaugeSource): number | null => {
    let acc: number | null = null;
    for (const s of samples) {
      if (s.name !== name || s.created || !Number.isFinite(s.value)) continue;
      acc = acc === null ? s.value : combine === 'sum' ? acc + s.value : Math.max(acc, s.value);
    }
    return acc;
  };
  const src = SOURCES[backend];
  return {
    runningRequests: pick(src.runningRequests),
    waitingRequests: pick(src.waitingRequests),
    kvCacheUsage: pick(src.kvCacheUsage),
    promptTokensTotal: pick(src.promptTokensTotal),
    generationTokensTotal: pick(src.generationTokensTotal),
  };
}
