#!/usr/bin/env node
// The `berth` command. The daemon is TypeScript run through tsx's loader, so
// `npm ci && npm start` works without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../daemon/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
