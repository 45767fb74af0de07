// One test per case in test/fixtures/nvidia-smi/cases.json: what a user would see from it.
// Every case needs an entry in EXPECT; a new fixture without one fails the suite.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Gpu } from '../../daemon/contract/api.js';
import { outputLines, parseCsv, type CsvQuery } from '../../daemon/gpu/csv.js';
import {
  classifyFailure,
  COMPUTE_APPS_ARGV,
  COMPUTE_APPS_FIELDS,
  parseComputeApps,
  parseLostGpus,
  parseQueryGpu,
  parseTableHeader,
  parseVersion,
  QUERY_GPU_ARGV,
  QUERY_GPU_FIELDS,
} from '../../daemon/gpu/nvidia-smi.js';
import { casesFile, fixtureText, type FixtureCase } from '../fakes/nvidia-smi/fixtures.js';

// ---------- reading a case the way nvidia-smi was asked ----------

/** The field list and format a case's argv asked for (`--query-x=a,b` or `--query-x a,b`). */
function csvQuery(argv: readonly string[]): CsvQuery {
  let fields: string[] = [];
  let format: string[] = [];
  argv.forEach((arg, i) => {
    const [flag, inline] = arg.split('=', 2);
    const value = inline ?? argv[i + 1] ?? '';
    if (flag === '--query-gpu' || flag === '--query-compute-apps') fields = value.split(',');
    if (flag === '--format') format = value.split(',');
  });
  return { fields, header: !format.includes('noheader'), units: !format.includes('nounits') };
}

const stdoutOf = (c: FixtureCase): string => fixtureText(c.stdout);
const gpusOf = (c: FixtureCase) => parseQueryGpu(stdoutOf(c), csvQuery(c.argv));
const appsOf = (c: FixtureCase) => parseComputeApps(stdoutOf(c), csvQuery(c.argv));
const failureOf = (c: FixtureCase) =>
  classifyFailure({ exitCode: c.exit_code, stdout: stdoutOf(c), stderr: fixtureText(c.stderr) });
const rowsOf = (c: FixtureCase) => parseCsv(outputLines(stdoutOf(c)), csvQuery(c.argv)).rows;
const caseNamed = (name: string): FixtureCase => {
  const c = casesFile().cases[name];
  assert.ok(c, `missing case ${name}`);
  return c;
};

/** The field names `--help-query-gpu` lists: quoted tokens on lines that start with a quote. */
const helpFields = (text: string): Set<string> =>
  new Set(
    text
      .split('\n')
      .filter((line) => line.startsWith('"'))
      .flatMap((line) => [...line.matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? '')),
  );

// ---------- shared expectations ----------

const H100_IDLE = {
  name: 'NVIDIA H100 80GB HBM3',
  memoryTotalMiB: 81559,
  memoryUsedMiB: 0,
  memoryFreeMiB: 81081,
  utilizationPct: 0,
  memoryUtilizationPct: 0,
  temperatureC: 41,
  powerDrawW: 69.85,
  powerLimitW: 700,
  computeCap: '9.0',
  migEnabled: false,
} satisfies Partial<Gpu>;

const H100_LOADED = {
  ...H100_IDLE,
  memoryUsedMiB: 19818,
  memoryFreeMiB: 61263,
  utilizationPct: 100,
  memoryUtilizationPct: 11,
  temperatureC: 59,
  powerDrawW: 631.95,
} satisfies Partial<Gpu>;

function assertGpu(gpu: Gpu | undefined, expected: Partial<Gpu>): void {
  assert.ok(gpu, 'expected a GPU');
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(gpu[key as keyof Gpu], value, `${key} of GPU ${gpu.index}`);
  }
}

const isMinusL = (c: FixtureCase): void => {
  // Berth reads GPUs from --query-gpu; -L is only where MIG devices show, and Berth does not
  // schedule MIG slices yet. What matters here: it is a clean answer, not a failure.
  assert.deepEqual(c.argv, ['-L']);
  assert.equal(failureOf(c), null);
  assert.deepEqual(parseLostGpus(stdoutOf(c)), []);
};

