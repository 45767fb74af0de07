// The fake as a process: argv errors, replayed failure scenarios, signals, the child in the
// process group, and the knobs that keep it from ever serving or answering.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fakeState, MODEL, post, runFake, SGLANG_MODULE, startSglang, startVllm, status, VLLM_MODULE, waitFor, waitStatus } from './harness.js';

/** Alive and not a zombie (an orphan's zombie lingers until init reaps it). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('argv errors', () => {
  it('an unknown flag: usage and the argparse error on stderr, exit 2, nothing served', async () => {
    // (--gpu-mem would be accepted: it abbreviates --gpu-memory-utilization.)
    const v = await runFake([...VLLM_MODULE, '--model', MODEL, '--mem-fraction-static', '0.8'], { COLUMNS: '80' });
    assert.equal(v.code, 2);
    assert.match(v.stdout, /^INFO \S+ \S+ \[__init__\.py:243\] Automatically detected platform cuda\.\n/);
    assert.match(v.stderr, /^usage: api_server\.py \[-h\] \[--host HOST\] \[--port PORT\]\n/);
    assert.match(v.stderr, /\napi_server\.py: error: unrecognized arguments: --mem-fraction-static 0\.8\n$/);
    assert.doesNotMatch(v.stdout, /non-default args/);
  });
});

describe('FAKE_SCENARIO replays a fixture and ends as cases.json says', { concurrency: true }, () => {
  it('vllm-0.9.0.1-kv-cache-no-memory: exit 1, our model in the lines', async () => {
    const r = await runFake([...VLLM_MODULE, '--model', 'acme/tiny'], { FAKE_SCENARIO: 'vllm-0.9.0.1-kv-cache-no-memory' });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /ERROR \S+ \S+ \[core\.py:500\] EngineCore failed to start\./);
    assert.match(r.stdout, /Starting to load model acme\/tiny\.\.\./);
    assert.match(r.stderr, /RuntimeError: Engine core initialization failed\. See root cause above\. Failed core proc\(s\): \{\}\n$/);
  });

  it('sglang-0.4.6-not-enough-memory: killed by SIGKILL, everything on stderr', async () => {
    const r = await runFake([...SGLANG_MODULE, '--model-path', 'acme/tiny'], { FAKE_SCENARIO: 'sglang-0.4.6-not-enough-memory' });
    assert.deepEqual([r.code, r.signal, r.stdout], [null, 'SIGKILL', '']);
    assert.match(r.stderr, /RuntimeError: Not enough memory\. Please try to increase --mem-fraction-static\./);
  });
});

describe('signals', () => {
  it('SIGTERM: uvicorn shutdown lines, exit 0', async () => {
    const f = await startVllm();
    await waitStatus(f, '/health', 200);
    f.proc.kill('SIGTERM');
    assert.deepEqual(await f.exited, { code: 0, signal: null });
    assert.match(f.stderr(), new RegExp(`INFO:     Shutting down\\nINFO:     Waiting for application shutdown\\.\\nINFO:     Application shutdown complete\\.\\nINFO:     Finished server process \\[${f.proc.pid}\\]\\n$`));
  });
});

describe('wedged engines: never ready, never answering', { concurrency: true }, () => {
  it('FAKE_NEVER_READY + FAKE_SPAWN_CHILD: a load that hangs; its EngineCore child outlives the parent until the group dies', async () => {
    const f = await startVllm([], { FAKE_NEVER_READY: '1', FAKE_SPAWN_CHILD: '1' });
    try {
      const childPid = Number(await waitFor(() => /^FAKE child pid=(\d+)$/m.exec(f.stdout())?.[1], 'the child pid line'));
      await waitFor(() => f.stdout().includes('init engine (profile, create kv cache, warmup model)') || undefined, 'the load lines');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await status(f, '/health'), undefined, 'never binds');
      assert.doesNotMatch(f.stdout(), /Starting vLLM API server/);
      f.proc.kill('SIGKILL'); // the parent only
      await f.exited;
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(alive(childPid), 'the child survives its parent');
      f.kill('SIGKILL'); // the whole group, as a supervisor must
      await waitFor(() => !alive(childPid) || undefined, 'the child to die with its group');
    } finally {
      f.kill();
    }
  });

  it('FAKE_HANG + FAKE_IGNORE_SIGTERM: a wedged engine holds requests and shrugs off SIGTERM', async () => {
    const f = await startSglang([], { FAKE_HANG: '1', FAKE_IGNORE_SIGTERM: '1', FAKE_ECHO_ENV: 'HOME' });
    try {
      await waitStatus(f, '/health', 200);
      const ac = new AbortController();
      const pending = post(f, '/v1/chat/completions', { model: 'm', messages: [] }).catch(() => undefined);
      const request = fetch(f.url('/v1/completions'), { method: 'POST', body: '{"model":"m","prompt":"x"}', signal: ac.signal }).catch(() => undefined);
      const held = await waitFor(async () => ((await fakeState(f)).inFlight === 2 ? true : undefined), 'two requests in flight');
      assert.ok(held);
      ac.abort();
      await request;
      const state = await waitFor(async () => {
        const s = await fakeState(f);
        return s.aborted === 1 ? s : undefined;
      }, 'the abort');
      assert.deepEqual([state.requests, state.inFlight], [2, 1]);
      assert.equal(state.env.FAKE_HANG, '1');
      assert.equal(state.env.HOME, process.env.HOME);
      assert.deepEqual(state.argv.slice(0, 2), SGLANG_MODULE);
      f.proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(await status(f, '/health'), 200, 'still serving after SIGTERM');
      f.kill();
      assert.equal((await f.exited).signal, 'SIGKILL');
      await pending;
    } finally {
      f.kill();
    }
  });
});
