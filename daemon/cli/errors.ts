// A command's failure as the user sees it: one line and an exit code (2 for
// usage errors). Its own module, so `berth --help` and the offline commands
// load no HTTP client to report one.
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
