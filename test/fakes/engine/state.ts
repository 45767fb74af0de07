// The fake's own counters and the `GET /fake/state` body. This route is not part of any
// engine: it is prefixed /fake/ so nothing can take it for one, and tests use it to see what
// reached the engine (argv, env, aborted requests) without parsing logs.
import type { EngineName } from './shared.js';

export class FakeState {
  /** Inference requests received (chat, completions, embeddings), whatever their outcome. */
  requests = 0;
  inFlight = 0;
  /** Inference requests whose client went away before the answer was complete. */
  aborted = 0;
  /** Inference requests answered to the end (any status); FAKE_CRASH_AFTER counts these. */
  completed = 0;
  /** Completion tokens of the answers delivered in full. */
  completedTokens = 0;
  childPid: number | null = null;

  constructor(
    readonly engine: EngineName,
    readonly echoEnv: string[],
  ) {}

  body() {
    const keep = (k: string) => /^(FAKE_|VLLM_|CUDA_|SGLANG_)/.test(k) || this.echoEnv.includes(k);
    return {
      argv: process.argv.slice(2),
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => keep(k)).sort(([a], [b]) => a.localeCompare(b))),
      pid: process.pid,
      engine: this.engine,
      requests: this.requests,
      inFlight: this.inFlight,
      aborted: this.aborted,
      completedTokens: this.completedTokens,
      childPid: this.childPid,
    };
  }
}
