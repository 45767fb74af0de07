// Alaya's Open API credentials: `Authorization: plain Credential=<AK>,Signature=<SK>`.
// Berth has one secret, its API key; a client written for Alaya puts it in
// either place (the key as the AK, or as the SK with any AK such as a user
// name), and a Bearer key or the UI's session works too. Without an API key
// (loopback) any credential is accepted, as every other door does.
import { apiKeyGuard, nodeHeaderLookup, sameSecret } from '../../http/security.js';
import { HttpError } from '../../http/errors.js';
import type { IncomingHttpHeaders } from 'node:http';

const PLAIN = /^plain\s+(.*)$/i;

/** `Credential=AK,Signature=SK` -> its parts; null when the header is not in that form. */
export function parsePlainCredential(header: string): { credential: string; signature: string } | null {
  const m = PLAIN.exec(header.trim());
  if (!m) return null;
  const parts = new Map<string, string>();
  for (const p of m[1]!.split(',')) {
    const eq = p.indexOf('=');
    if (eq > 0) parts.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
  }
  const credential = parts.get('credential');
  const signature = parts.get('signature');
  return credential !== undefined && signature !== undefined ? { credential, signature } : null;
}

export function alayaAuthGuard(apiKey: string | null): (headers: IncomingHttpHeaders) => HttpError | null {
  const berth = apiKeyGuard(apiKey);
  return (headers) => {
    if (!apiKey) return null;
    const plain = parsePlainCredential(String(headers.authorization ?? ''));
    // Both compared, always: which one matched must not show in the timing.
    if (plain && [sameSecret(plain.credential, apiKey), sameSecret(plain.signature, apiKey)].some(Boolean)) return null;
    if (!plain && berth(nodeHeaderLookup(headers)) === null) return null;
    return new HttpError(
      401,
      'invalid_api_key',
      plain
        ? 'Authorization: neither Credential nor Signature is this daemon\'s API key'
        : 'Authorization: expected "plain Credential=<AK>,Signature=<SK>" with the daemon\'s API key as AK or SK',
      'Authorization',
    );
  };
}
