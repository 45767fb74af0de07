// The one error a Launcher rejects with. Callers branch on `code`, never on
// the message, which is written for a person.

/** errno-style codes, as execve(2) would have reported them. */
export type LaunchErrorCode = 'ENOENT' | 'EACCES' | 'ENOTDIR' | 'EINVAL' | 'ESPAWN';

export class LaunchError extends Error {
  override readonly name = 'LaunchError';

  constructor(
    readonly code: LaunchErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
