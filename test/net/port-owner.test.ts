// Who listens on an engine's port: the readiness check must tell the engine
// from another program that bound the port first.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { listeningInodes, portHolder } from '../../daemon/net/port-owner.js';

// /proc/net/tcp and tcp6 as Linux 6.1 writes them: a listener on 127.0.0.1:8000
// (0x1F40), a connection from that port, a listener on [::]:30000 (0x7530).
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41731 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F40 0100007F:D2C4 01 00000000:00000000 00:00000000 00000000  1000        0 41990 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:D2C4 0100007F:1F40 06 00000000:00000000 03:00000F12 00000000     0        0 0 3 0000000000000000
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:7530 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 52210 1 0000000000000000 100 0 0 10 0
`;

describe('listeningInodes: a /proc/net/tcp table read for one port', () => {
  it('finds the listening socket, not the connections on the same port', () => {
    assert.deepEqual(listeningInodes(TCP, 8000), ['41731']);
    assert.deepEqual(listeningInodes(TCP, 53956), [], 'the client side of a connection is not a listener');
  });

  it('reads IPv6 addresses, and finds nothing on a port nobody listens on', () => {
    assert.deepEqual(listeningInodes(TCP6, 30000), ['52210']);
    assert.deepEqual(listeningInodes(TCP6, 8000), []);
    assert.deepEqual(listeningInodes('', 8000), []);
  });
});

describe('portHolder', { skip: process.platform !== 'linux' ? 'reads Linux /proc' : false }, () => {
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));
  const listen = async (host: string): Promise<number> => {
    const s = createServer();
    servers.push(s);
    s.listen(0, host);
    await once(s, 'listening');
    return (s.address() as { port: number }).port;
  };

  it('says "them" when one of the pids listens on the port, on IPv4 or IPv6', async () => {
    assert.equal(portHolder(await listen('127.0.0.1'), [process.pid]), 'them');
    assert.equal(portHolder(await listen('::1'), [process.pid]), 'them');
  });

  it('says "other" when another process listens on it', async () => {
    const port = await listen('127.0.0.1');
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      assert.equal(portHolder(port, [child.pid!]), 'other');
    } finally {
      child.kill();
    }
  });

  it('says "none" when nothing listens on it', async () => {
    const s = createServer().listen(0, '127.0.0.1');
    await once(s, 'listening');
    const port = (s.address() as { port: number }).port;
    await new Promise((r) => s.close(r));
    assert.equal(portHolder(port, [process.pid]), 'none');
  });
});
