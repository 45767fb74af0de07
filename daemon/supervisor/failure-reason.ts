// Why an engine failed, in one or two lines a user can act on. Pure: the last
// lines of the engine's output and its exit in, a sentence out.
//
// Rules from the engine-logs fixtures (vLLM 0.9.0.1, SGLang 0.4.6; see
// test/fixtures/engine-logs/README.md, "Lines to show for a failure"):
//  - The exit classifies, the text explains. Exit 2 is argparse (bad
//    arguments); SIGKILL after SGLang's "Received sigquit" is SGLang killing
//    its own tree; anything else is named as it is.
//  - argparse prints a 100-line usage block and one `<prog>: error: ...` line;
//    only that line matters.
//  - A Python traceback's point is its exception line, plus the indented lines
//    pydantic continues it with.
//  - vLLM logs the engine-core traceback with `ERROR <date> <time> [core.py:500] `
//    on every line, then raises a generic `RuntimeError: Engine core
//    initialization failed. See root cause above.`; the root cause is the
//    exception before it.
//  - Chained exceptions: the last one is what was raised, but the useful words
//    can sit in its cause (vLLM's "Invalid repository ID" checklist vs the
//    Hub's "Repository Not Found for url: ...").
//  - SGLang's uvicorn bind error is fatal even though the process lives on
//    (isFatalLogLine): its warm-up thread keeps going and ends in unrelated
//    errors minutes later.
import type { Backend } from '../contract/deployment.js';
import type { ExitInfo } from '../launchers/types.js';
import { stripAnsi } from '../logs/ansi.js';

export interface FailureInput {
  /** The engine's last output lines (~200), plain or raw; prefixes and colours are handled here. */
  lines: readonly string[];
  /** null while the process still runs (a fatal line or a timeout stopped the wait). */
  exit: ExitInfo | null;
  backend: Backend;
  /** The engine did not become ready in time. */
  timedOut?: boolean;
  timeoutMs?: number;
}

/** Longest single line quoted in a reason; longer ones are cut with an ellipsis. */
const MAX_LINE = 500;
/** At most this many lines continue an exception line (pydantic lists one per error). */
const MAX_DETAIL_LINES = 6;
/** Lines of an exception's message remembered for its cause detail. */
const MAX_MESSAGE_LINES = 40;

// ---------- line cleanup ----------

/** vLLM process prefix: `(VllmWorker rank=0 pid=123) ` (0.9), `(EngineCore_0 pid=..) ` and `(APIServer pid=..) ` (later). */
const VLLM_PROCESS_PREFIX = /^\((?:VllmWorker|EngineCore\w*|APIServer)\b[^)]*\)\s/;
/** SGLang record prefix: `[2025-05-08 11:02:23] `, `[2025-05-08 11:02:23 TP0] `, `[... DP0 TP1] `. */
const SGLANG_PREFIX = /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: [A-Z]+\d+)*\] /;
/** vLLM record prefix: `ERROR 06-05 09:08:05 [core.py:500] ` (exactly one space: traceback indentation follows). */
const VLLM_PREFIX = /^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL) \d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \[[^\]]*\] /;
/** uvicorn level prefix: `ERROR:    `. */
const UVICORN_PREFIX = /^(?:TRACE|DEBUG|INFO|WARNING|ERROR|CRITICAL):\s+/;

/** A line without colours, trailing blanks and the engines' logging prefixes. */
export function cleanLine(line: string): string {
  return stripAnsi(line)
    .trimEnd()
    .replace(VLLM_PROCESS_PREFIX, '')
    .replace(SGLANG_PREFIX, '')
    .replace(VLLM_PREFIX, '')
    .replace(UVICORN_PREFIX, '');
}

function clip(line: string): string {
  return line.length <= MAX_LINE ? line : `${line.slice(0, MAX_LINE - 1)}…`;
}

// ---------- fatal lines ----------

/**
 * uvicorn's bind failure: `[Errno 98] error while attempting to bind on address
 * ('127.0.0.1', 30000): address already in use` (any errno: 99 for an address
 * the host lacks, 13 for a privileged port). SGLang 0.4.6 binds late, after the
 * model loaded, and does not exit: uvicorn shuts down while the warm-up thread
 * polls the port's other owner, then SIGKILLs itself ~2 min later or, when the
 * owner is another SGLang, even prints the ready line before exiting 1.
 */
const UVICORN_BIND_ERROR = /^\[Errno \d+\] error while attempting to bind on address /;

/**
 * For a line of output (plain or raw): the failure it announces when it means
 * the start has failed even though the process lives on, else null. The
 * caller stops the engine at once instead of waiting for a timeout.
 * (vLLM binds its socket itself and exits on failure, so the rule applies
 * only where uvicorn binds; checking both engines costs nothing.)
 */
