// Reads one manifest document field by field and remembers what it read, so
// that whatever no reader took is reported back as ignored, with its reason,
// never dropped without a word (a field accepted and then ignored is a defect).
import type { IgnoredField } from '../contract/manifests.js';
import type { ManifestDocument } from './documents.js';
import { documentField } from './documents.js';
import { ManifestError } from './errors.js';
import { formatPath, type Path } from './paths.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export const METADATA_REASON = 'Kubernetes metadata: it selects and describes objects in a cluster and changes nothing on one machine';
export const UNKNOWN_REASON = 'not a field Berth acts on';

export class Fields {
  private readonly used: Path[] = [];
  readonly ignored: IgnoredField[] = [];

  constructor(readonly doc: ManifestDocument) {}

  /** The value at `path`, without marking it read (to look before deciding). */
  peek(path: Path): unknown {
    let v: unknown = this.doc.body;
    for (const p of path) {
      if (typeof p === 'number') v = Array.isArray(v) ? v[p] : undefined;
      else v = isObject(v) ? v[p] : undefined;
      if (v === undefined) return undefined;
    }
    return v;
  }

  /** The value at `path`, marked read (all of it, when it is an object or a list). */
  take(path: Path): unknown {
    this.used.push(path);
    return this.peek(path);
  }

  /**
   * Reads what every workload resource has (apiVersion, kind, metadata.name
   * and namespace) and returns its name; a resource without one is refused
   * with `missingName`, which says what the name becomes.
   */
  identity(missingName: string): string {
    this.take(['apiVersion']);
    this.take(['kind']);
    this.take(['metadata', 'name']);
    this.take(['metadata', 'namespace']);
    return this.doc.name || this.fail(['metadata', 'name'], missingName);
  }

  /** Throws the 400 that names this document and field. */
  fail(path: Path, message: string, code: ManifestError['code'] = 'invalid_manifest'): never {
    throw new ManifestError(code, documentField(this.doc.index, path), `${this.doc.where(path)}: ${message}`);
  }

  str(path: Path): string | undefined {
    const v = this.take(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number') return String(v);
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${typeof v}`);
    return v;
  }

  /** A whole number, as YAML gives it (2) or as annotations must (`"2"`). */
  int(path: Path, min = 0): number | undefined {
    const v = this.take(path);
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) this.fail(path, `expected a whole number, got ${JSON.stringify(v)}`);
    if (n < min) this.fail(path, `expected at least ${min}, got ${n}`);
    return n;
  }

  /** A positive number, as YAML or an annotation string gives it. */
  number(path: Path): number | undefined {
    const v = this.take(path);
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !(n > 0)) this.fail(path, `expected a positive number, got ${JSON.stringify(v)}`);
    return n;
  }

  /** A list of strings (command, args). */
  strings(path: Path): string[] | undefined {
    const v = this.take(path);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.fail(path, 'expected a list of strings');
    return v.map((item, i) => {
      if (typeof item === 'string') return item;
      if (typeof item === 'number' || typeof item === 'boolean') return String(item);
      return this.fail([...path, i], 'expected a string');
    });
  }

  /** An object to read further, not marked read itself. */
  object(path: Path): Record<string, unknown> | undefined {
    const v = this.peek(path);
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) this.fail(path, 'expected an object');
    return v;
  }

  /** A list to read further, not marked read itself. */
  list(path: Path): unknown[] | undefined {
    const v = this.peek(path);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.fail(path, 'expected a list');
    return v;
  }

  /** Marks `path` read and reports it ignored (when present) with `reason`. */
  ignore(path: Path, reason: string): void {
    if (this.take(path) === undefined) return;
    this.ignored.push({ field: this.label(path), reason });
  }

  /** `Kind.path`: how an ignored field is named on the deployment (one deployment may come from two kinds). */
  label(path: Path): string {
    const p = formatPath(path);
    return `${this.doc.kind}${p.startsWith('[') ? '' : '.'}${p}`;
  }

  /**
   * Every part of the document no reader took, reported ignored: the largest
   * untouched subtrees, each with the reason `reasonFor` gives (metadata and
   * unknown fields by default).
   */
  finish(reasonFor: (path: Path) => string | null = () => null): IgnoredField[] {
    const walk = (v: unknown, path: Path) => {
      if (this.isUsed(path)) return;
      const below = this.used.some((u) => u.length > path.length && path.every((p, i) => u[i] === p));
      if (below && (isObject(v) || Array.isArray(v))) {
        const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
        for (const [k, x] of entries) walk(x, [...path, k]);
        return;
      }
      const reason = reasonFor(path) ?? (path.includes('metadata') ? METADATA_REASON : UNKNOWN_REASON);
      this.ignored.push({ field: this.label(path), reason });
    };
    for (const [k, v] of Object.entries(this.doc.body)) walk(v, [k]);
    return this.ignored;
  }

  private isUsed(path: Path): boolean {
    return this.used.some((u) => u.length <= path.length && u.every((p, i) => path[i] === p));
  }
}
