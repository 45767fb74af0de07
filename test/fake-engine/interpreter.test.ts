// The wrapper as an interpreter: the daemon's doctor probes and Python's own failures.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interpret } from '../fakes/engine/interpreter.js';
import { readKnobs } from '../fakes/engine/knobs.js';
import { runFake } from './harness.js';

/** The knobs as the fake would read them with `env` set (process.env is restored after). */
function knobs(env: Record<string, string> = {}) {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return readKnobs();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('fake python', () => {
  it("runs from any cwd through its absolute path: the doctor's version probe", async () => {
    const probe = await runFake(['-c', 'import vllm; print(vllm.__version__)']);
    assert.deepEqual([probe.code, probe.stdout, probe.stderr], [0, '0.9.0.1\n', '']);
  });

  it("--version is the interpreter's", () => {
    assert.deepEqual(interpret(['--version'], knobs(), 'python'), { kind: 'done', code: 0, stdout: 'Python 3.12.1\n', stderr: '' });
  });

  it('FAKE_ENGINE_VERSION and FAKE_IMPORT_FAIL', () => {
    const ok = interpret(['-c', 'import sglang; print(sglang.__version__)'], knobs({ FAKE_ENGINE_VERSION: '0.4.6.post2' }), 'python');
    assert.deepEqual(ok, { kind: 'done', code: 0, stdout: '0.4.6.post2\n', stderr: '' });
    const failed = interpret(['-c', 'import vllm; print(vllm.__version__)'], knobs({ FAKE_IMPORT_FAIL: '1' }), 'python');
    assert.deepEqual(failed, {
      kind: 'done',
      code: 1,
      stdout: '',
      stderr: 'Traceback (most recent call last):\n  File "<string>", line 1, in <module>\nModuleNotFoundError: No module named \'vllm\'\n',
    });
    const module = interpret(['-m', 'vllm.entrypoints.openai.api_server'], knobs({ FAKE_IMPORT_FAIL: '1' }), '/usr/bin/python3');
    assert.equal(module.kind === 'done' && module.stderr, "/usr/bin/python3: Error while finding module specification for 'vllm.entrypoints.openai.api_server' (ModuleNotFoundError: No module named 'vllm')\n");
  });

  it('an unknown module exits 1, an unknown option 2, naming argv[0]', () => {
    const mod = interpret(['-m', 'nosuch'], knobs(), '/usr/bin/python3');
    assert.deepEqual(mod, { kind: 'done', code: 1, stdout: '', stderr: '/usr/bin/python3: No module named nosuch\n' });
    const opt = interpret(['--frobnicate'], knobs(), 'python3');
    assert.equal(opt.kind === 'done' && opt.code, 2);
  });

  it('hands the engine modules their argv', () => {
    const inv = interpret(['-u', '-m', 'sglang.launch_server', '--model-path', 'm'], knobs(), 'python');
    assert.deepEqual(inv, { kind: 'engine', engine: 'sglang', version: '0.4.6', args: ['--model-path', 'm'] });
  });
});
