// For tests that run something which runs nvidia-smi: point it at the fake, pick a machine.
import { fileURLToPath } from 'node:url';
import type { GpuProcess } from '../../../daemon/contract/api.js';
import { GPU_APPS_DIR_ENV } from './gpu-apps.js';

/** Absolute path of the fake binary. */
export const fakeNvidiaSmiPath = fileURLToPath(new URL('../bin/nvidia-smi', import.meta.url));

/**
 * Environment for the fake: `machine` is a cases.json machine, `hang`, or a comma-separated
 * layering (`h100x8,h100`). `processes`, when given, is the compute-apps answer, to which
 * the fake engines recorded in `appsDir` (gpu-apps.ts) are added.
 */
export function fakeNvidiaSmiEnv(machine: string, processes?: readonly GpuProcess[], appsDir?: string): Record<string, string> {
  const env: Record<string, string> = { FAKE_NVIDIA_SMI_MACHINE: machine };
  if (processes) env.FAKE_NVIDIA_SMI_PROCESSES = JSON.stringify(processes);
  if (appsDir) env[GPU_APPS_DIR_ENV] = appsDir;
  return env;
}
