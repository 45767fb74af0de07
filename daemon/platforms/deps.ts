import type { Logger } from 'pino';
import type { Settings } from '../config/settings.js';
import type { Supervisor } from '../supervisor/supervisor.js';

/** What the platforms' routers need from the daemon. */
export interface PlatformDeps {
  settings: Pick<Settings, 'apiKey' | 'home'>;
  supervisor: Supervisor;
  log: Logger;
}
