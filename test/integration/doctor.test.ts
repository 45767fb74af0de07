// The doctor on a broken machine: what failed, and the daemon's fix for it,
// over the API and as `berth doctor` prints it. The machine: a driver updated
// under a loaded kernel module (the version-mismatch capture), vLLM's python
// pointing at a virtualenv that does not exist, SGLang's python without
// SGLang, and no docker.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DoctorCheck } from '../../daemon/contract/api.js';
import { FAKE_PYTHON, REPO, startTestDaemon, tempHome, testEnv, type TestDaemon } from '../helpers/daemon.js';
import { SAFETY_MS } from '../helpers/limits.js';

const BIN = join(REPO, 'bin/berth.mjs');

function berth(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: SAFETY_MS }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('doctor on a machine that needs fixing', () => {
  let d: TestDaemon;
  let venv: string;
  before(async () => {
    // The doctor's import probe runs with the daemon's own environment: in
    // this file, this process's. Nothing here launches an engine.
    process.env.FAKE_IMPORT_FAIL = '1';
    const home = tempHome();
    venv = join(home, 'venvs', 'vllm');
    d = await startTestDaemon({
      home,
      machine: 'version-mismatch',
      settings: { vllmPython: join(venv, 'bin/python'), sglangPython: FAKE_PYTHON, docker: join(home, 'no-docker') },
    });
  });
  after(async () => {
    delete process.env.FAKE_IMPORT_FAIL;
    await d.stop();
  });

  it('answers each failing check with the fix for what failed', async () => {
    const report = await d.client.doctor();
    const check = (name: string): DoctorCheck => report.checks.find((c) => c.name === name)!;
    assert.equal(report.ok, false);

    assert.equal(check('gpus').ok, false);
    assert.equal(check('gpus').fix?.command, 'sudo reboot');
    assert.equal(check('driver').fix, null, 'the gpus check carries the one fix');

    // The virtualenv the setting names does not exist: create it there, with the version Berth targets.
    assert.equal(check('vllm').fix?.command, `python3 -m venv ${venv} && ${venv}/bin/python -m pip install vllm==0.9.0.1`);
    // A python that runs but lacks SGLang: install into it.
    assert.match(check('sglang').detail, /ModuleNotFoundError: No module named 'sglang'/);
    assert.equal(check('sglang').fix?.command, `${FAKE_PYTHON} -m pip install 'sglang[all]==0.4.6'`);

    assert.equal(check('docker').fix?.command, null);
    assert.match(check('docker').fix!.note, /NVIDIA Container Toolkit/);
  });

  it('berth doctor prints the fix under each failing check', async () => {
    const r = await berth(['doctor'], { ...testEnv(d.home, 'version-mismatch'), BERTH_PORT: new URL(d.url).port });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.split('\n');
    const under = (name: string) => lines.slice(lines.findIndex((l) => l.startsWith(`FAIL  ${name} `)) + 1);
    assert.match(lines.find((l) => l.startsWith('FAIL  gpus '))!, /driver\/library version mismatch/);
    assert.equal(under('gpus')[0], '              fix: sudo reboot');
    assert.match(under('gpus')[1]!, /^ {14}The driver was updated while the old kernel module stayed loaded/);
    assert.equal(under('vllm')[0], `              fix: python3 -m venv ${venv} && ${venv}/bin/python -m pip install vllm==0.9.0.1`);
    // No command for docker: the note alone.
    assert.match(under('docker')[0]!, /^ {14}Only container mode needs it/);
  });
});
