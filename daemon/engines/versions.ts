// Engine version ordering, PEP 440-ish: 0.4.6rc1 < 0.4.6 < 0.4.6.post2 < 0.4.7.
// Covers the forms the deployment schema accepts (contract/deployment.ts,
// `backendVersion`): a dotted release, then any of `rcN`, `.postN`, `.devN`.
// String comparison would put 0.4.10 before 0.4.9, and 0.4.6.post2 before 0.4.6.

interface Version {
  release: number[];
  rc: number | null;
  post: number | null;
  dev: number | null;
}

const RELEASE = /^(\d+(?:\.\d+)*)((?:[.-]?(?:post|rc|dev)\d*)*)$/;
const SUFFIX = /[.-]?(post|rc|dev)(\d*)/g;

function parse(v: string): Version | null {
  const m = RELEASE.exec(v.trim());
  if (!m) return null;
  const out: Version = { release: m[1]!.split('.').map(Number), rc: null, post: null, dev: null };
  for (const [, kind, n] of m[2]!.matchAll(SUFFIX)) out[kind as 'rc' | 'post' | 'dev'] = Number(n || 0);
  return out;
}

export function isVersion(v: string): boolean {
  return parse(v) !== null;
}

// PEP 440 order within one release: X.devN < XrcN < X < X.postN.devM < X.postN.
function key(v: Version): number[] {
  const phase = v.rc !== null ? [1, v.rc] : v.post === null && v.dev !== null ? [0, 0] : [2, 0];
  return [...phase, v.post ?? -1, v.dev ?? Number.POSITIVE_INFINITY];
}

/** Negative, zero or positive like a sort comparator. Throws on a string that is not a version. */
export function compareVersions(a: string, b: string): number {
  const va = parse(a);
  const vb = parse(b);
  if (!va || !vb) throw new Error(`not a version: ${va ? b : a}`);
  const len = Math.max(va.release.length, vb.release.length);
  for (let i = 0; i < len; i++) {
    const d = (va.release[i] ?? 0) - (vb.release[i] ?? 0);
    if (d !== 0) return d;
  }
  const ka = key(va);
  const kb = key(vb);
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
  }
  return 0;
}
