// GET/PATCH /api/v1/settings: the daemon's settings as the UI shows and edits
// them. Edits go to <home>/settings.json (atomically); the log level applies
// at once, everything else at the next start (config/settings-edit.ts says
// why). The API key is never read back, logged, or edited here.
import type { Logger } from 'pino';
import type { EditableSettings } from '../contract/settings.js';
import { api } from '../contract/routes.js';
import { editable, nextStartSettings, overriddenKeys, patchSettingsFile, settingsView } from '../config/settings-edit.js';
import { isPlainObject, SettingsError, settingsFile, type Settings } from '../config/settings.js';
import { badRequest, HttpError } from '../http/errors.js';
import { readJsonFile, writeFileAtomic } from '../state/atomic-file.js';
import type { On } from './mount.js';

async function readFile(path: string): Promise<Record<string, unknown>> {
  let content: unknown;
  try {
    content = await readJsonFile(path);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    content = null;
  }
  if (content === undefined) return {};
  // Never overwrite a file someone broke by hand: they may want what is in it.
  if (!isPlainObject(content)) {
    throw new HttpError(409, 'invalid_settings_file', `${path} is not a JSON object; fix or remove it, then try again`);
  }
  return content;
}

function asHttp(err: unknown): unknown {
  return err instanceof SettingsError ? badRequest(err.message, err.field) : err;
}

export function mountSettings(on: On, deps: { settings: Settings; log: Logger }): void {
  const running = deps.settings;
  const path = settingsFile(running.home);
  const effective: EditableSettings = editable(running);
  // The log level applies the moment it is saved: pino's replica loggers are
  // children that read their level from the daemon's logger, so one
  // assignment reaches every line. Every other field was read once when
  // something was built (the listening socket, the gateway's body limit, the
  // supervisor's timers) and applies at the next start, as pendingRestart
  // says. A level set by BERTH_LOG_LEVEL stays, as it would at a restart.
  const logLevelLive = !overriddenKeys(running.sources).includes('logLevel');
  // One edit at a time: two read-modify-writes racing would lose one of them.
  let queue: Promise<unknown> = Promise.resolve();

  const view = async () => {
    const file = await readFile(path);
    return settingsView({ effective, running, file, next: nextStartSettings(file, running) });
  };

  on(api.settings, () => view().catch((err: unknown) => Promise.reject(asHttp(err))));

  on(api.updateSettings, ({ body }) => {
    const edit = queue.then(async () => {
      const before = await readFile(path);
      let file: Record<string, unknown>;
      let next;
      try {
        file = patchSettingsFile(before, body);
        next = nextStartSettings(file, running);
      } catch (err) {
        throw asHttp(err);
      }
      await writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
      if (logLevelLive) deps.log.level = effective.logLevel = next.logLevel;
      // Names only: a value could be a path or a host the user would rather not see in a shared log.
      deps.log.info({ changed: Object.keys(body as object) }, 'settings saved');
      return settingsView({ effective, running, file, next });
    });
    queue = edit.catch(() => undefined);
    return edit;
  });
}
