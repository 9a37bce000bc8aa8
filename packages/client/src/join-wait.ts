/**
 * Waiting for a proposed session's labs to join (`overlap session create --wait`, an embedding
 * proposer): until every lab has joined, or the session ends first — a lab (or its agent)
 * declined it with an abort before joining, its join deadline passed. The proposer hears a
 * decline at once, with the lab's reason, instead of at the join deadline.
 *
 * Each round reads the session's status, then waits on the proposer's inbox (the relay's long
 * poll, spec/relay-api.md §3): an abort is an inbox item, so it wakes the wait at once; a join is
 * not, so a round lasts at most `pollMs` (default 1 s) while labs are still joining.
 *
 * What this reports is the relay's word on the session's state (the status is not a log entry):
 * it tells a proposer whether to wait further, not what to act on — results and aborts a lab acts
 * on are proven entries (lab-runner.ts).
 */
import type { RelayClient } from './relay-client.js';

export type JoinWait =
  | { state: 'joined'; joined: string[] }
  | { state: 'ended'; how: 'aborted' | 'done'; reason?: string; joined: string[]; waitingOn: string[] };

export async function waitForJoins(
  relay: RelayClient,
  session: string,
  options: { signal?: AbortSignal; pollMs?: number; onJoined?: (joined: readonly string[]) => void } = {},
): Promise<JoinWait> {
  let seen = -1;
  // Items already in the inbox are not asked for again: each round's long poll waits for a new one.
  let after = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const status = await relay.sessionStatus(session);
    if (status.joined.length !== seen) {
      seen = status.joined.length;
      options.onJoined?.(status.joined);
    }
    if (status.state === 'aborted' || status.state === 'done') {
      return {
        state: 'ended',
        how: status.state,
        ...(status.abort !== undefined && { reason: status.abort.reason }),
        joined: status.joined,
        waitingOn: status.waiting_on,
      };
    }
    if (status.state !== 'joining') return { state: 'joined', joined: status.joined };
    const inbox = await relay.inbox(session, after, options.pollMs ?? 1_000);
    for (const item of inbox.items) after = Math.max(after, item.n + 1);
  }
}
