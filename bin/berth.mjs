#!/usr/bin/env node
// The `berth` command: plain JavaScript compiled into dist/ by `npm run build`
// (which `npm ci` runs through `prepare`), so no TypeScript loader is paid at
// every run.
let cli;
try {
  cli = await import('../dist/daemon/cli/main.js');
} catch (err) {
  // Only our own entry point missing means "not built"; a dependency missing
  // inside dist/ is a different fault and keeps its own error.
  const { existsSync } = await import('node:fs');
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || existsSync(new URL('../dist/daemon/cli/main.js', import.meta.url))) throw err;
  console.error('berth: not built (dist/ is missing); run: npm run build');
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
