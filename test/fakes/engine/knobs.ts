// The fake's failure knobs, all read from the environment once at start-up. Tests set them
// in the env the daemon passes to the engine, so the daemon under test runs unchanged
// (no test hooks in production code: STYLE.md example 4). Every knob is prefixed FAKE_ so it
// can never be mistaken for a real engine variable.

export interface Knobs {
  /** FAKE_ENGINE_VERSION: version printed by `-c "import vllm; ..."` and used for flag availability. */
  version: string | undefined;
  /** FAKE_IMPORT_FAIL=1: the engine package is "not installed" (ModuleNotFoundError, exit 1). */
  importFail: boolean;
  /** FAKE_START_DELAY_MS (300): model-load time; the start-up log lines are spread over it. */
  startDelayMs: number;
  /** FAKE_WARMUP_MS (200): SGLang's warm-up; /health_generate is 503 until it ends. */
  warmupMs: number;
  /** FAKE_NEVER_READY=1: logs the model load, then never binds the port (a hung load). */
  neverReady: boolean;
  /** FAKE_CRASH_AFTER=N: the engine dies after the N-th inference request completes. */
  crashAfter: number | undefined;
  /** FAKE_DIE_AT_REQUEST=N: the engine dies as the N-th inference request arrives, answering none of it. */
  dieAtRequest: number | undefined;
  /** FAKE_HTTP_500=1: inference routes answer 500 with the engine's error envelope. */
  http500: boolean;
  /** FAKE_HANG=1: inference requests are accepted and never answered. */
  hang: boolean;
  /** FAKE_TOKENS (8): completion tokens per request (EOS included, as the engines count it). */
  tokens: number;
  /** FAKE_TOKEN_DELAY_MS (0): time per generated token, for streams and non-stream alike. */
  tokenDelayMs: number;
  /** FAKE_IGNORE_SIGTERM=1 / FAKE_IGNORE_SIGHUP=1: the signal is caught and ignored. */
  ignoreSigterm: boolean;
  ignoreSighup: boolean;
  /** FAKE_SPAWN_CHILD=1: start a long-lived child in our process group, like vLLM's EngineCore. */
  spawnChild: boolean;
  /** FAKE_SCENARIO=<engine-logs stem>: replay that fixture and end as cases.json says. */
  scenario: string | undefined;
  /** FAKE_ECHO_ENV=A,B: extra env keys reported by GET /fake/state. */
  echoEnv: string[];
  /** FAKE_GPU_APPS_DIR: where to record the GPU memory this engine holds, for the fake nvidia-smi. */
  gpuAppsDir: string | undefined;
  /** FAKE_GPU_MEMORY_MIB (1024): MiB held on each visible GPU while FAKE_GPU_APPS_DIR is set. */
  gpuMemoryMiB: number;
}

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`fake engine: ${name}=${raw} is not a non-negative integer`);
  return n;
}

const flag = (name: string) => process.env[name] === '1' || process.env[name] === 'true';

export function readKnobs(): Knobs {
  return {
    version: process.env.FAKE_ENGINE_VERSION || undefined,
    importFail: flag('FAKE_IMPORT_FAIL'),
    startDelayMs: int('FAKE_START_DELAY_MS', 300),
    warmupMs: int('FAKE_WARMUP_MS', 200),
    neverReady: flag('FAKE_NEVER_READY'),
    crashAfter: process.env.FAKE_CRASH_AFTER ? int('FAKE_CRASH_AFTER', 0) : undefined,
    dieAtRequest: process.env.FAKE_DIE_AT_REQUEST ? int('FAKE_DIE_AT_REQUEST', 0) : undefined,
    http500: flag('FAKE_HTTP_500'),
    hang: flag('FAKE_HANG'),
    tokens: Math.max(1, int('FAKE_TOKENS', 8)),
    tokenDelayMs: int('FAKE_TOKEN_DELAY_MS', 0),
    ignoreSigterm: flag('FAKE_IGNORE_SIGTERM'),
    ignoreSighup: flag('FAKE_IGNORE_SIGHUP'),
    spawnChild: flag('FAKE_SPAWN_CHILD'),
    scenario: process.env.FAKE_SCENARIO || undefined,
    echoEnv: (process.env.FAKE_ECHO_ENV ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    gpuAppsDir: process.env.FAKE_GPU_APPS_DIR || undefined,
    gpuMemoryMiB: int('FAKE_GPU_MEMORY_MIB', 1024),
  };
}
