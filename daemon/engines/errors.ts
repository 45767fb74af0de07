// The one error type of daemon/engines: a deployment Berth cannot turn into a
// launch plan. It carries its HTTP status, so the API's error middleware
// renders it as a 400 naming the offending field (daemon/http/errors.ts).

export class PlanError extends Error {
  readonly status = 400;

  constructor(
    /** Stable and machine-readable: 'unrecognized_argument', 'invalid_argument', 'unsupported_version'... */
    readonly code: string,
    /** The deployment field to blame: `backendArgs[2]`, `backendVersion`, `servedName`. */
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'PlanError';
  }
}
