// The `berth` command through the contract's one client: the API key from the
// environment, the daemon's own error message, and a followed log stream.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deploymentWhen, REPO, startTestDaemon, testEnv, type TestDaemon } from '../helpers/daemon.js';
import { SAFETY_MS } from '../helpers/limits.js';

const BIN = join(REPO, 'bin/berth.mjs');
const KEY = 'cli-k3y';

function berth(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: SAFETY_MS }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('berth CLI against a daemon with an API key', () => {
  let d: TestDaemon;
  let env: Record<string, string>;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8', settings: { apiKey: KEY } });
    env = { ...testEnv(d.home, 'h100x8'), BERTH_PORT: new URL(d.url).port, BERTH_API_KEY: KEY };
  });
  after(() => d.stop());

  it('sends BERTH_API_KEY, and prints the daemon\'s own message when it is wrong', async () => {
    const ok = await berth(['ps', '--json'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), []);
    const wrong = await berth(['ps'], { ...env, BERTH_API_KEY: 'nope' });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, 'berth ps: missing or wrong API key: send Authorization: Bearer <key>\n');
  });

  it('deploys without starting, then follows the engine\'s log', async () => {
    const deployed = await berth(['deploy', 'tail', 'Qwen/Qwen2.5-0.5B-Instruct', '--gpus', '0', '--no-start', '--json'], env);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.deepEqual((JSON.parse(deployed.stdout) as { replicas: unknown[] }).replicas, []);
    await d.client.startDeployment({ params: { name: 'tail' } });
    await deploymentWhen(d, 'tail', (s) => s.replicas.length > 0, 'a replica to follow');
    // The whole tail first, then live lines: whichever way the startup line comes, the command prints it and stays attached.
    const follow = spawn(process.execPath, [BIN, 'logs', 'tail', '-f', '-n', '5000'], { env });
    let out = '';
    const seen = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no startup line in: ${out}`)), SAFETY_MS);
      follow.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('Application startup complete.')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    try {
      await seen;
    } finally {
      follow.kill();
    }
    assert.match(out, /Starting vLLM API server on http:\/\/127\.0\.0\.1:\d+/);
    await deploymentWhen(d, 'tail');
  });
});
