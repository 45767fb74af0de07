import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stripAnsi } from '../../daemon/logs/ansi.js';
import { LineSplitter } from '../../daemon/logs/line-splitter.js';
import { cleanLine, explainFailure, isFatalLogLine } from '../../daemon/supervisor/failure-reason.js';
import { engineLogCases, readFixture } from '../logs/engine-log-fixtures.js';

const cases = engineLogCases();
const failures = cases.filter((c) => c.failure_reason !== null);
const successes = cases.filter((c) => c.failure_reason === null);

/** The last `n` lines of a fixture, as the supervisor passes them (ReplicaLog.lastLines(200)). */
function lastLines(file: string, n = 200): string[] {
  const lines = readFixture(file).split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-n);
}

describe('explainFailure on every failure fixture', () => {
  test('there are failure fixtures of both engines', () => {
    assert.ok(failures.some((c) => c.engine === 'vllm'));
    assert.ok(failures.some((c) => c.engine === 'sglang'));
  });

  for (const c of failures) {
    test(`${c.file}: names "${c.failure_reason!.split('\n')[0]!.slice(0, 60)}..."`, () => {
      const exit = { code: c.exit_code, signal: c.exit_signal ?? null };
      const reason = explainFailure({ lines: lastLines(c.file), exit, backend: c.engine });
      for (const line of c.failure_reason!.split('\n')) {
        assert.ok(reason.includes(line.trimEnd()), `reason lacks ${JSON.stringify(line)}:\n${reason}`);
      }
      // Short: no usage block, no traceback frames, no log prefixes.
      assert.ok(reason.split('\n').length <= 3, reason);
      assert.doesNotMatch(reason, /usage:|File "|Traceback|^\[20\d\d-|^ERROR \d/m);
      // The exit classifies.
      if (c.exit_code === 2) assert.match(reason, /invalid arguments, exit code 2/);
      if (c.exit_code === 1) assert.match(reason, /\(exit code 1\)$/);
      if (c.exit_signal === 'SIGKILL' && !reason.includes('[Errno 98]')) assert.match(reason, /SGLang killed its processes/);
    });
  }

  test('vLLM: the root cause wins over "Engine core initialization failed"', () => {
    const reason = explainFailure({ lines: lastLines('vllm-0.9.0.1-kv-cache-no-memory.log'), exit: { code: 1, signal: null }, backend: 'vllm' });
    assert.doesNotMatch(reason, /Engine core initialization failed/);
  });

  test('a window that starts inside a traceback still finds its exception', () => {
    const lines = lastLines('vllm-0.9.0.1-kv-cache-no-memory.log', 1000);
    const from = lines.indexOf('Process EngineCore_0:') + 3; // past the header, mid-frames
    const reason = explainFailure({ lines: lines.slice(from), exit: { code: 1, signal: null }, backend: 'vllm' });
    assert.match(reason, /^ValueError: No available memory for the cache blocks/);
  });

  test('SGLang port in use: the bind error, even when Berth stopped it (SIGTERM) or it claimed ready', () => {
    const lines = lastLines('sglang-0.4.6-port-in-use.log');
    const bind = "[Errno 98] error while attempting to bind on address ('127.0.0.1', 30000): address already in use";
    assert.equal(explainFailure({ lines, exit: { code: null, signal: 'SIGTERM' }, backend: 'sglang' }), bind);
    assert.equal(explainFailure({ lines, exit: null, backend: 'sglang' }), bind);
    const claimed = [...lines.slice(0, 24), '[2025-05-08 14:00:29] The server is fired up and ready to roll!'];
    assert.equal(explainFailure({ lines: claimed, exit: { code: 1, signal: null }, backend: 'sglang' }), bind);
  });
});

describe('isFatalLogLine', () => {
  test("SGLang's uvicorn bind ERROR is fatal, also in its coloured pty form", () => {
    const line = "[2025-05-08 14:00:27] ERROR:    [Errno 98] error while attempting to bind on address ('127.0.0.1', 30000): address already in use";
    const expected = "[Errno 98] error while attempting to bind on address ('127.0.0.1', 30000): address already in use";
    assert.equal(isFatalLogLine('sglang', line), expected);
    assert.equal(isFatalLogLine('sglang', line.replace('ERROR:', '\x1b[31mERROR\x1b[0m:')), expected);
    const found = lastLines('sglang-0.4.6-port-in-use.log').map((l) => isFatalLogLine('sglang', l)).filter(Boolean);
    assert.deepEqual(found, [expected]);
  });

  for (const c of successes) {
    test(`no line of ${c.file} is fatal`, () => {
      const text = readFixture(c.file);
      const splitter = new LineSplitter();
      const lines = c.file.endsWith('.raw') ? [...splitter.push(text), ...splitter.flush()].map((l) => l.raw) : text.split('\n');
      for (const line of lines) assert.equal(isFatalLogLine(c.engine, line), null, line);
      // Sanity: the lines checked include the ready line, so the split worked.
      if (c.ready_line) assert.ok(lines.some((l) => stripAnsi(l) === c.ready_line));
    });
  }

  test('a vLLM traceback line is not fatal by itself (vLLM exits on its own)', () => {
    assert.equal(isFatalLogLine('vllm', 'OSError: [Errno 98] Address already in use'), null);
  });
});

describe('explainFailure without a recognisable cause', () => {
  test('a timeout says how long, and what was last on the screen', () => {
    const lines = ['INFO 06-05 09:07:46 [gpu_model_runner.py:1531] Starting to load model x...', 'Loading safetensors checkpoint shards:  50% Completed | 1/2 [00:40<00:40, 40.0s/it]', ''];
    assert.equal(
      explainFailure({ lines, exit: null, backend: 'vllm', timedOut: true, timeoutMs: 10 * 60_000 }),
      'did not become ready within 10 min; last output: Loading safetensors checkpoint shards:  50% Completed | 1/2 [00:40<00:40, 40.0s/it]',
    );
    assert.equal(explainFailure({ lines: [], exit: null, backend: 'vllm', timedOut: true, timeoutMs: 90_000 }), 'did not become ready within 1.5 min; the engine printed nothing');
    assert.equal(explainFailure({ lines: [], exit: null, backend: 'vllm', timedOut: true, timeoutMs: 30_000 }), 'did not become ready within 30 s; the engine printed nothing');
  });

  test('a timeout with a real cause shows the cause', () => {
    const lines = ['Traceback (most recent call last):', '  File "x.py", line 1, in <module>', 'RuntimeError: NCCL timeout'];
    assert.equal(explainFailure({ lines, exit: null, backend: 'vllm', timedOut: true, timeoutMs: 60_000 }), 'did not become ready within 1 min: RuntimeError: NCCL timeout');
  });

  test('falls back to the exit and the last line that says anything', () => {
    const lines = ['[2025-05-08 15:00:27] INFO:     127.0.0.1:1 - "GET /health HTTP/1.1" 200 OK', 'Segmentation fault (core dumped)', '', '[2025-05-08 15:00:28] INFO:     127.0.0.1:1 - "GET /health HTTP/1.1" 200 OK'];
    assert.equal(explainFailure({ lines, exit: { code: 139, signal: null }, backend: 'sglang' }), 'exited with code 139; last output: Segmentation fault (core dumped)');
    assert.equal(explainFailure({ lines: [], exit: { code: 3, signal: null }, backend: 'vllm' }), 'exited with code 3');
    assert.equal(explainFailure({ lines: ['bye'], exit: { code: null, signal: 'SIGSEGV' }, backend: 'vllm' }), 'killed by SIGSEGV; last output: bye');
  });

  test("SIGKILL without SGLang's own sigquit points at the OOM killer", () => {
    const reason = explainFailure({ lines: ['Loading weights'], exit: { code: null, signal: 'SIGKILL' }, backend: 'vllm' });
    assert.match(reason, /^killed by SIGKILL, possibly by the kernel's out-of-memory killer; last output: Loading weights$/);
  });

  test('SGLang sigquit with the traceback out of the window still says what happened', () => {
    const lines = ['', '[2025-05-08 11:02:23] Received sigquit from a child process. It usually means the child failed.'];
    assert.match(explainFailure({ lines, exit: { code: null, signal: 'SIGKILL' }, backend: 'sglang' }), /^SGLang killed its processes after a child process failed; last output: Received sigquit/);
  });
});

describe('explainFailure on traceback shapes', () => {
  test('`vllm serve: error:` is an argparse line too', () => {
    const lines = ['usage: vllm serve [-h] [--host HOST]', '                  [--port PORT]', 'vllm serve: error: argument --port: invalid int value: \'x\''];
    assert.equal(explainFailure({ lines, exit: { code: 2, signal: null }, backend: 'vllm' }), "vllm serve: error: argument --port: invalid int value: 'x' (invalid arguments, exit code 2)");
  });

  test('pydantic field errors: field lines and messages, without the [type=...] trailer and docs link', () => {
    const lines = [
      'Traceback (most recent call last):',
      '  File "x.py", line 1, in <module>',
      'pydantic_core._pydantic_core.ValidationError: 2 validation errors for ModelConfig',
      'max_model_len',
      "  Input should be a valid integer [type=int_type, input_value='x', input_type=str]",
      '    For further information visit https://errors.pydantic.dev/2.11/v/int_type',
      'dtype',
      "  Input should be 'auto' or 'half' [type=literal_error, input_value='f', input_type=str]",
      '',
      'INFO 06-05 09:07:08 [x.py:1] unrelated',
    ];
    assert.equal(
      explainFailure({ lines, exit: { code: 1, signal: null }, backend: 'vllm' }),
      "pydantic_core._pydantic_core.ValidationError: 2 validation errors for ModelConfig\nmax_model_len\n  Input should be a valid integer\ndtype\n  Input should be 'auto' or 'half' (exit code 1)",
    );
  });

  test('vLLM worker-prefixed tracebacks (tensor parallel) are read through their prefix', () => {
    const p = '\x1b[1;36m(VllmWorker rank=1 pid=22392)\x1b[0;0m ERROR 06-12 16:41:02 [multiproc_executor.py:487] ';
    const lines = [
      `${p}WorkerProc failed to start.`,
      `${p}Traceback (most recent call last):`,
      `${p}  File "/x/multiproc_executor.py", line 461, in worker_main`,
      `${p}    worker = WorkerProc(*args, **kwargs)`,
      `${p}torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.`,
      'Traceback (most recent call last):',
      '  File "/x/core.py", line 1, in run',
      'Exception: WorkerProc initialization failed due to an exception in a background process. See stack trace for root cause.',
    ];
    assert.equal(
      explainFailure({ lines, exit: { code: 1, signal: null }, backend: 'vllm' }),
      'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. (exit code 1)',
    );
  });

  test('"During handling of the above exception" links a cause like "direct cause" does', () => {
    const lines = [
      'Traceback (most recent call last):',
      '  File "a.py", line 1, in f',
      "KeyError: 'qwen9'",
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      '  File "b.py", line 2, in g',
      'ValueError: The checkpoint you are trying to load has model type `qwen9` but Transformers does not recognize this architecture.',
    ];
    assert.equal(
      explainFailure({ lines, exit: { code: 1, signal: null }, backend: 'vllm' }),
      "ValueError: The checkpoint you are trying to load has model type `qwen9` but Transformers does not recognize this architecture.\nKeyError: 'qwen9' (exit code 1)",
    );
  });

  test('cleanLine strips the engines\u2019 prefixes and colours', () => {
    assert.equal(cleanLine('ERROR 06-05 09:08:05 [core.py:500]   File "x"'), '  File "x"');
    assert.equal(cleanLine('[2025-05-08 11:02:23 TP0] Scheduler hit an exception: Traceback (most recent call last):'), 'Scheduler hit an exception: Traceback (most recent call last):');
    assert.equal(cleanLine('[2025-05-08 11:02:23 DP0 TP1] x'), 'x');
    assert.equal(cleanLine('\x1b[32mINFO\x1b[0m:     Started server process [\x1b[36m1\x1b[0m]  '), 'Started server process [1]');
  });

  test('very long lines are clipped', () => {
    const lines = ['Traceback (most recent call last):', '  File "x"', `ValueError: ${'x'.repeat(2000)}`];
    const reason = explainFailure({ lines, exit: { code: 1, signal: null }, backend: 'vllm' });
    assert.ok(reason.length < 600, String(reason.length));
    assert.match(reason, /…/);
  });
});
