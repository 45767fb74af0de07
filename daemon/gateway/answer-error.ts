// How a gateway request that is not served ends, on either door: the error
// in OpenAI's envelope, or nothing at all to a client that has gone; and the
// status the metrics record, which is always what the client got.
import type { Logger } from 'pino';
import { errorBody, toHttpError } from '../http/errors.js';
import type { ClientResponse } from './client-response.js';

/** nginx's "client closed request": the client left before its answer was complete. */
export const CLIENT_CLOSED = 499;

/**
 * Answers `err` and returns the status to record. A client that left (mid
 * body, mid wait, mid stream) is its own doing: nothing is written and it is
 * no error of the gateway's. Only an unexpected error is logged as one.
 */
export function answerError(log: Logger, res: ClientResponse, err: unknown): number {
  if (res.writableFinished) return res.statusCode;
  if (res.destroyed) return CLIENT_CLOSED;
  const e = toHttpError(err);
  if (e.status >= 500 && e.code === 'internal_error') log.error({ err }, 'gateway request failed');
  if (res.headersSent) {
    // Part of an answer is out: the only honest end left is a broken one.
    res.destroy();
    return res.statusCode;
  }
  const body = JSON.stringify(errorBody(e, 'openai'));
  try {
    res.writeHead(e.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...e.headers });
    res.end(body);
  } catch (writeErr) {
    // Nothing may escape: the caller's promise has no one to catch it, and an
    // unhandled rejection ends the daemon, every other client with it.
    log.error({ err: writeErr }, 'gateway could not write an error answer');
    res.destroy();
    return 500;
  }
  return e.status;
}
