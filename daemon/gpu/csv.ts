// Reader for nvidia-smi's `--format=csv[,noheader][,nounits]` output. Pure.
// Every rule here comes from captured output; test/fixtures/nvidia-smi/README.md
// ("Format rules a parser must follow") has the evidence.

/** The two switches of `--format=csv,...` that change what the output looks like. */
export interface CsvFormat {
  /** false under `noheader`: there is no header line and columns follow the query order. */
  header: boolean;
  /** false under `nounits`: values are bare (`81559`, not `81559 MiB`). */
  units: boolean;
}

/** What was asked: the field list after `--query-gpu=` / `--query-compute-apps=`, and the format. */
export interface CsvQuery extends CsvFormat {
  fields: readonly string[];
}

/** One row keyed by canonical field name; null where nvidia-smi printed a "no value" placeholder. */
export type CsvRow = Readonly<Record<string, string | null>>;

// The header prints an alias under its canonical name (vllm-enginecore asked `used_memory`
// and got `used_gpu_memory [MiB]`), so requested names and header names both go through here.
const ALIASES: Readonly<Record<string, string>> = {
  gpu_name: 'name',
  gpu_bus_id: 'pci.bus_id',
  gpu_uuid: 'uuid',
  used_memory: 'used_gpu_memory',
};

const HEADER_UNIT = / \[([^\]]+)\]$/;

/** `memory.total [MiB]` -> `memory.total`; `gpu_uuid` -> `uuid`. */
export function canonicalField(name: string): string {
  const bare = name.trim().replace(HEADER_UNIT, '');
  return ALIASES[bare] ?? bare;
}

/**
 * Lines without terminators, blank ones dropped (error messages end with an empty line).
 * `\r\n` is accepted: whether nvidia-smi.exe writes CRLF was never established.
 * Lines are not trimmed: a row can end in an empty value (`..., `).
 */
export function outputLines(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.trim() !== '');
}

/**
 * nvidia-smi's ways of saying "no value": `[N/A]`, `[Not Supported]` (old drivers),
 * `[Unknown Error]`, `[Insufficient Permissions]`, `[Not Found]` (a process in another PID
 * namespace), `[Requested functionality has been deprecated]` (590+), bare `N/A`
 * (temperature.memory on GeForce) and an empty string (chassis serial on H100). All seen
 * ones are bracketed or one of the last two, so any bracketed value counts: a placeholder
 * nobody captured yet must not reach a number parser, which would read it as data.
 */
export function isNoValue(value: string): boolean {
  return value === '' || value === 'N/A' || (value.startsWith('[') && value.endsWith(']'));
}

/** A plain decimal, or null: a placeholder or any other text is "no value", never 0. */
export function toNumber(value: string | null | undefined): number | null {
  return value != null && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : null;
}

// Without a header we do not know each column's unit, so accept "number, space, one token".
const VALUE_WITH_UNIT = /^(-?\d+(?:\.\d+)?) \S+$/;

function stripUnit(value: string, headerUnit: string | null, hasHeader: boolean): string {
  if (hasHeader) {
    // temperature.gpu has no unit in the header and none in the value.
    return headerUnit !== null && value.endsWith(` ${headerUnit}`)
      ? value.slice(0, -headerUnit.length - 1)
      : value;
  }
  return VALUE_WITH_UNIT.exec(value)?.[1] ?? value;
}

export interface CsvResult {
  rows: CsvRow[];
  /** Lines that did not have the query's shape (a warning, an error line). Never guessed at. */
  rejected: string[];
}

/**
 * Parse CSV lines. Columns are mapped by position: to the header's names when there is a
 * header, else to `query.fields`. Values are split on `", "` (never quoted or escaped).
 * `freeText` names the one column whose value may itself contain `", "` (a process name);
 * surplus pieces are joined back into it.
 */
export function parseCsv(lines: readonly string[], query: CsvQuery, freeText?: string): CsvResult {
  let body = lines;
  let columns = query.fields.map(canonicalField);
  let units: (string | null)[] = columns.map(() => null);
  if (query.header) {
    const [head, ...rest] = lines;
    body = rest;
    if (head !== undefined) {
      const names = head.split(', ');
      columns = names.map(canonicalField);
      units = names.map((name) => HEADER_UNIT.exec(name.trim())?.[1] ?? null);
    }
  }

  const free = freeText === undefined ? -1 : columns.indexOf(canonicalField(freeText));
  const rows: CsvRow[] = [];
  const rejected: string[] = [];
  for (const line of body) {
    let pieces = line.split(', ');
    const surplus = pieces.length - columns.length;
    if (surplus > 0 && free >= 0) {
      pieces = [
        ...pieces.slice(0, free),
        pieces.slice(free, free + surplus + 1).join(', '),
        ...pieces.slice(free + surplus + 1),
      ];
    }
    if (pieces.length !== columns.length) {
      rejected.push(line);
      continue;
    }
    const row: Record<string, string | null> = {};
    columns.forEach((column, i) => {
      const raw = (pieces[i] ?? '').trim();
      row[column] = isNoValue(raw)
        ? null
        : query.units
          ? stripUnit(raw, units[i] ?? null, query.header)
          : raw;
    });
    rows.push(row);
  }
  return { rows, rejected };
}
