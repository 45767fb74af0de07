// The SGLang fake over HTTP: late bind, warm-up, model echo, its own stream and death shapes.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Fake } from './harness.js';
import { freePort, post, SGLANG_MODULE, sseData, startFake, startSglang, status, waitFor, waitStatus } from './harness.js';

const READY = 'The server is fired up and ready to roll!';
const chat = (model: string, extra: object = {}) => ({ model, messages: [{ role: 'user', content: 'Say hello' }], ...extra });

describe('SGLang: start-up and routes', () => {
  let f: Fake;
  before(async () => {
    f = await startSglang(['--served-model-name', 'qwen'], { FAKE_WARMUP_MS: '300' });
  });
  after(() => f.kill());

  it('/health is 200 while /health_generate is still 503, and the ready line is not out yet', async () => {
    // A warm-up that outlasts the test: a 300 ms window is one a loaded machine's
    // polling can miss entirely.
    const warming = await startSglang(['--served-model-name', 'qwen'], { FAKE_WARMUP_MS: '600000' });
    try {
      await waitStatus(warming, '/health', 200);
      assert.equal(await status(warming, '/health_generate'), 503);
      assert.ok(!warming.stderr().includes(READY));
      assert.match(warming.stderr(), new RegExp(`\\] INFO:     Uvicorn running on http://127\\.0\\.0\\.1:${warming.port} \\(Press CTRL\\+C to quit\\)\\n`));
    } finally {
      warming.kill();
    }
  });

  it('the ready line comes with the /health_generate 200', async () => {
    await waitStatus(f, '/health_generate', 200);
    await waitFor(() => f.stderr().includes(READY) || undefined, 'the ready line');
    assert.match(f.stderr(), /^\[\S+ \S+\] server_args=ServerArgs\(model_path='Qwen\/Qwen2\.5-0\.5B-Instruct', .*served_model_name='qwen', .*port=\d+,/m);
  });

  it('/v1/models has the one served name; /get_model_info the model path', async () => {
    const models = (await (await fetch(f.url('/v1/models'))).json()) as { data: { id: string; owned_by: string }[] };
    assert.deepEqual(models.data.map((m) => [m.id, m.owned_by]), [['qwen', 'sglang']]);
    const info = (await (await fetch(f.url('/get_model_info'))).json()) as Record<string, unknown>;
    assert.deepEqual(info, { model_path: 'Qwen/Qwen2.5-0.5B-Instruct', tokenizer_path: 'Qwen/Qwen2.5-0.5B-Instruct', is_generation: true });
  });

  it('echoes any model name: there is no unknown-model error at 0.4.6', async () => {
    const r = await post(f, '/v1/chat/completions', chat('gpt-4o'));
    assert.equal(r.status, 200);
    const body = JSON.parse(r.text) as { id: string; model: string; choices: { matched_stop: number | null }[] };
    assert.match(body.id, /^[0-9a-f]{32}$/);
    assert.equal(body.model, 'gpt-4o');
    assert.equal(body.choices[0]?.matched_stop, 128009);
  });

  it('stream: finish_reason twice without include_usage; usage on a non-empty final chunk with it', async () => {
    type Chunk = { choices: { finish_reason: string | null }[]; usage: Record<string, number> | null };
    const parse = (text: string) => sseData(text).slice(0, -1).map((e) => JSON.parse(e) as Chunk);
    const plain = parse((await post(f, '/v1/chat/completions', chat('m', { stream: true }))).text);
    assert.deepEqual(plain.slice(-2).map((c) => c.choices[0]?.finish_reason), ['stop', 'stop']);
    const counted = parse((await post(f, '/v1/chat/completions', chat('m', { stream: true, stream_options: { include_usage: true } }))).text);
    const last = counted.at(-1) as Chunk;
    assert.equal(last.choices[0]?.finish_reason, 'stop');
    assert.equal(last.usage?.completion_tokens, 8);
    assert.ok(counted.slice(0, -1).every((c) => c.usage === null && c.choices[0]?.finish_reason === null));
  });

  it('no /metrics without --enable-metrics, no vLLM-only routes', async () => {
    assert.equal(await status(f, '/metrics'), 404);
    assert.equal(await status(f, '/version'), 404);
  });
});

describe('SGLang: failures end in SIGKILL', { concurrency: true }, () => {
  it('FAKE_CRASH_AFTER=1: the scheduler exception, the sigquit line, then signal 9', async () => {
    const f = await startSglang(['--enable-metrics'], { FAKE_CRASH_AFTER: '1' });
    await waitStatus(f, '/health', 200);
    assert.equal((await post(f, '/v1/chat/completions', chat('m'))).status, 200);
    assert.deepEqual(await f.exited, { code: null, signal: 'SIGKILL' });
    assert.match(f.stderr(), / TP0\] Scheduler hit an exception: Traceback/);
    assert.match(f.stderr(), /Received sigquit from a child process\. It usually means the child failed\.\n$/);
  });

  it('port already taken: uvicorn bind ERROR, the warm-up gives up, signal 9', async () => {
    const holder = createServer();
    const port = await freePort();
    await new Promise<void>((r) => holder.listen(port, '127.0.0.1', r));
    try {
      const f = startFake([...SGLANG_MODULE, '--model-path', 'm', '--port', String(port)], { FAKE_WARMUP_MS: '50' }, port);
      assert.deepEqual(await f.exited, { code: null, signal: 'SIGKILL' });
      assert.match(f.stderr(), new RegExp(`ERROR:    \\[Errno 98\\] error while attempting to bind on address \\('127\\.0\\.0\\.1', ${port}\\): address already in use`));
      assert.match(f.stderr(), /Initialization failed\. warmup error: Traceback/);
      assert.doesNotMatch(f.stderr(), /Uvicorn running on/);
    } finally {
      holder.close();
    }
  });
});
