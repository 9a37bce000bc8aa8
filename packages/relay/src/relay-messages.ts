/**
 * Which session messages go which way through the relay's shell, and how the engine's messages to
 * labs become the relay's own envelopes (spec/relay-api.md §3). A lab posts join, tag_chunk,
 * blind_result, reveal, hop_proof and abort; the relay seals proof_request, challenge, result_rows
 * and abort under its key. A proof request, a challenge or an abort has the same body for every lab:
 * it is one envelope, with an inbox item for each recipient, so that every lab and the auditor see
 * the very bytes every other lab saw (a relay cannot tell two labs two different challenges).
 * Blind tasks are not sealed: their inbox item points at the source envelope (relay.ts).
 */
import type { MessageType, Outgoing } from '@overlap/protocol';
import type { InboxWrite } from './store/log-writer.js';

/** What a lab sends into a session (`POST /v1/sessions/{id}/envelopes`). */
export const LAB_SESSION_TYPES = ['join', 'tag_chunk', 'blind_result', 'reveal', 'hop_proof', 'abort'] as const;

/** What the relay itself seals into a session, each for the labs' inboxes. */
export const RELAY_SESSION_TYPES = ['proof_request', 'challenge', 'result_rows', 'abort'] as const;

type Broadcast = 'proof_request' | 'challenge' | 'abort';
const BROADCAST: readonly string[] = ['proof_request', 'challenge', 'abort'] satisfies Broadcast[];

/** One envelope for the relay to seal: its type, its body, and the inbox items that point at it. */
export interface RelayMessage {
  type: MessageType;
  body: unknown;
  inbox: InboxWrite[];
}

/**
 * The relay's envelopes for what the engine produced, in the engine's order: one per broadcast
 * type (where its first copy was), one per result_rows. Blind tasks are left out.
 */
export function relayMessages(outgoing: readonly Outgoing[]): RelayMessage[] {
  const messages: RelayMessage[] = [];
  const broadcasts = new Map<string, RelayMessage>();
  for (const { to, message } of outgoing) {
    if (BROADCAST.includes(message.type)) {
      const type = message.type as Broadcast;
      let one = broadcasts.get(type);
      if (one === undefined) {
        one = { type, body: message.body, inbox: [] };
        broadcasts.set(type, one);
        messages.push(one);
      }
      one.inbox.push({ lab: to, type });
    } else if (message.type === 'result_rows') {
      messages.push({ type: 'result_rows', body: message.body, inbox: [{ lab: to, type: 'result_rows' }] });
    }
  }
  return messages;
}
