// Where Berth keeps its state when BERTH_HOME is not set: the user's config
// dir, as Electron's app.getPath('userData') would pick it, so the desktop app
// and `npm start` share one state dir.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'berth');
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'berth');
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'berth');
}
