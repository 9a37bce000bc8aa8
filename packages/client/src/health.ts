/**
 * Asks a relay whether it is up (`GET /healthz`, spec/relay-api.md §3), so a job can fail fast with
 * a clear reason: the network's (network-failure.ts), or the relay's status. One attempt, no
 * retries. The answer is JSON, checked against @overlap/protocol's `relayHealthSchema`.
 */
import { type RelayHealth, relayHealthSchema } from '@overlap/protocol';
import { ClientError } from './errors.js';
import { finalFailureError, networkFailureOf } from './network-failure.js';
import { parseRelayUrl } from './relay-url.js';

export async function checkRelayHealth(relayUrl: string, options: { signal?: AbortSignal } = {}): Promise<RelayHealth> {
  const base = parseRelayUrl(relayUrl);
  const target = `${base.href.replace(/\/$/, '')}/healthz`;
  let response: Response;
  try {
    response = await fetch(target, options.signal ? { signal: options.signal } : {});
  } catch (cause) {
    if (options.signal?.aborted) throw cause;
    const failure = networkFailureOf(cause);
    // A TLS mistake or a blocked port is said as the SDK says it everywhere (TLS_FAILED, BAD_RELAY_URL).
    if (failure.final) throw finalFailureError(base.href, 'GET /healthz', failure, cause);
    throw new ClientError('RELAY_UNREACHABLE', `cannot reach the relay at ${base.host}: ${failure.reason}`, { cause });
  }
  // The body comes from the relay: parse it defensively and check its shape before trusting it.
  const body: unknown = await response.json().catch(() => undefined);
  const health = relayHealthSchema.safeParse(body);
  if (response.status !== 200 || !health.success) {
    throw new ClientError('RELAY_UNHEALTHY', `relay at ${base.host} answered /healthz with HTTP ${response.status}`);
  }
  return health.data;
}
