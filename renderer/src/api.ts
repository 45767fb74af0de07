// The one client every view calls the daemon with: same origin, so the
// session cookie (not a header) carries the API key when one is set. A 401
// from any route but the login itself raises the auth gate.
import { createClient, fetchTransport, type Client, type Transport } from '../../daemon/contract/client.js';
import { api } from '../../daemon/contract/routes.js';
import { createAuthGate } from './auth.js';

export { ApiError, UnreachableError, type Client } from '../../daemon/contract/client.js';

export const authGate = createAuthGate();

const base = fetchTransport();
const guarded: Transport = async (req) => {
  const answer = await base(req);
  if (answer.status === 401 && req.path !== api.createSession.path) authGate.require();
  return answer;
};

export const client: Client = createClient(guarded);