export function isFatalLogLine(_backend: Backend, line: string): string | null {
  const text = cleanLine(line);
  return UVICORN_BIND_ERROR.test(text) ? clip(text) : null;
}

// ---------- Python tracebacks ----------

/** Anywhere in a line: SGLang writes `Scheduler hit an exception: Traceback (...)`. */
const TRACEBACK_HEADER = /Traceback \(most recent call last\):$/;
const FRAME = /^\s+File "/;
/** `module.Class: message`, `Class:` or `Class` alone: a dotted name, then a colon or the end. */
const EXCEPTION_LINE = /^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?::(?:\s.*)?)?$/;
const CHAIN_MARKER =
  /^(?:The above exception was the direct cause of the following exception:|During handling of the above exception, another exception occurred:)$/;
const PYDANTIC_HEAD = /ValidationError: \d+ validation errors? for /;
/** pydantic's ` [type=value_error, input_value=..., input_type=...]` trailer: noise to a user. */
const PYDANTIC_TRAILER = / \[type=[\w.]+(?:, input_value=.*, input_type=[\w.]+)?\]$/;
const PYDANTIC_DOCS_LINK = /^\s*For further information visit https:\/\/errors\.pydantic\.dev/;
/**
 * Wrappers that only point elsewhere: vLLM's "Engine core initialization
 * failed. See root cause above.", "... See stack trace for (the) root cause.",
 * SGLang's "Initialization failed. Please see the error messages above."
 */
const GENERIC_EXCEPTION = /\bsee (?:the )?(?:root cause|stack trace|(?:error )?messages? above|above)\b/i;
/** HTTP status lines say nothing a user can act on: `401 Client Error. (Request ID: ...)`. */
const HTTP_STATUS_LINE = /^(?:[\w.]+: )?\d{3} (?:Client|Server) Error\b/;

interface PyException {
  /** The exception line: `Type: message`. */
  head: string;
  /** Lines shown with it (pydantic's per-error lines, other indented continuations). */
  details: string[];
  /** Its message lines after the head, for when it is a cause. */
  message: string[];
  /** The exception it was raised from, or raised while handling. */
  cause: PyException | null;
}

/** Every exception line in `lines` (cleaned), in order, with causes linked. */
function parseExceptions(lines: readonly string[]): PyException[] {
  const found: PyException[] = [];
  let state: 'outside' | 'frames' | 'message' = 'outside';
  let current: PyException | null = null;
  let detailsOpen = false;
  let pendingCause: PyException | null = null;

  for (const line of lines) {
    if (TRACEBACK_HEADER.test(line)) {
      state = 'frames';
      continue;
    }
    if (FRAME.test(line)) {
      // Also opens a traceback whose header fell outside the window.
      state = 'frames';
      continue;
    }
    if (state === 'frames') {
      // Source lines, `^^^^` markers and blank lines belong to the frames;
      // a non-matching line is another process's output interleaved.
      if (line === '' || /^\s/.test(line) || !EXCEPTION_LINE.test(line)) continue;
      current = { head: line, details: [], message: [], cause: pendingCause };
      pendingCause = null;
      found.push(current);
      state = 'message';
      detailsOpen = true;
      continue;
    }
    if (state === 'message' && current) {
      if (CHAIN_MARKER.test(line)) {
        pendingCause = current;
        state = 'outside';
        continue;
      }
      if (current.message.length >= MAX_MESSAGE_LINES) {
        state = 'outside';
        continue;
      }
      current.message.push(line);
      if (detailsOpen) detailsOpen = addDetail(current, line);
    }
  }
  return found;
}

/** Adds `line` to the shown continuation of `exc`; false once the continuation has ended. */
function addDetail(exc: PyException, line: string): boolean {
  if (exc.details.length >= MAX_DETAIL_LINES) return false;
  if (PYDANTIC_HEAD.test(exc.head)) {
    // pydantic: per error, `field` unindented, then `  message [type=...]`,
    // then an indented docs link; a blank line ends the list.
    if (line === '') return false;
    if (!PYDANTIC_DOCS_LINK.test(line)) exc.details.push(clip(line.replace(PYDANTIC_TRAILER, '')));
    return true;
  }
  if (!/^\s+\S/.test(line)) return false;
  exc.details.push(clip(line));
  return true;
}

/** The one line of a cause worth adding, skipping HTTP status lines. */
function causeDetail(exc: PyException): string | null {
  for (const line of [exc.head, ...exc.message]) {
    const text = line.trim();
    if (text !== '' && !HTTP_STATUS_LINE.test(text)) return clip(text);
  }
  return null;
}

