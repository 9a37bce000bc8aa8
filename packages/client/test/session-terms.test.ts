/**
 * A session's terms are the proposer's signed proposal, never the relay's word: termsFromStatus
 * refuses (BAD_RESPONSE) a proposal that does not open under an enrolled key, one signed by a lab
 * outside the session, one for another session, and one naming a lab that is not enrolled.
 * Its deadlines are computed from the signed proposal. summaryOf names the labs.
 */
import { generateSigningKeyPair, keyId, toHex } from '@overlap/crypto';
import { type CborValue, type SessionStatus, sealEnvelope } from '@overlap/protocol';
import { describe, expect, test } from 'vitest';
import { type Member, summaryOf, termsFromStatus } from '../src/session-terms.js';

const SESSION = new Uint8Array(16).fill(3);
const SESSION_HEX = toHex(SESSION);

function lab(name: string) {
  const pair = generateSigningKeyPair();
  const member: Member = {
    keyId: keyId(pair.publicKey),
    lab: name,
    name,
    signingKey: pair.publicKey,
    revoked: false,
    validUntil: Date.now() + 1e9,
  };
  return { member, secretKey: pair.secretKey };
}

const north = lab('north');
const south = lab('south');
const outsider = lab('outsider');
const members = new Map([north, south, outsider].map((l) => [l.member.keyId, l.member]));

function status(
  signer: { member: Member; secretKey: Uint8Array },
  labs: string[],
  session = SESSION,
  deadlines: { deadline?: number; joinBy?: number } = { deadline: 5_000 },
): SessionStatus {
  const proposal = { labs, kinds: ['email'], policy: { kind: 'count' }, maxItemsPerKind: 10, ...deadlines };
  const envelope = sealEnvelope(
    { type: 'session_proposal', session, seq: 0, created: 1, payload: proposal as CborValue },
    { keyId: signer.member.keyId, secretKey: signer.secretKey },
  );
  return {
    session: SESSION,
    proposal: 4,
    proposal_envelope: envelope.bytes,
    labs,
    joined: [south.member.keyId],
    state: 'joining',
    deadline: 5_000,
    waiting_on: [north.member.keyId],
  };
}

const both = [north.member.keyId, south.member.keyId];

describe('termsFromStatus', () => {
  test('a proposal signed by one of its labs: its terms', () => {
    const terms = termsFromStatus(SESSION_HEX, status(north, both), members);
    expect(terms).toMatchObject({
      session: SESSION_HEX,
      proposer: north.member.keyId,
      kinds: ['email'],
      policy: { kind: 'count' },
      proofs: 'spot',
      chunkSize: 65_536,
    });
    expect(terms.labs.map((m) => m.lab)).toEqual(['north', 'south']);
  });

  test.each([
    ['signed by a key that is not enrolled', () => status(lab('stranger'), both)],
    ['signed by an enrolled lab outside the session', () => status(outsider, both)],
    ['for another session', () => status(north, both, new Uint8Array(16).fill(9))],
    ['naming a lab that is not enrolled', () => status(north, [north.member.keyId, lab('ghost').member.keyId])],
    [
      'with its signature broken',
      () => {
        const s = status(north, both);
        const bytes = Uint8Array.from(s.proposal_envelope);
        bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
        return { ...s, proposal_envelope: bytes };
      },
    ],
  ])('a proposal %s is BAD_RESPONSE', (_, make) => {
    expect(() => termsFromStatus(SESSION_HEX, make(), members)).toThrow(
      expect.objectContaining({ name: 'ClientError', code: 'BAD_RESPONSE' }),
    );
  });

  test('the deadlines are the signed proposal’s (or the protocol defaults after its created), not the relay’s word', () => {
    const lying = { ...status(north, both, SESSION, { joinBy: 700 }), deadline: 9_999_999, join_by: 9_999_999 };
    expect(termsFromStatus(SESSION_HEX, lying, members)).toMatchObject({ joinBy: 700, deadline: 1 + 86_400_000 });
    const none = { ...status(north, both, SESSION, {}), deadline: 9_999_999 };
    expect(termsFromStatus(SESSION_HEX, none, members)).toMatchObject({
      joinBy: 1 + 3_600_000,
      deadline: 1 + 86_400_000,
    });
  });

  test('the status of another session than asked is BAD_RESPONSE', () => {
    expect(() => termsFromStatus('ff'.repeat(16), status(north, both), members)).toThrow(
      expect.objectContaining({ code: 'BAD_RESPONSE' }),
    );
  });
});

describe('summaryOf', () => {
  test('labs, proposer, joined and waiting_on by name', () => {
    const terms = termsFromStatus(SESSION_HEX, status(north, both), members);
    expect(summaryOf(terms, members)).toEqual({
      session: SESSION_HEX,
      state: 'joining',
      proposer: 'north',
      labs: ['north', 'south'],
      kinds: ['email'],
      policy: { kind: 'count' },
      joinBy: 5_000,
      deadline: 5_000,
      joined: ['south'],
      waiting_on: ['north'],
    });
  });
});
