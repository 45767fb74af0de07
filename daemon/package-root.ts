// The folder that holds Berth's package.json, for the files the daemon reads
// beside its code (engine specs, the version). The same modules run from two
// depths: daemon/**/*.ts under tsx (tests, bench) and dist/daemon/**/*.js (the
// shipped `berth` command), so a fixed `../..` from import.meta.url would be
// right in one and wrong in the other. dist/ holds no package.json, so the
// first one found walking up is the package's own.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json in ${from} or above`);
  }
}

export const PACKAGE_ROOT: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