/** The exception worth showing, with its continuation and a useful cause line. */
function explainException(lines: readonly string[]): string | null {
  const found = parseExceptions(lines);
  if (found.length === 0) return null;
  // The last exception is what was raised; when it merely points at a root
  // cause "above", the latest one that does not is that root cause.
  const pick = [...found].reverse().find((e) => !GENERIC_EXCEPTION.test(e.head)) ?? found[found.length - 1]!;
  const shown = [clip(pick.head), ...pick.details];
  for (let c = pick.cause; c; c = c.cause) {
    const detail = causeDetail(c);
    if (detail === null) continue;
    if (!shown.some((s) => s.includes(detail))) shown.push(detail);
    break;
  }
  return shown.join('\n');
}

// ---------- other explanations ----------

/** argparse's last line: `api_server.py: error: ...`, `vllm serve: error: ...`, `launch_server.py: error: ...`. */
const ARGPARSE_ERROR = /^[\w./-]+(?: [\w.-]+)?: error: \S/;
const SGLANG_SIGQUIT = /Received sigquit from a child process/;
const SGLANG_WARMUP_FAILED = /Initialization failed\. warmup error/;
const ACCESS_LOG = /"(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S+ HTTP\/[\d.]+" \d{3}\b/;

function lastMatch(lines: readonly string[], re: RegExp): string | null {
  for (let i = lines.length - 1; i >= 0; i--) if (re.test(lines[i]!)) return lines[i]!;
  return null;
}

/** The last line that says anything: not blank, not a request log. */
function lastMeaningfulLine(lines: readonly string[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (line !== '' && !ACCESS_LOG.test(line)) return clip(line);
  }
  return null;
}

function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const minutes = ms / 60_000;
  return `${Number.isInteger(minutes) ? minutes : minutes.toFixed(1)} min`;
}

/** SGLang's main process SIGKILLs its whole tree when a child (scheduler, warm-up) fails. */
function sglangKilledItself(exit: ExitInfo, backend: Backend, lines: readonly string[]): boolean {
  return (
    exit.signal === 'SIGKILL' &&
    backend === 'sglang' &&
    lines.some((l) => SGLANG_SIGQUIT.test(l) || SGLANG_WARMUP_FAILED.test(l))
  );
}

/** What the exit says by itself, to follow a textual cause in parentheses. */
function exitNote(exit: ExitInfo, backend: Backend, lines: readonly string[]): string {
  if (sglangKilledItself(exit, backend, lines)) return 'SGLang killed its processes after the failure';
  if (exit.signal) return `killed by ${exit.signal}`;
  if (exit.code === 2) return 'invalid arguments, exit code 2';
  return `exit code ${exit.code}`;
}

/** The exit alone, when the text explains nothing. */
function exitSummary(exit: ExitInfo | null, backend: Backend, lines: readonly string[]): string {
  if (!exit) return 'failed to start';
  if (sglangKilledItself(exit, backend, lines)) return 'SGLang killed its processes after a child process failed';
  // Nobody in the engine sends SIGKILL to its own leader except SGLang (above);
  // the usual sender is the kernel's OOM killer, e.g. while weights load into RAM.
  if (exit.signal === 'SIGKILL') return 'killed by SIGKILL, possibly by the kernel\'s out-of-memory killer';
  if (exit.signal) return `killed by ${exit.signal}`;
  if (exit.code === null) return 'exited';
  return exit.code === 2 ? 'exited with code 2 (invalid arguments)' : `exited with code ${exit.code}`;
}

/** The short, useful reason an engine failed (or did not become ready). */
export function explainFailure(input: FailureInput): string {
  const lines = input.lines.slice(-500).map(cleanLine);
  const fatal = lines.find((l) => UVICORN_BIND_ERROR.test(l));
  const argparse = lastMatch(lines, ARGPARSE_ERROR);
  const exception = explainException(lines);
  const exit = input.exit;
  // Text explains; the exit decides which text: exit 2 is argparse's.
  const cause =
    (fatal !== undefined ? clip(fatal) : null) ??
    (exit?.code === 2 ? (argparse !== null ? clip(argparse) : exception) : (exception ?? (argparse !== null ? clip(argparse) : null)));
  const last = lastMeaningfulLine(lines);

  if (input.timedOut) {
    const head = `did not become ready within ${input.timeoutMs !== undefined ? formatDuration(input.timeoutMs) : 'the start timeout'}`;
    if (cause) return `${head}: ${cause}`;
    return last ? `${head}; last output: ${last}` : `${head}; the engine printed nothing`;
  }
  if (cause) {
    // A fatal line stands alone: the exit that follows it (our stop, or
    // SGLang's own SIGKILL minutes later) is a consequence, not information.
    if (fatal !== undefined || !exit) return cause;
    return `${cause} (${exitNote(exit, input.backend, lines)})`;
  }
  const summary = exitSummary(exit, input.backend, lines);
  return last ? `${summary}; last output: ${last}` : summary;
}
