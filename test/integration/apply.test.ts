// The platforms' manifests applied to a real daemon with the fake engine:
// `POST /api/v1/apply` creates the deployments, their engines start, and the
// model answers at /v1 by the name the platform's documentation uses. Then
// re-applying changes nothing, a dry run changes nothing, a bad manifest gets a
// 400 naming the document and field, and each export applies back to the same
// deployment. The `berth apply` / `berth export` commands run as a user runs them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiError } from '../../daemon/contract/client.js';
import type { ApplyAnswer } from '../../daemon/contract/manifests.js';
import { deploymentWhen, REPO, startTestDaemon, testEnv, type TestDaemon } from '../helpers/daemon.js';
import { MANIFEST_FIXTURES, manifest } from '../manifests/fixtures.js';
import { rejection } from '../helpers/refusal.js';

async function chat(d: TestDaemon, model: string): Promise<{ status: number; model: unknown }> {
  const res = await fetch(`${d.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Who are you?' }] }),
  });
  const body = (await res.json()) as { model?: unknown };
  return { status: res.status, model: body.model };
}

const refusal = (p: Promise<unknown>) => rejection(p, ApiError);

type Run = { code: number; stdout: string; stderr: string };
function berth(args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [join(REPO, 'bin/berth.mjs'), ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin!.end(stdin ?? '');
  });
}

describe('POST /api/v1/apply', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ machine: 'h100x8' });
  });
  after(() => d.stop());

  it('llmaz walkthrough: both Playgrounds start, and each model answers at /v1 by its OpenModel name', async () => {
    const a = await d.client.apply({ body: { manifest: manifest('llmaz-higress-walkthrough') } });
    assert.equal(a.dryRun, false);
    assert.deepEqual(a.deployments.map((x) => [x.name, x.action]), [['qwen2-1-5b', 'created'], ['gemma-2-2b', 'created']]);
    const qwen = a.deployments[0]!;
    assert.deepEqual(qwen.documents, [0, 1]);
    assert.equal(qwen.spec.source?.id, 'Playground/qwen2-1-5b');
    assert.deepEqual(qwen.plan.argv.slice(1, 7), ['-m', 'vllm.entrypoints.openai.api_server', '--model', 'Qwen/Qwen2.5-1.5B-Instruct', '--served-model-name', 'qwen2-1-5b']);
    assert.ok(qwen.ignored.some((i) => i.field === 'OpenModel.spec.familyName'));

    for (const name of ['qwen2-1-5b', 'gemma-2-2b']) {
      const s = await deploymentWhen(d, name);
      assert.equal(s.replicas[0]!.gpus.length, 1);
      const r = await chat(d, name);
      assert.equal(r.status, 200);
      assert.equal(r.model, name);
    }
  });

  it('re-applying the same manifest leaves every deployment as it is', async () => {
    const before = await d.client.getDeployment({ params: { name: 'qwen2-1-5b' } });
    const a = await d.client.apply({ body: { manifest: manifest('llmaz-higress-walkthrough') } });
    assert.deepEqual(a.deployments.map((x) => x.action), ['unchanged', 'unchanged']);
    const now = await d.client.getDeployment({ params: { name: 'qwen2-1-5b' } });
    assert.equal(now.replicas[0]!.pid, before.replicas[0]!.pid, 'the engine was not restarted');
    assert.equal(now.updatedAt, before.updatedAt);
  });

  it('a dry run says what would change and changes nothing; the real apply updates in place', async () => {
    const changed = manifest('llmaz-higress-walkthrough').replace('replicas: 1\n  modelClaim:\n    modelName: gemma-2-2b', 'replicas: 1\n  elasticConfig: {minReplicas: 1, maxReplicas: 2}\n  modelClaim:\n    modelName: gemma-2-2b');
    const dry = await d.client.apply({ body: { manifest: changed, dryRun: true } });
    assert.equal(dry.dryRun, true);
    assert.deepEqual(dry.deployments.map((x) => x.action), ['unchanged', 'updated']);
    assert.equal(dry.deployments[1]!.spec.scale.max, 2);
    assert.equal((await d.client.getDeployment({ params: { name: 'gemma-2-2b' } })).spec.scale.max, 1);

    const real = await d.client.apply({ body: { manifest: changed } });
    assert.deepEqual(real.deployments.map((x) => x.action), ['unchanged', 'updated']);
    assert.equal((await d.client.getDeployment({ params: { name: 'gemma-2-2b' } })).spec.scale.max, 2);
    await deploymentWhen(d, 'gemma-2-2b');
    assert.equal((await chat(d, 'gemma-2-2b')).status, 200);
  });

  it('Knative example as published: deployed asleep (min-scale 0), woken by its first request as "qwen"', async () => {
    const a = await d.client.apply({ body: { manifest: manifest('knative-kpa-vllm-qwen') } });
    const q = a.deployments[0]!;
    assert.equal(q.action, 'created');
    assert.match(q.warnings.join('\n'), /vllm 0\.4\.1 is older than every release/);
    assert.deepEqual(q.spec.scale, { min: 0, max: 3, idleTime: 60, rpsValue: 100, inFlightValue: 2 });
    assert.ok(q.plan.argv.includes('--quantization'));
    assert.equal((await d.client.getDeployment({ params: { name: 'qwen' } })).sleeping, true);
    const r = await chat(d, 'qwen');
    assert.equal(r.status, 200);
    assert.equal(r.model, 'qwen');
  });

  it('KServe example as published: 400 naming the S3 storage field, and nothing created', async () => {
    const e = await refusal(d.client.apply({ body: { manifest: manifest('kserve-openshift-ai-granite') } }));
    assert.equal(e.status, 400);
    assert.equal(e.code, 'unsupported_manifest');
    assert.equal(e.field, 'documents[1].spec.predictor.model.storage.key');
    assert.match(e.message, /S3 storage, which Berth cannot read on one machine/);
    assert.equal(d.supervisor.has('granite'), false);
  });

  it('KServe with the model on this machine: created, answered as granite', async () => {
    const a = await d.client.apply({ body: { manifest: manifest('kserve-openshift-ai-granite-local') } });
    assert.equal(a.deployments[0]!.action, 'created');
    await deploymentWhen(d, 'granite');
    assert.equal((await chat(d, 'granite')).model, 'granite');
  });

  it('bad bodies and manifests: 400 with the field named, nothing created', async () => {
    let res = await d.api<{ error: { field?: string; message: string } }>('POST', '/api/v1/apply', { manifest: 'kind: [' });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, 'documents[0]');
    assert.match(res.body.error.message, /line \d+, column \d+/);
    const none = await d.client.apply({ body: { manifest: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n' } });
    assert.deepEqual(none.deployments, []);
    assert.deepEqual(none.ignoredDocuments.map((x) => x.kind), ['ConfigMap']);
    assert.match(none.warnings.join(''), /no deployment Berth applies/);
    res = await d.api('POST', '/api/v1/apply', { yaml: 'x' });
    assert.equal(res.status, 400);
    res = await d.api('POST', '/api/v1/apply', { manifest: 42 });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, 'manifest');
    const bad = manifest('llmaz-higress-walkthrough').replace('backendName: vllm', 'backendName: vllm\n    args: [--gpu-memory-utilization, lots]').replaceAll('qwen2-1-5b', 'other');
    res = await d.api('POST', '/api/v1/apply', { manifest: bad });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, 'documents[1].spec.backendRuntimeConfig.args[1]');
    assert.equal(d.supervisor.has('other'), false, 'the valid gemma documents after it were not applied either');
  });

  it('export: YAML text by default, JSON for the client; each format applies back to the same deployment', async () => {
    const res = await fetch(`${d.url}/api/v1/deployments/granite/export?format=knative`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/yaml/);
    assert.match(await res.text(), /kind: Service/);
    const bad = await d.api<{ error: { field: string } }>('GET', '/api/v1/deployments/granite/export?format=helm');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'format');
    assert.equal((await d.api('GET', '/api/v1/deployments/nobody/export?format=llmaz')).status, 404);

    for (const format of ['llmaz', 'kserve', 'knative'] as const) {
      const { manifest: text } = await d.client.exportDeployment({ params: { name: 'qwen2-1-5b' }, query: { format } });
      const before = await d.client.getDeployment({ params: { name: 'qwen2-1-5b' } });
      const dry: ApplyAnswer = await d.client.apply({ body: { manifest: text, dryRun: true } });
      const { source: s1, ...got } = dry.deployments[0]!.spec;
      const { source: s0, ...had } = before.spec;
      assert.deepEqual(got, had, format);
      assert.equal(s1?.platform, format);
      assert.equal(s0?.platform, 'llmaz');
    }
    // The same platform: nothing to change at all.
    const { manifest: own } = await d.client.exportDeployment({ params: { name: 'qwen2-1-5b' }, query: { format: 'llmaz' } });
    assert.deepEqual((await d.client.apply({ body: { manifest: own } })).deployments.map((x) => x.action), ['unchanged']);
  });

  it('an engine that cannot start fails the apply, saying what was applied before it', async () => {
    const svc = (name: string, gpus: number) => `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: ${name}}
spec:
  template:
    metadata: {annotations: {autoscaling.knative.dev/min-scale: "1"}}
    spec:
      containers:
        - command: [vllm, serve, Qwen/Qwen2.5-0.5B-Instruct]
          resources: {limits: {nvidia.com/gpu: "${gpus}"}}
`;
    const e = await refusal(d.client.apply({ body: { manifest: `${svc('first', 1)}---\n${svc('second', 8)}` } }));
    assert.equal(e.status, 409);
    assert.match(e.message, /^second: .*\(applied before it: first created\)$/);
    assert.equal(d.supervisor.has('first'), true);
    assert.equal(d.supervisor.has('second'), false);
    await d.client.deleteDeployment({ params: { name: 'first' } });
  });

  it('berth apply and berth export, as a user runs them', async () => {
    const env = testEnv(d.home, 'h100x8', { BERTH_PORT: String(new URL(d.url).port) });
    const dry = await berth(['apply', '-f', join(MANIFEST_FIXTURES, 'llmaz-higress-walkthrough.yaml'), '--dry-run'], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^dry run: nothing was created, changed or started$/m);
    assert.match(dry.stdout, /^unchanged qwen2-1-5b {2}\(Playground\/qwen2-1-5b, documents 0, 1\)$/m);
    assert.match(dry.stdout, /^ {2}command: {2}\S+ -m vllm\.entrypoints\.openai\.api_server --model Qwen\/Qwen2\.5-1\.5B-Instruct --served-model-name qwen2-1-5b /m);
    assert.match(dry.stdout, /^ {2}ignored: {2}OpenModel\.spec\.familyName: describes the model family/m);

    const text = manifest('knative-kpa-vllm-qwen').replaceAll('qwen', 'qwen-two');
    const fromStdin = await berth(['apply', '-f', '-', '--dry-run', '--json'], env, text);
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    const answer = JSON.parse(fromStdin.stdout) as ApplyAnswer;
    assert.deepEqual(answer.deployments.map((x) => [x.name, x.action]), [['qwen-two', 'created']]);
    assert.equal(d.supervisor.has('qwen-two'), false);

    const refused = await berth(['apply', '-f', join(MANIFEST_FIXTURES, 'kserve-openshift-ai-granite.yaml')], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^berth apply: documents\[1\]\.spec\.predictor\.model\.storage\.key \(InferenceService granite, line 66\)/);

    const exported = await berth(['export', 'qwen', '--format', 'kserve'], env);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /^kind: InferenceService$/m);
    assert.match(exported.stdout, /storageUri: file:\/\/\/Qwen-7B-Chat-Int8$/m);
    const usage = await berth(['export', 'qwen', '--format', 'helm'], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--format: expected llmaz, kserve, knative/);
  });
});
