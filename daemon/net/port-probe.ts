// Asks the kernel whether a TCP port can be bound. Binding without
// SO_REUSEPORT fails against vLLM's SO_REUSEPORT listener too, which is the
// case we must catch.
import { createServer } from 'node:net';

export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}
