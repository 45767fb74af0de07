// HTTP to the engines over kept-alive connections (undici). Timeouts are off:
// a prefill can take minutes and a stream can pause; the client's disconnect
// and the caller's AbortSignal end a request instead.
import { Agent } from 'undici';

export const upstreamAgent = new Agent({
  keepAliveTimeout: 60_000,
  keepAliveMaxTimeout: 600_000,
  headersTimeout: 0,
  bodyTimeout: 0,
  connect: { timeout: 10_000 },
  pipelining: 1,
});

/**
 * True when the engine cannot have started on the request: the connection
 * was refused or reset before any response byte. Only then is a retry on
 * another replica safe.
 */
export function failedBeforeResponse(err: unknown): boolean {
  const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  return (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'UND_ERR_SOCKET' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_CLOSED'
  );
}