const versions = (driverVersion: string | null, cudaVersion: string | null) => ({ driverVersion, cudaVersion });

const h100x8 = (c: FixtureCase): void => {
  const { gpus, lost, driverVersion } = gpusOf(c);
  assert.equal(gpus.length, 8);
  assert.deepEqual(lost, []);
  assert.equal(driverVersion, '590.48.01');
  assert.deepEqual(
    gpus.map((g) => g.index),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  assert.deepEqual(
    gpus.map((g) => g.busId),
    ['0000:18:00.0', '0000:38:00.0', '0000:48:00.0', '0000:59:00.0', '0000:98:00.0', '0000:b8:00.0', '0000:c8:00.0', '0000:d9:00.0'],
  );
  assertGpu(gpus[0], { ...H100_IDLE, uuid: 'GPU-00000000-0000-0000-0000-000000000000', processes: [] });
  assertGpu(gpus[7], { ...H100_LOADED, uuid: 'GPU-00000007-0000-0000-0000-000000000007' });
};

const ws4080s2080s = (c: FixtureCase): void => {
  const { gpus, driverVersion } = gpusOf(c);
  assert.equal(driverVersion, '595.71.05');
  assert.equal(gpus.length, 2);
  assertGpu(gpus[0], {
    index: 0,
    name: 'NVIDIA GeForce RTX 4080 SUPER',
    busId: '0000:01:00.0',
    memoryTotalMiB: 16376,
    memoryUsedMiB: 596,
    memoryFreeMiB: 15348,
    memoryUtilizationPct: 23,
    powerDrawW: 26.2,
    powerLimitW: 320,
    computeCap: '8.9',
    migEnabled: null, // [N/A] on GeForce: not "disabled", unknown
  });
  assertGpu(gpus[1], { index: 1, name: 'NVIDIA GeForce RTX 2080 SUPER', busId: '0000:0c:00.0', memoryTotalMiB: 8192, computeCap: '7.5' });
};

const h100Mig = (c: FixtureCase): void => {
  const { gpus, driverVersion } = gpusOf(c);
  assert.equal(driverVersion, '590.48.01');
  assert.equal(gpus.length, 1, 'MIG devices never appear as --query-gpu rows');
  assertGpu(gpus[0], {
    migEnabled: true,
    utilizationPct: null, // [N/A] under MIG, not 0
    memoryUtilizationPct: null,
    memoryTotalMiB: 81559,
    memoryUsedMiB: 59,
    powerDrawW: 71.15,
  });
};

const sameAs = (other: string) => (c: FixtureCase) => assert.deepEqual(gpusOf(c), gpusOf(caseNamed(other)));

const i3pystatus = (fanPlaceholder: string) => (c: FixtureCase) => {
  assert.ok(stdoutOf(c).includes(fanPlaceholder));
  assert.equal(rowsOf(c)[0]?.['fan.speed'], null);
  const { gpus } = gpusOf(c);
  assert.equal(gpus.length, 1);
  assertGpu(gpus[0], {
    index: 0, // not queried: position
    uuid: '',
    name: '',
    busId: null,
    memoryTotalMiB: 2004,
    memoryFreeMiB: 2004,
    memoryUsedMiB: 0,
    temperatureC: 44,
    utilizationPct: 0,
  });
};

const helpListsBerthFields = (c: FixtureCase): void => {
  const fields = helpFields(stdoutOf(c));
  for (const field of QUERY_GPU_FIELDS) assert.ok(fields.has(field), `${field} missing from --help-query-gpu`);
  assert.ok(fields.has('gpu_uuid') && fields.has('gpu_name') && fields.has('gpu_bus_id'), 'aliases listed');
  assert.ok(!fields.has('cuda_version'), 'cuda_version is not a query field');
};

// ---------- one expectation per case ----------

const EXPECT: Record<string, (c: FixtureCase) => void> = {
  'h100.query-gpu.all-fields': (c) => {
    const { gpus, driverVersion } = gpusOf(c);
    assert.equal(driverVersion, '590.48.01');
    assertGpu(gpus[0], { ...H100_IDLE, index: 0, busId: '0000:00:09.0' });
    // All placeholder kinds in one real row read as "no value".
    const row = rowsOf(c)[0];
    assert.equal(row?.['fan.speed'], null, '[N/A]');
    assert.equal(row?.['fabric.health.summary'], null, 'bare N/A');
    assert.equal(row?.display_mode, null, '[Requested functionality has been deprecated]');
    assert.equal(row?.['platform.chassis_serial_number'], null, 'empty');
    assert.equal(row?.['clocks.max.sm'], '1980', 'units stripped by the header unit');
    assert.equal(Object.keys(row ?? {}).length, 212);
  },
  'h100.query-gpu.all-fields.load': (c) => assertGpu(gpusOf(c).gpus[0], H100_LOADED),
  'h100.list-gpus': isMinusL,
  'h100.version': (c) => assert.deepEqual(parseVersion(stdoutOf(c)), versions('590.48.01', '13.1')),
  'h100.nvidia-smi': (c) => assert.deepEqual(parseTableHeader(stdoutOf(c)), versions('590.48.01', '13.1')),
  'h100.nvidia-smi.load': (c) => assert.deepEqual(parseTableHeader(stdoutOf(c)), versions('590.48.01', '13.1')),
  'h100.help-query-gpu': helpListsBerthFields,
  'rtx2080s-610.help-query-gpu': helpListsBerthFields,
  'h100x8.query-gpu': h100x8,
  'h100x8.query-gpu.noheader-nounits': (c) => {
    h100x8(c);
    sameAs('h100x8.query-gpu')(c);
  },
  'h100x8.list-gpus': isMinusL,
  'titanx8-2016.query-gpu.noheader-nounits': (c) => {
    const { gpus, driverVersion } = gpusOf(c);
    assert.equal(gpus.length, 8);
    assert.equal(driverVersion, null);
    assertGpu(gpus[0], {
      index: 0,
      uuid: 'GPU-004f693d-767b-b215-b4a9-a18af0ffd643',
      name: 'GeForce GTX TITAN X', // old drivers print no "NVIDIA " prefix
      temperatureC: 25,
      utilizationPct: 0,
      memoryUsedMiB: 802,
      memoryTotalMiB: 12206,
      memoryFreeMiB: null, // not asked, not 0
      busId: null,
      powerDrawW: null,
    });
    assertGpu(gpus[1], { temperatureC: 54, utilizationPct: 86, memoryUsedMiB: 10032 });
  },
  'rtx2080-440.query-gpu.noheader-nounits': (c) => {
    const { gpus, driverVersion } = gpusOf(c);
    assert.equal(driverVersion, '440.64');
    assert.equal(rowsOf(c)[0]?.['temperature.memory'], null, 'bare N/A');
    assertGpu(gpus[0], {
      index: 0,
      name: 'GeForce RTX 2080',
      uuid: 'GPU-22b2c6ac-2d49-4863-197c-9c469071178a', // asked as gpu_uuid
      powerLimitW: 200,
      powerDrawW: 176.98,
      memoryTotalMiB: 7979,
      temperatureC: 45,
      utilizationPct: 86,
      memoryUtilizationPct: 55,
    });
  },
  'h200x8.query-gpu.index-uuid-mem': (c) => {
    const { gpus } = gpusOf(c);
    assert.equal(gpus.length, 8);
    assert.ok(gpus.every((g) => g.memoryTotalMiB === 143771 && g.name === ''));
    assertGpu(gpus[7], { index: 7, uuid: 'GPU-28780eb0-24d5-1f13-59b8-ae5c23617a72', memoryUsedMiB: 58071, utilizationPct: 0 });
  },
  'ws-4080s-2080s.query-gpu': ws4080s2080s,
  'ws-4080s-2080s.query-gpu.noheader-nounits': (c) => {
    ws4080s2080s(c);
    sameAs('ws-4080s-2080s.query-gpu')(c);
  },
  'rtx4080s.nvidia-smi': (c) => assert.deepEqual(parseTableHeader(stdoutOf(c)), versions('595.71.05', '13.2')),
  'rtx4080s.query-compute-apps': (c) =>
    assert.deepEqual(appsOf(c), [
      { pid: 2165, name: '/usr/bin/kwin_wayland', gpuUuid: 'GPU-00000000-0000-0000-0000-000000000000', usedMiB: 25 },
    ]),
  'windows-rtx2080s.query-gpu': (c) => {
    const { gpus, driverVersion } = gpusOf(c);
    assert.equal(driverVersion, '591.86');
    assertGpu(gpus[0], { name: 'NVIDIA GeForce RTX 2080 SUPER', memoryTotalMiB: 8192, memoryUsedMiB: 702, migEnabled: null });
    // Whether nvidia-smi.exe writes CRLF is not established: the same bytes with CRLF read the same.
    assert.deepEqual(parseQueryGpu(stdoutOf(c).replace(/\n/g, '\r\n'), csvQuery(c.argv)), gpusOf(c));
  },
  'windows-rtx2080s.query-compute-apps': (c) => {
    const apps = appsOf(c);
    assert.equal(apps.length, 10);
    assert.ok(apps.every((p) => p.usedMiB === null), 'WDDM: [N/A], never 0');
    assert.equal(apps.find((p) => p.pid === 20372)?.name, 'C:\\Program Files\\NZXT CAM\\NZXT CAM.exe');
    assert.deepEqual(parseComputeApps(stdoutOf(c).replace(/\n/g, '\r\n'), csvQuery(c.argv)), apps);
  },
  'windows-rtx2080s.nvidia-smi': (c) => assert.deepEqual(parseTableHeader(stdoutOf(c)), versions('591.86', '13.1')),
  'gtx1080ti-390.nvidia-smi': (c) => assert.deepEqual(parseTableHeader(stdoutOf(c)), versions('390.25', null)),
  'ws-rtx2070-gtx750ti-450.nvidia-smi': (c) => assert.deepEqual(parseTableHeader(stdoutOf(c)), versions('450.57', '11.0')),
  'rtx2080s-610.nvidia-smi': (c) => assert.deepEqual(parseTableHeader(stdoutOf(c)), versions('610.57.04', '13.3')),
  'rtx2080s-610.version': (c) => assert.deepEqual(parseVersion(stdoutOf(c)), versions('610.57.04', '13.3')),
  'windows-rtx2080s.version': (c) => assert.deepEqual(parseVersion(stdoutOf(c)), versions('591.86', '13.1')),
  'geforce-old-i3pystatus.query-gpu.noheader-nounits': i3pystatus('[Not Supported]'),
  'geforce-new-i3pystatus.query-gpu.noheader-nounits': i3pystatus('[N/A]'),
  'h100-mig.list-gpus': isMinusL,
  'h200-mig.list-gpus': isMinusL,
  'h100-mig.query-gpu.all-fields': h100Mig,
  'h100-mig.query-gpu': h100Mig,
  'h100-mig.query-gpu.noheader-nounits': (c) => {
    h100Mig(c);
    sameAs('h100-mig.query-gpu')(c);
  },
  'h100-mig.nvidia-smi': (c) => assert.deepEqual(parseTableHeader(stdoutOf(c)), versions('590.48.01', '13.1')),
  'h100-mig.query-compute-apps': (c) => {
    const apps = appsOf(c);
    // The parent GPU's UUID, so they attach to the one --query-gpu row.
    assert.ok(apps.every((p) => p.gpuUuid === 'GPU-00000000-0000-0000-0000-000000000000'));
    assert.deepEqual(
      apps.map((p) => [p.pid, p.name, p.usedMiB]),
      [
        [21180, '/root/tools/memhog', 2296],
        [21181, '/root/tools/memhog', 1272],
        [21198, './gpu_burn', 7484],
      ],
    );
  },
  'gb10.query-gpu': (c) => {
    const { gpus } = gpusOf(c);
    // Unified memory: [N/A] under a [MiB] header. Unknown, not 0 MiB free.
    assertGpu(gpus[0], { index: 0, name: 'NVIDIA GB10', memoryTotalMiB: null, memoryFreeMiB: null, memoryUsedMiB: null });
  },
  'gb10.query-gpu.memory': (c) =>
    assertGpu(gpusOf(c).gpus[0], { memoryTotalMiB: null, memoryFreeMiB: null, memoryUsedMiB: null }),
  'gb10.query-gpu.loop': (c) => {
    // `-l 1` repeats the one GPU's row every second; Berth never loops, each sample reads as a row.
    const samples = gpusOf(c).gpus;
    assert.deepEqual(
      samples.map((g) => g.utilizationPct),
      [0, 2, 0, 0, 0],
    );
    assert.ok(samples.every((g) => g.memoryUsedMiB === null && g.temperatureC === 38));
  },
  'h100.query-compute-apps': (c) =>
    assert.deepEqual(
      appsOf(c).map((p) => [p.pid, p.name, p.usedMiB]),
      [
        [11327, '/root/tools/memhog', 2566],
        [11328, '/root/tools/memhog', 1542],
        [11345, './gpu_burn', 15690],
      ],
    ),
  'h100.query-compute-apps.empty': (c) => {
    assert.deepEqual(appsOf(c), [], 'header only');
    assert.equal(failureOf(c), null);
  },
  'empty.query-compute-apps.noheader-nounits': (c) => {
    assert.deepEqual(appsOf(c), [], 'empty stdout');
    assert.equal(failureOf(c), null);
  },
  'vllm-enginecore.query-compute-apps': (c) =>
    // Asked `used_memory`, header says `used_gpu_memory [MiB]`.
    assert.deepEqual(appsOf(c), [
      { pid: 3858903, name: 'VLLM::EngineCore', gpuUuid: null, usedMiB: 6265 },
      { pid: 3880364, name: 'VLLM::EngineCore', gpuUuid: null, usedMiB: 5530 },
    ]),
  'h100x8-vllm.query-compute-apps.noheader-nounits': (c) => {
    const apps = appsOf(c);
    assert.equal(apps.length, 8);
    assert.deepEqual(apps[3], {
      pid: 2753463,
      name: 'VLLM::Worker_TP3',
      gpuUuid: 'GPU-00000003-1111-1111-1111-000000000003',
      usedMiB: 79028,
    });
  },
  'h100x8-vllm.nvidia-smi': (c) => assert.deepEqual(parseTableHeader(stdoutOf(c)), versions('570.195.03', '12.8')),
  'h200x8.query-compute-apps': (c) => {
    const apps = appsOf(c);
    assert.equal(apps.length, 8);
    assert.deepEqual(apps[0], {
      pid: 1328667,
      name: '/usr/local/bin/python3.10',
      gpuUuid: 'GPU-a44622e3-2296-6285-0a86-84d0f6c67900',
      usedMiB: 130004,
    });
    assert.deepEqual(apps[7], {
      pid: 1758887,
      name: null, // [Not Found]: another PID namespace
      gpuUuid: 'GPU-28780eb0-24d5-1f13-59b8-ae5c23617a72',
      usedMiB: 58060,
    });
  },
  'no-devices': (c) => {
    assert.equal(failureOf(c), 'No NVIDIA GPU found (the driver is loaded but sees no devices)');
    assert.deepEqual(gpusOf(c).gpus, []);
  },
  'driver-not-loaded': (c) =>
    assert.equal(failureOf(c), 'The NVIDIA driver is not loaded (nvidia-smi could not communicate with it)'),
  'version-mismatch': (c) => assert.match(failureOf(c) ?? '', /^NVIDIA driver\/library version mismatch/),
  'version-mismatch-old': (c) => assert.match(failureOf(c) ?? '', /^NVIDIA driver\/library version mismatch/),
  'nvml-unknown-error': (c) =>
    assert.equal(failureOf(c), 'The NVIDIA driver could not be initialised (NVML: Unknown Error)'),
  'no-supported-gpus': (c) =>
    assert.equal(failureOf(c), 'No NVIDIA GPU found (the driver is loaded but no supported GPU is bound to it)'),
  'gpu-lost': (c) => {
    assert.equal(failureOf(c), 'An NVIDIA GPU has fallen off the bus (reboot to recover it)');
    assert.deepEqual(parseLostGpus(stdoutOf(c)), [
      { busId: '0000:a1:00.0', message: 'Unable to determine the device handle for GPU0000:A1:00.0: Unknown Error' },
    ]);
  },
  'gpu-lost-mixed.query-gpu.noheader-nounits': (c) => {
    const { gpus, lost } = gpusOf(c);
    assert.equal(gpus.length, 1, 'the good row survives; the error line is not a row');
    assertGpu(gpus[0], { ...H100_IDLE, index: 0, busId: '0000:18:00.0' });
    assert.deepEqual(lost, [
      { busId: '0000:38:00.0', message: 'Unable to determine the device handle for GPU0000:38:00.0: Unknown Error' },
    ]);
  },
  'invalid-field': (c) =>
    assert.equal(failureOf(c), 'nvidia-smi rejected the query: Field "device_minor" is not a valid field to query.'),
  'invalid-field-cuda_version': (c) =>
    assert.equal(failureOf(c), 'nvidia-smi rejected the query: Field "cuda_version" is not a valid field to query.'),
  'unknown-option': (c) =>
    assert.equal(
      failureOf(c),
      "nvidia-smi rejected the query: ERROR: Option -format=csv is not recognized. Please run 'nvidia-smi -h' for help.",
    ),
  'version-unsupported-535': (c) => {
    assert.match(failureOf(c) ?? '', /Option --version is not recognized/);
    assert.deepEqual(parseVersion(stdoutOf(c)), versions(null, null));
  },
  'inforom-corrupted.nvidia-smi': (c) => {
    assert.equal(failureOf(c), null, 'exit 14 still carries a complete table');
    assert.deepEqual(parseTableHeader(stdoutOf(c)), versions('470.82.01', '11.4'));
  },
  'gb10.query-gpu.noheader': (c) => {
    // Units without a header: `[N/A]` carries none, the driver column has none.
    const { gpus, driverVersion } = gpusOf(c);
    assert.equal(driverVersion, '580.126.09');
    assertGpu(gpus[0], { name: 'NVIDIA GB10', memoryTotalMiB: null });
  },
};

const cases = Object.entries(casesFile().cases);

for (const [name, c] of cases) {
  test(`fixture ${name}`, () => {
    const expect = EXPECT[name];
    assert.ok(expect, `cases.json has a new case "${name}": add what a user should see from it to EXPECT`);
    expect(c);
  });
}

test('every expectation names a case that still exists', () => {
  const names = new Set(cases.map(([name]) => name));
  assert.deepEqual(
    Object.keys(EXPECT).filter((name) => !names.has(name)),
    [],
  );
});

test("Berth's argv is exactly what cases.json replays", () => {
  assert.equal(QUERY_GPU_FIELDS.join(','), casesFile().berth_query_gpu_fields);
  assert.deepEqual(caseNamed('h100x8.query-gpu.noheader-nounits').argv, QUERY_GPU_ARGV);
  assert.equal(COMPUTE_APPS_FIELDS.join(','), casesFile().berth_query_compute_apps_fields);
  assert.deepEqual(caseNamed('empty.query-compute-apps.noheader-nounits').argv, COMPUTE_APPS_ARGV);
});
