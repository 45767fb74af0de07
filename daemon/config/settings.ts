// Daemon settings: embedded defaults < <home>/settings.json < environment <
// command-line flags. Every layer is validated and errors name the field.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { originPatternError } from './origins.js';
import { defaultHome } from './paths.js';

const port = z.number().int().min(1).max(65535);

const originPattern = z.string().superRefine((entry, ctx) => {
  const why = originPatternError(entry);
  if (why) ctx.addIssue({ code: 'custom', message: why });
});

export const settingsSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    /** 0 picks any free port (tests); the daemon prints the one it got. */
    port: z.number().int().min(0).max(65535).default(7788),
    /** Required for any non-loopback host. Never logged. */
    apiKey: z.string().min(1).nullable().default(null),
    /** Extra Host header names accepted besides loopback (DNS-rebinding guard). */
    allowedHosts: z.array(z.string().min(1)).default([]),
    /**
     * Browser origins allowed besides the defaults (loopback pages and the
     * daemon's own UI; see config/origins.ts): `*` wildcards, `*` alone for any.
     */
    allowedOrigins: z.array(originPattern).default([]),
    nvidiaSmi: z.string().min(1).default('nvidia-smi'),
    vllmPython: z.string().min(1).default('python3'),
    sglangPython: z.string().min(1).default('python3'),
    /**
     * Docker's Engine API socket for container mode: `unix:///path` or an
     * absolute path; `docker` means where the docker CLI looks (DOCKER_HOST,
     * else /var/run/docker.sock).
     */
    docker: z
      .string()
      .min(1)
      .refine((v) => v === 'docker' || v.startsWith('unix:///') || v.startsWith('/'), {
        message: 'expected the Engine API socket as unix:///path or an absolute path, or "docker" for where the docker CLI looks',
      })
      .default('docker'),
    /** SGLang's documented default port; engines take the next free one from here. */
    enginePortBase: port.default(30000),
    /** How long an engine may take to become ready (model download and load included). */
    startTimeoutMs: z.number().int().positive().default(20 * 60_000),
    /** SIGTERM → SIGKILL grace for an engine's process group. */
    stopGraceMs: z.number().int().positive().default(15_000),
    readinessIntervalMs: z.number().int().positive().default(500),
    /** How often idle scale-down and load-based scaling are decided. */
    scaleIntervalMs: z.number().int().positive().default(1_000),
    /** How long a request may wait for a replica (cold start, swap, queue) before a 503. */
    requestWaitMs: z.number().int().positive().default(10 * 60_000),
    /** Requests that may wait per deployment when every replica is at inFlightValue; more get 429. */
    maxQueue: z.number().int().min(0).default(256),
    /** How long a stop waits for in-flight requests before SIGTERM. */
    drainMs: z.number().int().min(0).default(30_000),
    /** Largest request body the gateway accepts. */
    maxBodyBytes: z.number().int().positive().default(32 * 1024 * 1024),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type SettingsInput = z.input<typeof settingsSchema>;
export type SettingName = keyof SettingsInput;

/** Where a field's value came from, when not from the embedded defaults. */
export type SettingsLayer = 'file' | 'env' | 'flag';

export type Settings = z.output<typeof settingsSchema> & {
  home: string;
  /**
   * The layer that set each field (absent: the default). The settings API
   * reports the fields the environment or a flag set, since editing
   * settings.json cannot change those while the override stays.
   */
  sources: Partial<Record<SettingName, SettingsLayer>>;
};

export class SettingsError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'SettingsError';
  }
}

function intFromEnv(name: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new SettingsError(name, `expected a whole number, got "${value}"`);
  return Number(value);
}

/** BERTH_ORIGINS: comma-separated origin patterns, as Ollama's OLLAMA_ORIGINS. */
function originsFromEnv(value: string): string[] {
  const entries = value.split(',').map((e) => e.trim()).filter(Boolean);
  for (const e of entries) {
    const why = originPatternError(e);
    if (why) throw new SettingsError('BERTH_ORIGINS', why);
  }
  return entries;
}

/** The environment variables Berth reads, mapped onto settings fields. */
function fromEnv(env: NodeJS.ProcessEnv): Partial<SettingsInput> {
  const out: Partial<SettingsInput> = {};
  if (env.BERTH_HOST) out.host = env.BERTH_HOST;
  if (env.BERTH_PORT) out.port = intFromEnv('BERTH_PORT', env.BERTH_PORT);
  if (env.BERTH_API_KEY) out.apiKey = env.BERTH_API_KEY;
  if (env.BERTH_ORIGINS) out.allowedOrigins = originsFromEnv(env.BERTH_ORIGINS);
  if (env.BERTH_NVIDIA_SMI) out.nvidiaSmi = env.BERTH_NVIDIA_SMI;
  if (env.BERTH_VLLM_PYTHON) out.vllmPython = env.BERTH_VLLM_PYTHON;
  if (env.BERTH_SGLANG_PYTHON) out.sglangPython = env.BERTH_SGLANG_PYTHON;
  if (env.BERTH_DOCKER) out.docker = env.BERTH_DOCKER;
  if (env.BERTH_ENGINE_PORT_BASE) out.enginePortBase = intFromEnv('BERTH_ENGINE_PORT_BASE', env.BERTH_ENGINE_PORT_BASE);
  if (env.BERTH_START_TIMEOUT_MS) out.startTimeoutMs = intFromEnv('BERTH_START_TIMEOUT_MS', env.BERTH_START_TIMEOUT_MS);
  if (env.BERTH_STOP_GRACE_MS) out.stopGraceMs = intFromEnv('BERTH_STOP_GRACE_MS', env.BERTH_STOP_GRACE_MS);
  if (env.BERTH_REQUEST_WAIT_MS) out.requestWaitMs = intFromEnv('BERTH_REQUEST_WAIT_MS', env.BERTH_REQUEST_WAIT_MS);
  if (env.BERTH_LOG_LEVEL) out.logLevel = env.BERTH_LOG_LEVEL as SettingsInput['logLevel'];
  return out;
}

export function settingsFile(home: string): string {
  return join(home, 'settings.json');
}

function readSettingsFile(file: string): Partial<SettingsInput> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SettingsError(file, 'expected a JSON object');
  }
  if (!isPlainObject(parsed)) throw new SettingsError(file, 'expected a JSON object');
  return parsed as Partial<SettingsInput>;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The fields of `values` that are set, each credited to `layer`. */
function credit(values: Partial<SettingsInput>, layer: SettingsLayer, into: Settings['sources']): Partial<SettingsInput> {
  const set = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<SettingsInput>;
  for (const k of Object.keys(set)) into[k as SettingName] = layer;
  return set;
}

export function loadSettings(opts: {
  env?: NodeJS.ProcessEnv;
  overrides?: Partial<SettingsInput>;
} = {}): Settings {
  const env = opts.env ?? process.env;
  const home = env.BERTH_HOME || defaultHome(env);
  const sources: Settings['sources'] = {};
  const merged = {
    ...credit(readSettingsFile(settingsFile(home)), 'file', sources),
    ...credit(fromEnv(env), 'env', sources),
    ...credit(opts.overrides ?? {}, 'flag', sources),
  };
  const parsed = settingsSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SettingsError(issue.path.join('.') || 'settings', issue.message);
  }
  return { ...parsed.data, home, sources };
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
