// Which doctor checks the dashboard shows. The daemon says what is wrong
// (`detail`) and what to do about it (`fix`); this only picks. Pure.
import type { DoctorCheck } from '../../../daemon/contract/api.js';

/** The checks worth a panel: anything failing, docker only when a deployment runs in a container. */
export function failingChecks(checks: readonly DoctorCheck[], containerUsed: boolean): DoctorCheck[] {
  return checks.filter((c) => !c.ok && (!c.name.startsWith('docker') || containerUsed));
}
