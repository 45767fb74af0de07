// The doctor's fixes, decided from what failed: the install line for the
// version Berth's recipe targets, written for the python Berth is configured
// with, and the plain fix for each way nvidia-smi fails (from the real
// captures in test/fixtures/nvidia-smi).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultBackendVersion } from '../../daemon/engines/catalogue.js';
import { classifyFailure, gpuFailureKind, NO_GPU, type GpuFailureKind } from '../../daemon/gpu/failure.js';
import { dockerFix, engineFix, gpuFix, isSystemPython, requirement, shellWord, type EngineFixInput } from '../../daemon/doctor/fixes.js';
import { casesFile, fixtureText } from '../fakes/nvidia-smi/fixtures.js';

const HOME = '/home/ada';

describe('engine fixes', () => {
  it('targets the versions the recipes default to, with SGLang’s serving extra', () => {
    assert.equal(requirement('vllm', defaultBackendVersion('vllm')), 'vllm==0.9.0.1');
    assert.equal(requirement('sglang', defaultBackendVersion('sglang')), 'sglang[all]==0.4.6');
  });

  const base = { origin: 'settings', home: HOME } as const;
  const cases: { what: string; input: Omit<EngineFixInput, 'origin' | 'home'> & Partial<EngineFixInput>; command: string | null; note: RegExp }[] = [
    {
      what: 'system python3 without vLLM: a virtualenv of its own, and the setting pointed at it',
      input: { engine: 'vllm', outcome: 'import-failed', python: 'python3', version: '0.9.0.1' },
      command: 'python3 -m venv /home/ada/venvs/vllm && /home/ada/venvs/vllm/bin/python -m pip install vllm==0.9.0.1',
      note: /set vLLM Python in Settings \(vllmPython, or BERTH_VLLM_PYTHON\) to \/home\/ada\/venvs\/vllm\/bin\/python and restart the daemon/,
    },
    {
      what: 'system python not on PATH at all: python3 makes the virtualenv',
      input: { engine: 'sglang', outcome: 'python-not-found', python: 'python3', version: '0.4.6' },
      command: "python3 -m venv /home/ada/venvs/sglang && /home/ada/venvs/sglang/bin/python -m pip install 'sglang[all]==0.4.6'",
      note: /SGLang Python in Settings \(sglangPython, or BERTH_SGLANG_PYTHON\)/,
    },
    {
      what: '/usr/bin/python3 is the system’s too',
      input: { engine: 'vllm', outcome: 'import-failed', python: '/usr/bin/python3', version: '0.9.0.1' },
      command: '/usr/bin/python3 -m venv /home/ada/venvs/vllm && /home/ada/venvs/vllm/bin/python -m pip install vllm==0.9.0.1',
      note: /python3-venv/,
    },
    {
      what: 'a virtualenv’s python without the engine: pip through that very python',
      input: { engine: 'vllm', outcome: 'import-failed', python: '/opt/ml/env/bin/python', version: '0.9.0.1' },
      command: '/opt/ml/env/bin/python -m pip install vllm==0.9.0.1',
      note: /into the environment Berth runs it from \(\/opt\/ml\/env\/bin\/python\)/,
    },
    {
      what: 'a virtualenv that does not exist yet: created where the setting points',
      input: { engine: 'sglang', outcome: 'python-not-found', python: '/home/ada/venvs/sgl/bin/python', version: '0.4.6' },
      command: "python3 -m venv /home/ada/venvs/sgl && /home/ada/venvs/sgl/bin/python -m pip install 'sglang[all]==0.4.6'",
      note: /Creates the virtualenv Berth is configured to run SGLang from/,
    },
    {
      what: 'a path with a space is quoted',
      input: { engine: 'vllm', outcome: 'import-failed', python: '/home/ada/my envs/v/bin/python', version: '0.9.0.1' },
      command: "'/home/ada/my envs/v/bin/python' -m pip install vllm==0.9.0.1",
      note: /0\.9\.0\.1/,
    },
    {
      what: 'a python set in the environment is changed there, not in Settings',
      input: { engine: 'vllm', outcome: 'import-failed', python: 'python3', version: '0.9.0.1', origin: 'env' },
      command: 'python3 -m venv /home/ada/venvs/vllm && /home/ada/venvs/vllm/bin/python -m pip install vllm==0.9.0.1',
      note: /set BERTH_VLLM_PYTHON=\/home\/ada\/venvs\/vllm\/bin\/python in the daemon's environment/,
    },
    {
      what: 'a slow first import is not an install problem',
      input: { engine: 'vllm', outcome: 'timeout', python: '/opt/ml/env/bin/python', version: '0.9.0.1' },
      command: null,
      note: /cold cache: check again/,
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const fix = engineFix({ ...base, ...c.input });
      assert.ok(fix);
      assert.equal(fix.command, c.command);
      assert.match(fix.note, c.note);
    });
  }

  it('has nothing to fix when the engine imports', () => {
    assert.equal(engineFix({ ...base, engine: 'vllm', outcome: 'ok', python: 'python3', version: '0.9.0.1' }), null);
  });

  it('tells the system’s python from a virtualenv’s', () => {
    for (const p of ['python3', 'python', 'python3.12', '/usr/bin/python3', '/bin/python3', '/usr/local/bin/python3.11']) assert.equal(isSystemPython(p), true, p);
    for (const p of ['/home/ada/venvs/vllm/bin/python', '/opt/conda/envs/x/bin/python3', './python', 'py']) assert.equal(isSystemPython(p), false, p);
  });

  it('quotes only what the shell would change', () => {
    assert.equal(shellWord('vllm==0.9.0.1'), 'vllm==0.9.0.1');
    assert.equal(shellWord('sglang[all]==0.4.6'), "'sglang[all]==0.4.6'");
    assert.equal(shellWord("it's"), "'it'\\''s'");
  });
});

