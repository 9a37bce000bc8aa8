/**
 * Connection caps, counted before any byte of a connection is read: `maxConnections` in all and
 * `maxConnectionsPerAddress` from one address (spec/relay-api.md §5). One address is an IPv4
 * address (an IPv4-mapped IPv6 one counts as its IPv4), or an IPv6 /64: the allotment one
 * subscriber or host usually has, so that a client cannot multiply its share by rotating through
 * the 2^64 addresses of its own prefix.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { encodeDeterministic } from '@overlap/protocol';
import ipaddr from 'ipaddr.js';
import type { RelayLimits } from '../limits.js';

/** The key a connection from `remote` is counted under: `198.51.100.7`, or `2001:db8:1:2::/64`. */
export function addressKey(remote: string | undefined): string {
  if (remote === undefined || !ipaddr.isValid(remote)) return remote ?? '';
  const address = ipaddr.process(remote);
  if (address.kind() === 'ipv4') return address.toString();
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `${parts.join(':')}::/64`;
}

/**
 * Open connections at most `maxConnections` in all and `maxConnectionsPerAddress` from one address:
 * one more is answered `503 BUSY` with `Retry-After: 1` and closed (over TLS, closed: there is no
 * HTTP to answer in before the handshake), before any of it is read.
 */
export function capConnections(server: Server, limits: RelayLimits, tls: boolean): void {
  const perAddress = new Map<string, number>();
  let open = 0;
  const body = encodeDeterministic({
    error: { code: 'BUSY', message: 'the relay has as many connections open as it takes; connect again' },
  });
  const refusal = Buffer.concat([
    Buffer.from(
      `HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Type: application/cbor\r\nContent-Length: ${body.length}\r\n\r\n`,
      'latin1',
    ),
    body,
  ]);
  server.on('connection', (socket: Socket) => {
    const address = addressKey(socket.remoteAddress);
    const mine = (perAddress.get(address) ?? 0) + 1;
    perAddress.set(address, mine);
    open++;
    socket.once('close', () => {
      open--;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left === 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
    if (open <= limits.maxConnections && mine <= limits.maxConnectionsPerAddress) return;
    socket.pause();
    if (tls) socket.destroy();
    else socket.end(refusal);
  });
}
