/**
 * What a lab accepts from its inbox (inbox-message.ts), at the relay → lab trust boundary: the proof
 * request and the challenge, like result rows and aborts, must be envelopes of this very session
 * signed by the relay's key and of the item's type. A relay (or anyone who can write its inbox)
 * that hands a lab a challenge of its own making under another signer, another session's challenge,
 * a proof request labelled as a challenge, or bytes that do not open is refused with a reason.
 */
import { randomBytes } from 'node:crypto';
import { generateSigningKeyPair, keyId } from '@overlap/crypto';
import { type CborValue, type InboxItem, type MessageType, sealEnvelope } from '@overlap/protocol';
import { describe, expect, test } from 'vitest';
import { inboxMessage } from '../src/inbox-message.js';

const relay = generateSigningKeyPair();
const lab = generateSigningKeyPair();
const relayKeyId = keyId(relay.publicKey);
const labKeyId = keyId(lab.publicKey);
const sessionId = new Uint8Array(randomBytes(16));
const keys = new Map([
  [relayKeyId, relay.publicKey],
  [labKeyId, lab.publicKey],
]);
const context = { sessionId, publicKeyOf: (id: string) => keys.get(id), relayKeyId };

function item(
  type: InboxItem['type'],
  envelopeType: MessageType,
  payload: unknown,
  signer = relay,
  session = sessionId,
): InboxItem {
  const envelope = sealEnvelope(
    { type: envelopeType, session, seq: 0, created: Date.now(), payload: payload as CborValue },
    { keyId: keyId(signer.publicKey), secretKey: signer.secretKey },
  );
  return { n: 7, type, index: 42, envelope: envelope.bytes };
}

const challenge = { coins: [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)] };

describe('the proof round items a lab accepts', () => {
  test('a proof request and a challenge of this session, signed by the relay', () => {
    expect(inboxMessage(item('proof_request', 'proof_request', { chunks: 4 }), context)).toEqual({
      type: 'proof_request',
      body: { chunks: 4 },
    });
    expect(inboxMessage(item('challenge', 'challenge', challenge), context)).toEqual({
      type: 'challenge',
      body: challenge,
    });
  });

  test.each([
    [
      'a challenge signed by a lab',
      () => item('challenge', 'challenge', challenge, lab),
      /where a challenge of the relay/,
    ],
    [
      'a challenge of another session',
      () => item('challenge', 'challenge', challenge, relay, new Uint8Array(randomBytes(16))),
      /another session/,
    ],
    [
      'a proof request handed out as a challenge',
      () => item('challenge', 'proof_request', { chunks: 1 }),
      /a proof_request/,
    ],
    ['a challenge with one coin', () => item('challenge', 'challenge', { coins: [new Uint8Array(32)] }), /coins/],
    [
      'a proof request with a field too many',
      () => item('proof_request', 'proof_request', { chunks: 1, x: 1 }),
      /inbox item 7/,
    ],
    [
      'bytes that do not open',
      () => ({ ...item('proof_request', 'proof_request', { chunks: 1 }), envelope: new Uint8Array(randomBytes(64)) }),
      /does not open/,
    ],
  ] as const)('refused: %s', (_, make, reason) => {
    const answer = inboxMessage(make(), context);
    expect(answer).toEqual({ refused: expect.stringMatching(reason) });
  });
});
