// Access to the nvidia-smi captures (test/fixtures/nvidia-smi): the replay table
// (cases.json) and its files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NVIDIA_SMI_FIXTURES } from '../../helpers/fixtures.js';

/** One entry of cases.json (fields Berth uses; see the fixture README for the rest). */
export interface FixtureCase {
  machine: string;
  /** Arguments after the program name. */
  argv: string[];
  /** File names in the fixture directory; null = nothing on that stream. */
  stdout: string | null;
  stderr: string | null;
  /** null = not captured. */
  exit_code: number | null;
  kind: 'verbatim' | 'derived';
  notes: string;
}

interface CasesFile {
  berth_query_gpu_fields: string;
  berth_query_compute_apps_fields: string;
  cases: Record<string, FixtureCase>;
}

let loaded: CasesFile | null = null;

export function casesFile(): CasesFile {
  loaded ??= JSON.parse(readFileSync(join(NVIDIA_SMI_FIXTURES, 'cases.json'), 'utf8')) as CasesFile;
  return loaded;
}

/** The bytes of a fixture file; '' for a null stream. */
export function fixtureBytes(name: string | null): Buffer {
  return name === null ? Buffer.alloc(0) : readFileSync(join(NVIDIA_SMI_FIXTURES, name));
}

export function fixtureText(name: string | null): string {
  return fixtureBytes(name).toString('utf8');
}
