// YAML text -> the Kubernetes objects in it, each with its position and a way
// to say where one of its fields sits (line, column), so every error points
// at the text. Pure: the `yaml` package parses, nothing is read.
import { LineCounter, parseAllDocuments, isNode } from 'yaml';
import { ManifestError } from './errors.js';
import { formatPath, type Path } from './paths.js';

export interface ManifestDocument {
  /** Position in the file, 0-based, counting every `---` document (empty ones too). */
  index: number;
  apiVersion: string;
  kind: string;
  name: string | null;
  namespace: string | null;
  body: Record<string, unknown>;
  /** `documents[i] (Kind name, line L)` for a field: how errors name it. */
  where(path: Path): string;
}

/** `documents[i].<path>`: the error field of a manifest. */
export function documentField(index: number, path: Path): string {
  const p = formatPath(path);
  return `documents[${index}]${p === '' || p.startsWith('[') ? p : `.${p}`}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function parseManifest(text: string): ManifestDocument[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  // A stream of documents, or one empty stream (no documents at all).
  const list = Array.isArray(docs) ? docs : [];
  const out: ManifestDocument[] = [];
  list.forEach((doc, index) => {
    const err = doc.errors[0];
    if (err) {
      const pos = lines.linePos(err.pos[0]);
      throw new ManifestError('invalid_manifest', `documents[${index}]`, `documents[${index}]: not valid YAML at line ${pos.line}, column ${pos.col}: ${err.message.split('\n')[0]}`);
    }
    const body: unknown = doc.toJS({ maxAliasCount: 100 });
    if (body === null || body === undefined) return; // `---` with nothing after it
    const lineOf = (path: Path): number | null => {
      for (let n = path.length; n >= 0; n--) {
        const node: unknown = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
        if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
      }
      return null;
    };
    if (!isObject(body)) {
      throw new ManifestError('invalid_manifest', `documents[${index}]`, `documents[${index}] (line ${lineOf([]) ?? 1}): expected a Kubernetes object (apiVersion, kind, metadata, spec)`);
    }
    const str = (v: unknown) => (typeof v === 'string' && v ? v : null);
    const meta = isObject(body.metadata) ? body.metadata : {};
    const kind = str(body.kind);
    const apiVersion = str(body.apiVersion);
    for (const [field, value] of [['kind', kind], ['apiVersion', apiVersion]] as const) {
      if (!value) throw new ManifestError('invalid_manifest', `documents[${index}].${field}`, `documents[${index}] (line ${lineOf([]) ?? 1}): ${field} is missing`);
    }
    const name = str(meta.name);
    out.push({
      index,
      apiVersion: apiVersion!,
      kind: kind!,
      name,
      namespace: str(meta.namespace),
      body,
      where: (path) => {
        const line = lineOf(path);
        return `${documentField(index, path)} (${kind}${name ? ` ${name}` : ''}${line ? `, line ${line}` : ''})`;
      },
    });
  });
  if (out.length === 0) throw new ManifestError('invalid_manifest', 'manifest', 'manifest: no documents in it');
  return out;
}
