// `berth serve`: the only command that loads the daemon's server (express,
// pino, node-pty, ...); main.ts imports this module only for `serve`.
import { loadSettings, type SettingsInput } from '../config/settings.js';
import { serveForeground } from '../main.js';
import { parse } from './args.js';
import { CliError } from './errors.js';

export async function serve(args: string[]): Promise<number> {
  const { values } = parse(args, { host: { type: 'string' }, port: { type: 'string' } }, 0);
  const overrides: Partial<SettingsInput> = {};
  if (values.host) overrides.host = values.host;
  if (values.port !== undefined) {
    if (!/^\d+$/.test(values.port)) throw new CliError(`--port: expected a port number, got "${values.port}"`, 2);
    overrides.port = Number(values.port);
  }
  let settings;
  try {
    settings = loadSettings({ overrides });
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  try {
    return await serveForeground(settings);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}
