// Module resolution hook for tests: prints every module URL a process resolves
// to stderr, one `module-trace <url>` line each, so a test can assert what a
// command loads. Plain JavaScript because it runs in processes without tsx.
import { writeSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  writeSync(2, `module-trace ${resolved.url}\n`);
  return resolved;
}
