// What Berth asks nvidia-smi, and pure parsers for what it answers. No I/O: the exec
// adapter is inventory.ts. Evidence for every rule: test/fixtures/nvidia-smi/README.md.
import type { Gpu, GpuProcess, LostGpu } from '../contract/api.js';
import { outputLines, parseCsv, toNumber, type CsvQuery, type CsvRow } from './csv.js';

export { classifyFailure, NO_GPU, NOT_INSTALLED, type NvidiaSmiRun } from './failure.js';
export type { CsvFormat, CsvQuery } from './csv.js';

// Every field is in `--help-query-gpu` on 590.48.01 and 610.57.04. There is no cuda_version
// field on any driver (it fails the whole query), hence --version / the table below.
export const QUERY_GPU_FIELDS = [
  'index',
  'uuid',
  'name',
  'pci.bus_id',
  'driver_version',
  'memory.total',
  'memory.used',
  'memory.free',
  'utilization.gpu',
  'utilization.memory',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'compute_cap',
  'mig.mode.current',
  'persistence_mode',
  'fan.speed',
  'display_active',
] as const;

export const QUERY_GPU_CSV: CsvQuery = { fields: QUERY_GPU_FIELDS, header: false, units: false };
export const QUERY_GPU_ARGV: readonly string[] = [
  `--query-gpu=${QUERY_GPU_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
];

export const COMPUTE_APPS_FIELDS = ['pid', 'process_name', 'gpu_uuid', 'used_memory'] as const;
export const COMPUTE_APPS_CSV: CsvQuery = { fields: COMPUTE_APPS_FIELDS, header: false, units: false };
export const COMPUTE_APPS_ARGV: readonly string[] = [
  `--query-compute-apps=${COMPUTE_APPS_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
];

// ---------- lost GPUs ----------

// After a GPU falls off the bus nvidia-smi prints this line in place of its row while the
// other GPUs still answer (gpu-lost, gpu-lost-mixed). Case and the space before the bus id
// vary by driver and command (`for GPU0000:A1:00.0`, `for gpu 0000:08:00.0`).
const LOST = /^\s*unable to determine the device handle for/i;
const LOST_BUS_ID = /device handle for gpu\s*([0-9a-f]+:[0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f])/i;

/**
 * Bus ids in the sysfs / `lspci -D` form, `0000:18:00.0`. nvidia-smi's rows say
 * `00000000:18:00.0` (8-digit domain, upper-case) while its lost-GPU line says
 * `0000:38:00.0`; one form lets the two, and sysfs, be compared.
 */
export function normalizeBusId(raw: string | null | undefined): string | null {
  if (raw == null) return null;
  const m = /^([0-9a-f]+):([0-9a-f]{2}):([0-9a-f]{2})\.([0-9a-f])$/i.exec(raw.trim());
  if (!m) return raw.trim();
  const [, domain = '', bus, device, fn] = m;
  return `${domain.slice(-4).padStart(4, '0')}:${bus}:${device}.${fn}`.toLowerCase();
}

/** GPUs the driver named but could not reach, from any stream of any nvidia-smi command. */
export function parseLostGpus(text: string): LostGpu[] {
  return outputLines(text)
    .filter((line) => LOST.test(line))
    .map((line) => ({ busId: normalizeBusId(LOST_BUS_ID.exec(line)?.[1]), message: line.trim() }));
}

const withoutLost = (text: string): string[] => outputLines(text).filter((line) => !LOST.test(line));

// ---------- --query-gpu ----------

export interface QueryGpuResult {
  /** One per physical GPU, `processes` empty: MIG devices never appear in --query-gpu. */
  gpus: Gpu[];
  lost: LostGpu[];
  /** The first row's driver_version; the column still answers on 610, where it is "deprecated". */
  driverVersion: string | null;
}

const flag = (value: string | null | undefined): boolean | null =>
  value === 'Enabled' ? true : value === 'Disabled' ? false : null;

function toGpu(row: CsvRow, position: number): Gpu {
  const num = (field: string): number | null => toNumber(row[field]);
  return {
    // Rows come in index order, so position stands in when a query leaves index out
    // (geforce-*-i3pystatus). The contract has no null for uuid/name: '' means "not asked".
    index: num('index') ?? position,
    uuid: row.uuid ?? '',
    name: row.name ?? '',
    busId: normalizeBusId(row['pci.bus_id']),
    memoryTotalMiB: num('memory.total'),
    memoryUsedMiB: num('memory.used'),
    memoryFreeMiB: num('memory.free'),
    utilizationPct: num('utilization.gpu'),
    memoryUtilizationPct: num('utilization.memory'),
    temperatureC: num('temperature.gpu'),
    powerDrawW: num('power.draw'),
    powerLimitW: num('power.limit'),
    computeCap: row.compute_cap ?? null,
    migEnabled: flag(row['mig.mode.current']),
    processes: [],
  };
}

/**
 * Parse `--query-gpu` output for any field list; fields the query left out come back null.
 * Lost-GPU lines are pulled out before the CSV is read, so they never become rows.
 * Classify the run with classifyFailure first: an error message can look like a one-column row.
 */
export function parseQueryGpu(stdout: string, query: CsvQuery = QUERY_GPU_CSV): QueryGpuResult {
  const { rows } = parseCsv(withoutLost(stdout), query);
  return {
    gpus: rows.map(toGpu),
    lost: parseLostGpus(stdout),
    driverVersion: rows[0]?.driver_version ?? null,
  };
}

// ---------- --query-compute-apps ----------

/** Parse `--query-compute-apps` output. Empty output (noheader, no processes) is `[]`. */
export function parseComputeApps(stdout: string, query: CsvQuery = COMPUTE_APPS_CSV): GpuProcess[] {
  // Process names are free text (Windows paths with spaces); a `, ` inside one is joined back.
  const { rows } = parseCsv(withoutLost(stdout), query, 'process_name');
  return rows.flatMap((row) => {
    const pid = toNumber(row.pid);
    if (pid === null) return [];
    return [
      {
        pid,
        name: row.process_name ?? null, // `[Not Found]`: a process in another PID namespace
        // Under MIG this is the parent GPU's UUID, so it joins to a --query-gpu row.
        gpuUuid: row.uuid ?? null,
        usedMiB: toNumber(row.used_gpu_memory), // `[N/A]` for every process under Windows/WDDM
      },
    ];
  });
}

// ---------- driver and CUDA versions ----------

export interface DriverVersions {
  driverVersion: string | null;
  cudaVersion: string | null;
}

const version = (value: string | null | undefined): string | null =>
  value != null && /^\d+(\.\d+)+$/.test(value.trim()) ? value.trim() : null;

/**
 * `nvidia-smi --version`: `key : value` lines. 610 moved the numbers to `KMD version` and
 * `CUDA UMD version` and left `DRIVER version : Deprecated, see ...`, which is not a
 * version and so is skipped. Case varies (`CUDA Version` on 590, `CUDA version` on 610).
 */
export function parseVersion(stdout: string): DriverVersions {
  const values = new Map<string, string>();
  for (const line of outputLines(stdout)) {
    const m = /^([^:]+?)\s*:\s*(.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) values.set(m[1].trim().toLowerCase(), m[2]);
  }
  return {
    driverVersion: version(values.get('kmd version')) ?? version(values.get('driver version')),
    cudaVersion: version(values.get('cuda umd version')) ?? version(values.get('cuda version')),
  };
}

/**
 * The header of the plain `nvidia-smi` table, for drivers without --version (535 rejects
 * it): `Driver Version: 590.48.01  CUDA Version: 13.1`, or on 610 `KMD Version:` and
 * `CUDA UMD Version:`. 390 prints no CUDA version; 430 can print `CUDA Version: N/A`.
 */
export function parseTableHeader(stdout: string): DriverVersions {
  const header = outputLines(stdout).find((line) => /NVIDIA-SMI\s+\S/.test(line)) ?? '';
  return {
    driverVersion: version(/(?:Driver|KMD) Version:\s*(\S+)/i.exec(header)?.[1]),
    cudaVersion: version(/CUDA (?:UMD )?Version:\s*(\S+)/i.exec(header)?.[1]),
  };
}
