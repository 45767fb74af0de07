// The one error a Launcher rejects with. Callers branch on `code`, never on
// the message, which is written for a person.

/**
 * errno-style codes, as execve(2) would have reported them; for containers,
 * EPULL (the image could not be pulled) and EDOCKER (Docker refused or could
 * not be reached).
 */
export type LaunchErrorCode = 'ENOENT' | 'EACCES' | 'ENOTDIR' | 'EINVAL' | 'ESPAWN' | 'EPULL' | 'EDOCKER';

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
