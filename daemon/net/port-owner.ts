// Whether the process listening on a TCP port is a given engine, from Linux
// /proc. A readiness probe only sees that something answers on the engine's
// port: the port was free when Berth picked it, but another program can bind
// it before the engine does (SGLang binds only after its model has loaded,
// minutes later), and its answers must not make the engine "ready", or users'
// prompts would go to that program.
//
// Linux only, like state/proc.ts: elsewhere the answer is null (cannot tell).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { groupMembers } from '../state/proc.js';

const HAS_PROC = process.platform === 'linux';
/** `st` of a listening socket in /proc/net/tcp (TCP_LISTEN). */
const LISTEN = '0A';

/**
 * The inodes of the sockets listening on `port` in a /proc/net/tcp or
 * /proc/net/tcp6 table: a header line, then one socket a line,
 * `sl local_address rem_address st ... uid timeout inode`, with the local
 * address as hex `ADDRESS:PORT`.
 */
export function listeningInodes(table: string, port: number): string[] {
  const out: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== LISTEN) continue;
    const local = f[1]!;
    if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && f[9] !== '0') out.push(f[9]!);
  }
  return out;
}

/** The socket inodes among `pid`'s open files (`socket:[123]` links); none when it is gone or not ours to read. */
function socketInodes(pid: number): string[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const fd of fds) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (link.startsWith('socket:[')) out.push(link.slice(8, -1));
    } catch {
      // Closed since the listing.
    }
  }
  return out;
}

export type PortHolder =
  /** One of `pids` listens on the port. */
  | 'them'
  /** Something listens on it, none of `pids`. */
  | 'other'
  /** Nothing listens on it. */
  | 'none';

/** Who listens on TCP `port` (IPv4 or IPv6) in this network namespace; null where /proc cannot say. */
export function portHolder(port: number, pids: readonly number[]): PortHolder | null {
  if (!HAS_PROC) return null;
  const listening = new Set<string>();
  let read = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6 on this host
    }
    read++;
    for (const inode of listeningInodes(text, port)) listening.add(inode);
  }
  if (read === 0) return null;
  if (listening.size === 0) return 'none';
  for (const pid of pids) for (const inode of socketInodes(pid)) if (listening.has(inode)) return 'them';
  return 'other';
}

/**
 * Whether a process outside the group led by `leader` listens on `port`;
 * false where /proc cannot tell or nothing listens. The leader is asked
 * first (both engines serve HTTP from their main process), so /proc is
 * scanned for the rest of the group only when the leader is not the listener.
 */
export function heldByAnother(port: number, leader: number): boolean {
  return portHolder(port, [leader]) === 'other' && portHolder(port, groupMembers(leader)) === 'other';
}
