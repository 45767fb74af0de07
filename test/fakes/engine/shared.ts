// Where the fake reads its truth: the engine specs and the engine-log / engine-response
// fixtures (test/helpers/fixtures.ts says where). The fake never carries its own copy of
// an engine fact, so a corrected spec or fixture changes the fake's behaviour with no edit here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_LOG_FIXTURES, ENGINE_RESPONSE_FIXTURES, ENGINE_SPECS } from '../../helpers/fixtures.js';

export type EngineName = 'vllm' | 'sglang';

/** One flag of an engine spec (the fields the fake's argparse needs; see the spec files). */
export interface SpecFlag {
  name: string;
  aliases: string[];
  action: string;
  nargs: null | 0 | '?' | '*' | '+';
  parserType: string | null;
  choices: (string | number)[] | null;
  default: unknown;
  const?: unknown;
  required?: boolean;
  metavar?: string;
  negatedForm?: string;
  positional?: boolean;
  entrypoints?: string[];
  availableFrom?: string;
  changedIn?: { version: string; field: string; value: unknown }[];
}

export interface EngineSpec {
  engine: EngineName;
  version: string;
  defaultPort: number;
  defaultHost: string | null;
  flags: SpecFlag[];
}

const specFile = { vllm: 'vllm-0.9.0.1.json', sglang: 'sglang-0.4.6.json' } as const;

export function loadSpec(engine: EngineName): EngineSpec {
  return JSON.parse(readFileSync(join(ENGINE_SPECS, specFile[engine]), 'utf8')) as EngineSpec;
}

/** One entry of engine-logs/cases.json (the fields the fake replays). */
export interface LogCase {
  engine: EngineName;
  argv: string[] | null;
  exit_code: number | null;
  exit_signal?: string | null;
}

let cases: Record<string, LogCase> | undefined;

export function logCase(stem: string): LogCase {
  cases ??= (JSON.parse(readFileSync(join(ENGINE_LOG_FIXTURES, 'cases.json'), 'utf8')) as { files: Record<string, LogCase> }).files;
  const c = cases[`${stem}.log`];
  if (!c) throw new Error(`fake engine: no ${stem}.log in ${join(ENGINE_LOG_FIXTURES, 'cases.json')}`);
  return c;
}

/** The `.log` form of a fixture: pty line ends removed, as the README describes. */
export function logLines(stem: string): string[] {
  const text = readFileSync(join(ENGINE_LOG_FIXTURES, `${stem}.log`), 'utf8');
  return text.replace(/\n$/, '').split('\n');
}

export function responseFixture(name: string): string {
  return readFileSync(join(ENGINE_RESPONSE_FIXTURES, name), 'utf8');
}

/** The model a fixture was captured with, so replays can substitute the one we were given. */
export function fixtureModel(c: LogCase): string | undefined {
  const argv = c.argv ?? [];
  const i = argv.findIndex((a) => a === '--model' || a === '--model-path');
  if (i >= 0) return argv[i + 1];
  const serve = argv.indexOf('serve');
  return serve >= 0 ? argv[serve + 1] : undefined;
}

/** Compares SGLang-style versions: 0.4.6 < 0.4.6.post2 < 0.4.7. */
export function versionAtMost(v: string, limit: string): boolean {
  const parts = (s: string) => s.split(/\.post|\./).map(Number);
  const a = parts(v);
  const b = parts(limit);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d < 0;
  }
  return true;
}
