// POST /api/v1/session: the browser UI trades the API key for a cookie once,
// because EventSource cannot send an Authorization header. The cookie is
// HttpOnly and SameSite=Strict, and the daemon honours it only on requests
// from its own origin, so another page on the same machine cannot ride it.

export interface SessionRequest {
  apiKey: string;
}

export interface SessionAnswer {
  /** true when the daemon has no API key: every loopback request is already allowed. */
  open: boolean;
}
