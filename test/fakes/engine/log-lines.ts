// The engines' console line formats and which stream each line goes to. The stream split
// follows the engine-logs README ("stdout vs stderr", from the source at the tags): vLLM's own
// logger writes to stdout, SGLang's logger to stderr, uvicorn server lines to stderr and
// uvicorn access lines to stdout; tracebacks, tqdm bars and argparse output to stderr.
import type { EngineName } from './shared.js';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function now(): { date: string; time: string; ms: string } {
  const d = new Date();
  return {
    date: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
    time: `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`,
    ms: pad(d.getMilliseconds(), 3),
  };
}

/** vLLM's logger: `INFO 06-05 09:07:08 [api_server.py:1336] message` (datefmt %m-%d %H:%M:%S). */
export function vllmLine(level: string, where: string, message: string): string {
  const t = now();
  return `${level} ${t.date.slice(5)} ${t.time} [${where}] ${message}`;
}

/** SGLang's logger: `[2025-05-02 16:13:35] message`; scheduler processes add ` TP<n>`. */
export function sglangLine(message: string): string {
  const t = now();
  return `[${t.date} ${t.time}] ${message}`;
}

/** uvicorn's `INFO:     message` (level prefix padded to 9); SGLang reformats it with its date. */
export function uvicornLine(engine: EngineName, level: string, message: string): string {
  const text = `${level}:${' '.repeat(9 - level.length)}${message}`;
  return engine === 'sglang' ? sglangLine(text) : text;
}

/** Replaces a fixture line's timestamp with the current time, keeping its format. */
export function retime(line: string): string {
  const t = now();
  return line
    .replace(/^((?:\(\w+ rank=\d+ pid=\d+\) )?(?:DEBUG|INFO|WARNING|ERROR|CRITICAL) )\d\d-\d\d \d\d:\d\d:\d\d/, `$1${t.date.slice(5)} ${t.time}`)
    .replace(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/, `[${t.date} ${t.time}`)
    // flashinfer's own logger; its records can also land mid-line, after a tqdm bar.
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}(?= - )/g, `${t.date} ${t.time},${t.ms}`);
}

/** True when the line carries a log-record timestamp (a moment in time, not a continuation). */
export function isRecord(line: string): boolean {
  return /^(\(\w+ rank=\d+ pid=\d+\) )?(DEBUG|INFO|WARNING|ERROR|CRITICAL) \d\d-\d\d |^\[\d{4}-|^\d{4}-\d\d-\d\d /.test(line);
}

const ACCESS = /^(\[[^\]]+\] )?INFO: +\S+:\d+ - "/;

export function streamOf(engine: EngineName, line: string): 'stdout' | 'stderr' {
  if (ACCESS.test(line)) return 'stdout';
  if (engine === 'sglang') return 'stderr';
  return /^(\(\w+ rank=\d+ pid=\d+\) )?(DEBUG|INFO|WARNING|ERROR|CRITICAL) \d\d-\d\d /.test(line) ? 'stdout' : 'stderr';
}

/**
 * Writes one line. process.stdout/stderr writes are synchronous on Linux for files, pipes and
 * ttys, so the order on a pty is the write order and nothing is lost on process.exit().
 */
export function emit(engine: EngineName, line: string, stream = streamOf(engine, line)): void {
  (stream === 'stdout' ? process.stdout : process.stderr).write(`${line}\n`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Replays fixture lines, spreading `totalMs` evenly over the timestamped records; lines
 * without a timestamp (traceback bodies, bars) follow their record at once, as they do live.
 */
export async function replay(engine: EngineName, lines: string[], totalMs: number, edit: (l: string) => string = (l) => l) {
  const records = lines.filter(isRecord).length;
  const step = records > 1 ? totalMs / (records - 1) : 0;
  let first = true;
  for (const line of lines) {
    if (isRecord(line)) {
      if (!first && step > 0) await sleep(step);
      first = false;
    }
    emit(engine, edit(retime(line)));
  }
}
