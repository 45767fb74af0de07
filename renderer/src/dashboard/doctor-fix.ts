// The one-line fix the UI offers for each failing doctor check. The daemon's
// report says what is wrong (`detail`); this says what to type. Pure.
import type { DoctorCheck } from '../../../daemon/contract/api.js';

export interface Fix {
  /** A command to copy, or null where the fix is not a command. */
  command: string | null;
  /** What to do with it, or instead of it. */
  note: string;
}

export function doctorFix(check: DoctorCheck): Fix | null {
  if (check.ok) return null;
  switch (check.name) {
    case 'vllm':
      return {
        command: 'python3 -m venv ~/venvs/vllm && ~/venvs/vllm/bin/pip install vllm',
        note: 'then set vLLM Python to ~/venvs/vllm/bin/python in Settings (or BERTH_VLLM_PYTHON) and restart the daemon.',
      };
    case 'sglang':
      return {
        command: 'python3 -m venv ~/venvs/sglang && ~/venvs/sglang/bin/pip install "sglang[all]"',
        note: 'then set SGLang Python to ~/venvs/sglang/bin/python in Settings (or BERTH_SGLANG_PYTHON) and restart the daemon.',
      };
    case 'gpus':
    case 'driver':
      return { command: 'nvidia-smi', note: 'must run and list your GPUs: install the NVIDIA driver, or set nvidia-smi’s path in Settings.' };
    case 'docker':
      return { command: null, note: 'Only container mode needs it: install Docker and the NVIDIA Container Toolkit.' };
    default:
      return { command: null, note: check.detail };
  }
}

/** The checks worth a panel: anything failing, docker only when a deployment runs in a container. */
export function failingChecks(checks: readonly DoctorCheck[], containerUsed: boolean): DoctorCheck[] {
  return checks.filter((c) => !c.ok && (c.name !== 'docker' || containerUsed));
}
