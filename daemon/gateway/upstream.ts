// HTTP to the engines over kept-alive connections (the wire client). No
// timeouts on a request: a prefill can take minutes and a stream can pause;
// the client's disconnect ends a request instead.
import { ClientPool } from '../http/wire/client.js';

// Warm for 30 s after the last request: a burst after a pause of more than
// the engine's keep-alive does not open its connections inside its time to
// first token (see ClientPool).
export const enginePool = new ClientPool({ connectTimeoutMs: 10_000, warmMs: 30_000 });

/**
 * True when the engine cannot have started on the request: the connection
 * was refused, or reset or closed before any response byte. Only then is a
 * retry on another replica safe.
 */
export function failedBeforeResponse(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_CONNECT_TIMEOUT';
}
