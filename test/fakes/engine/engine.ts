// One fake engine process, from argv to serving: parse the argv as the engine would, then
// either replay a failure fixture (FAKE_SCENARIO) or start up and serve.
import type { Server } from 'node:http';
import { DeprecatedFlagError, buildParser, parseArgs } from './argparse.js';
import { configure } from './config.js';
import type { Runtime } from './inference.js';
import type { Knobs } from './knobs.js';
import { recordGpuUse } from './gpu-apps.js';
import { crash, forever, installSignals, killSelf } from './lifecycle.js';
import { replay } from './log-lines.js';
import { LoraRegistry } from './lora.js';
import { Metrics } from './metrics.js';
import type { EngineName } from './shared.js';
import { fixtureModel, loadSpec, logCase, logLines } from './shared.js';
import { isStartupTemplate, startSglang, startVllm } from './startup.js';
import { FakeState } from './state.js';
import { lineEditor } from './substitute.js';
import { flexibleArgs } from './vllm-argv.js';

const ENTRYPOINT = {
  vllm: { id: 'api_server', prog: 'api_server.py', template: 'vllm-0.9.0.1-success-1gpu' },
  sglang: { id: 'launch_server', prog: 'launch_server.py', template: 'sglang-0.4.6-success' },
} as const;

/** argparse wraps its usage at the terminal width minus 2: COLUMNS, else the pty size, else 80. */
function terminalWidth(): number {
  const env = Number(process.env.COLUMNS);
  if (Number.isInteger(env) && env > 0) return env;
  return process.stdout.isTTY ? process.stdout.columns : 80;
}

export async function runEngine(engine: EngineName, version: string, args: string[], knobs: Knobs): Promise<void> {
  const entry = ENTRYPOINT[engine];
  const spec = loadSpec(engine);
  const parser = buildParser(spec, version, entry.id, entry.prog);
  const stem = knobs.scenario ?? entry.template;
  const fixture = logCase(stem);
  let lines = logLines(stem);

  // vLLM detects the platform and loads plugins while it builds its parser, so these INFO
  // lines (stdout) come before any argparse error (vllm-0.9.0.1-unrecognized-arg notes).
  if (engine === 'vllm') {
    let n = 0;
    while (n < lines.length && /^INFO \S+ \S+ \[__init__\.py:\d+\]/.test(lines[n] as string)) n += 1;
    await replay('vllm', lines.slice(0, n), 0);
    lines = lines.slice(n);
  }

  let parsed;
  try {
    parsed = parseArgs(parser, engine === 'vllm' ? flexibleArgs(args) : args, terminalWidth());
  } catch (e) {
    if (!(e instanceof DeprecatedFlagError)) throw e;
    // SGLang's DeprecatedAction raises ValueError(help) inside argparse: a traceback, exit 1.
    // The spec does not carry the help text, so the message names the flag instead.
    process.stderr.write(`Traceback (most recent call last):\nValueError: ${e.flag} is deprecated\n`);
    process.exit(1);
  }
  if (!parsed.ok) {
    process.stdout.write(parsed.stdout);
    process.stderr.write(parsed.stderr);
    process.exit(parsed.exitCode);
  }

  const cfg = configure(engine, version, spec, parser, parsed.values, knobs);
  // The model loads onto the GPUs from here on; a real engine holds their memory until it exits.
  recordGpuUse(knobs, process.pid, 'python3');
  const state = new FakeState(engine, knobs.echoEnv);
  const rt: Runtime = {
    cfg,
    state,
    metrics: new Metrics(engine, cfg.servedNames[0] as string, cfg.values.get('enable_lora') === true),
    loras: new LoraRegistry(cfg.staticLoras),
    afterCompleted: () => {
      if (state.completed === knobs.crashAfter) void crash(engine);
    },
    crash: () => void crash(engine),
  };
  let server: Server | null = null;
  installSignals(engine, knobs, state, () => server);
  const template = { lines, edit: lineEditor(cfg, fixtureModel(fixture)) };

  const stillRunning = fixture.exit_code === null && !fixture.exit_signal;
  if (knobs.scenario && !(stillRunning && isStartupTemplate(engine, lines))) {
    // A failure fixture: replay it over the start delay, then end the way cases.json says.
    // (A "still running" start-up fixture, e.g. a TP=2 success log, is served from instead.)
    await replay(fixture.engine, lines, knobs.startDelayMs, template.edit);
    if (fixture.exit_signal === 'SIGKILL') killSelf();
    if (fixture.exit_code !== null) process.exit(fixture.exit_code);
    return forever(); // "still running" (e.g. the runtime-LoRA excerpt): never ready
  }
  await (engine === 'vllm' ? startVllm : startSglang)(rt, template, (s) => {
    server = s;
  });
}
