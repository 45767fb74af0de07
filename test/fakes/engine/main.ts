// The fake `python`: test/fakes/bin/python runs this file under tsx with the interpreter's
// argv. `-m <engine module>` starts a fake engine; the rest is the interpreter's own CLI.
import { interpret } from './interpreter.js';
import { readKnobs } from './knobs.js';

const knobs = readKnobs();
const invocation = interpret(process.argv.slice(2), knobs, process.env.FAKE_ARGV0 ?? 'python');
if (invocation.kind === 'done') {
  process.stdout.write(invocation.stdout);
  process.stderr.write(invocation.stderr);
  process.exitCode = invocation.code;
} else {
  // Loaded only for an engine, so the doctor's probes do not pay for the whole fake.
  const { runEngine } = await import('./engine.js');
  await runEngine(invocation.engine, invocation.version, invocation.args, knobs);
}