describe('GPU fixes', () => {
  // Every failing capture, through the daemon's classifier, to the fix a user gets.
  const EXPECT: Record<string, { kind: GpuFailureKind; command: string | null; note: RegExp }> = {
    'version-mismatch': { kind: 'version-mismatch', command: 'sudo reboot', note: /reboot loads the module that matches/ },
    'version-mismatch-old': { kind: 'version-mismatch', command: 'sudo reboot', note: /reboot/ },
    'driver-not-loaded': { kind: 'not-loaded', command: 'sudo modprobe nvidia', note: /kernel module/ },
    'no-devices': { kind: 'no-devices', command: null, note: /lspci/ },
    'no-supported-gpus': { kind: 'no-supported-gpu', command: null, note: /supported-products/ },
    'nvml-unknown-error': { kind: 'nvml-init', command: null, note: /restart the container/ },
    'gpu-lost': { kind: 'off-the-bus', command: 'sudo reboot', note: /fell off the bus/ },
    'invalid-field': { kind: 'rejected', command: null, note: /too old/ },
  };
  for (const [name, want] of Object.entries(EXPECT)) {
    it(`${name}: ${want.command ?? 'no command'}`, () => {
      const c = casesFile().cases[name];
      assert.ok(c, `missing case ${name}`);
      const reason = classifyFailure({ exitCode: c.exit_code, stdout: fixtureText(c.stdout), stderr: fixtureText(c.stderr) });
      assert.ok(reason, `${name} is a failure`);
      assert.equal(gpuFailureKind(reason), want.kind);
      const fix = gpuFix(want.kind);
      assert.equal(fix?.command, want.command);
      assert.match(fix!.note, want.note);
    });
  }

  it('nvidia-smi missing, hung, or unstartable: the runs no capture has', () => {
    const notFound = classifyFailure({ exitCode: null, stdout: '', stderr: '', spawnError: { code: 'ENOENT' } })!;
    assert.equal(gpuFailureKind(notFound), 'not-installed');
    assert.match(gpuFix('not-installed')!.note, /Install the NVIDIA driver.*BERTH_NVIDIA_SMI/);
    assert.equal(gpuFailureKind(classifyFailure({ exitCode: null, stdout: '', stderr: '', timedOutAfterMs: 10_000 })!), 'timeout');
    assert.equal(gpuFailureKind(classifyFailure({ exitCode: null, stdout: '', stderr: '', spawnError: { code: 'EACCES' } })!), 'not-started');
    assert.equal(gpuFailureKind(classifyFailure({ exitCode: 4, stdout: '', stderr: '' })!), 'permission');
    assert.equal(gpuFailureKind(classifyFailure({ exitCode: 12, stdout: '', stderr: '' })!), 'no-nvml');
    assert.equal(gpuFailureKind(NO_GPU), 'no-devices');
  });

  it('offers no fix for a failure it cannot name', () => {
    const odd = classifyFailure({ exitCode: 3, stdout: 'something new\n', stderr: '' })!;
    assert.equal(gpuFailureKind(odd), 'unknown');
    assert.equal(gpuFix('unknown'), null);
  });
});

describe('docker fix', () => {
  it('names the container toolkit and the setting, with no command to paste blindly', () => {
    const fix = dockerFix('docker');
    assert.equal(fix.command, null);
    assert.match(fix.note, /^Only container mode needs it: install Docker Engine and the NVIDIA Container Toolkit/);
    assert.match(fix.note, /BERTH_DOCKER/);
  });
});
