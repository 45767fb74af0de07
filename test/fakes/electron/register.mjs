// `node --import ./test/fakes/electron/register.mjs dist/main/index.js` runs the
// built Electron main in plain Node, with `electron` resolved to the fake
// beside this file. For the bundle smoke test (test/main/bundle.test.ts).
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
