// The engine-log fixtures (test/fixtures/engine-logs): real and derived
// vLLM 0.9.0.1 / SGLang 0.4.6 console output, with cases.json saying how each
// run ended and which lines explain a failure.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../../daemon/contract/deployment.js';
import { ENGINE_LOG_FIXTURES } from '../helpers/fixtures.js';

export interface EngineLogCase {
  file: string;
  engine: Backend;
  exit_code: number | null;
  exit_signal?: NodeJS.Signals | null;
  ready_line: string | null;
  failure_reason: string | null;
}

export function engineLogCases(): EngineLogCase[] {
  const json = JSON.parse(readFileSync(join(ENGINE_LOG_FIXTURES, 'cases.json'), 'utf8')) as {
    files: Record<string, Omit<EngineLogCase, 'file'>>;
  };
  return Object.entries(json.files).map(([file, c]) => ({ file, ...c }));
}

export function readFixture(file: string): string {
  return readFileSync(join(ENGINE_LOG_FIXTURES, file), 'utf8');
}
