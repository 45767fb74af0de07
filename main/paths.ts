// Where the app's files are at run time. Packaged, app.getAppPath() is
// .../resources/app.asar; the daemon runs as its own process, which cannot
// load its modules from inside the archive, so electron-builder unpacks it
// (asarUnpack) into app.asar.unpacked beside it. In development the app path
// is the repository and both are the same folder.
import { join } from 'node:path';

export interface AppPaths {
  /** The sandboxed preload, bundled to CommonJS by scripts/build-main.mjs. */
  preload: string;
  /** Tray icons (scripts/make-icons.mjs). */
  icons: string;
  /** The `berth` command the daemon is spawned from. */
  daemonEntry: string;
}

export function appPaths(appPath: string): AppPaths {
  const unpacked = appPath.replace(/\.asar$/, '.asar.unpacked');
  return {
    preload: join(appPath, 'dist/main/preload.cjs'),
    icons: join(appPath, 'resources/icons'),
    daemonEntry: join(unpacked, 'bin/berth.mjs'),
  };
}

/** BERTH_PORT in the app's environment wins over the saved port, as it does for `berth serve`; null when unset or not a port. */
export function portFromEnv(value: string | undefined): number | null {
  if (!value || !/^\d{1,5}$/.test(value)) return null;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : null;
}
