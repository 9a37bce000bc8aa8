/**
 * What a dishonest relay or lab can sign about the proof round (spec/protocol.md §5.2), forged on
 * the transcripts of real engine sessions: each party re-seals its own chain, and the relay logs
 * whatever list of envelopes it likes. Each forgery is caught by the check of the rule it breaks,
 * as the first check that fails, naming the party that signed it: the relay for the proof request,
 * the challenge, the release of results and its aborts; the lab for its reveals and proofs.
 */
import '@overlap/crypto/node';
import type { LabKeys } from '@overlap/crypto';
import { type CborValue, encodeTranscript, openEnvelope, type Transcript } from '@overlap/protocol';
import { beforeAll, describe, expect, test } from 'vitest';
import { type AuditCheckName, type AuditErrorCode, verifyTranscript } from '../src/index.js';
import { blindingAs, cheat, freshTag, revealingAs } from './support/cheating-labs.js';
import { type EngineSession, runEngineSession } from './support/engine-session.js';
import { appendToChain, relog, resealChain } from './support/transcript-forge.js';

const DEADLINE = 2_000_000_000_000;
let honest: EngineSession;
let identity: EngineSession;
let stalled: EngineSession;
beforeAll(async () => {
  honest = await runEngineSession();
  identity = await runEngineSession({
    createLab: cheat(
      'south',
      blindingAs((_h, task) => Uint8Array.from(task.tags)),
    ),
  });
  stalled = await runEngineSession({
    deadline: DEADLINE,
    createLab: cheat(
      'east',
      revealingAs(() => undefined),
    ),
  });
}, 60_000);

const envelopesOf = (t: Transcript) => t.envelopes.map((e) => e.envelope);
const typeOf = (s: EngineSession, bytes: Uint8Array) => openEnvelope(bytes, s.keyOf).header;
const keysOf = (s: EngineSession, name: string): LabKeys =>
  name === 'relay' ? s.relayKeys : (s.labs.find((l) => l.name === name) as { keys: LabKeys }).keys;
const positionOf = (s: EngineSession, list: Uint8Array[], match: (h: ReturnType<typeof typeOf>) => boolean) =>
  list.findIndex((bytes) => match(typeOf(s, bytes)));
const lastPositionOf = (s: EngineSession, list: Uint8Array[], match: (h: ReturnType<typeof typeOf>) => boolean) =>
  list.findLastIndex((bytes) => match(typeOf(s, bytes)));
/** The list with the envelope at `from` moved to just before position `to`. */
function moved(list: Uint8Array[], from: number, to: number): Uint8Array[] {
  const out = [...list];
  const [entry] = out.splice(from, 1) as [Uint8Array];
  out.splice(from < to ? to - 1 : to, 0, entry);
  return out;
}
/** `name` re-seals its chain in the session's envelopes after `change`. */
const resealed = (
  s: EngineSession,
  name: string,
  change: Parameters<typeof resealChain>[3],
  list = envelopesOf(s.transcript),
) => resealChain(list, keysOf(s, name), s.keyOf, change);
const logged = (s: EngineSession, list: Uint8Array[]) => relog(s.transcript, s, list);
const isType = (type: string) => (h: { type: string }) => h.type === type;
const by = (s: EngineSession, name: string, type: string) => (h: { type: string; sender: string }) =>
  h.type === type && h.sender === keysOf(s, name).keyId;

function audit(s: EngineSession, t: Transcript) {
  return verifyTranscript(encodeTranscript(t), { adminKey: s.admin.signing.publicKey });
}

type Forgery = [string, AuditCheckName, AuditErrorCode, string, () => [EngineSession, Transcript]];

const forgeries: Forgery[] = [
  [
    'the challenge carries two coins swapped',
    'challenge',
    'CHALLENGE_MISMATCH',
    'relay',
    () => [
      honest,
      logged(
        honest,
        resealed(honest, 'relay', (payload, e) => {
          if (e.header.type !== 'challenge') return payload;
          const { coins } = payload as { coins: Uint8Array[] };
          return { coins: [coins[1], coins[0], ...coins.slice(2)] } as CborValue;
        }),
      ),
    ],
  ],
  [
    'the challenge logged before the last reveal',
    'challenge',
    'CHALLENGE_EARLY',
    'relay',
    () => {
      const list = envelopesOf(honest.transcript);
      const challenge = positionOf(honest, list, isType('challenge'));
      return [honest, logged(honest, moved(list, challenge, lastPositionOf(honest, list, isType('reveal'))))];
    },
  ],
  [
    'a second challenge',
    'challenge',
    'CHALLENGE_REPEATED',
    'relay',
    () => [
      honest,
      logged(
        honest,
        resealed(honest, 'relay', (payload, e) => (e.header.type === 'challenge' ? [payload, payload] : payload)),
      ),
    ],
  ],
  [
    'the proof request logged before the last blind result',
    'proof request',
    'PROOF_REQUEST_EARLY',
    'relay',
    () => {
      const list = envelopesOf(honest.transcript);
      const request = positionOf(honest, list, isType('proof_request'));
      return [honest, logged(honest, moved(list, request, lastPositionOf(honest, list, isType('blind_result'))))];
    },
  ],
  [
    'the proof request for one chunk more',
    'proof request',
    'PROOF_REQUEST_COUNT',
    'relay',
    () => [
      honest,
      logged(
        honest,
        resealed(honest, 'relay', (payload, e) =>
          e.header.type === 'proof_request' ? { chunks: (payload as { chunks: number }).chunks + 1 } : payload,
        ),
      ),
    ],
  ],
  [
    'a second proof request',
    'proof request',
    'PROOF_REQUEST_REPEATED',
    'relay',
    () => [
      honest,
      logged(
        honest,
        resealed(honest, 'relay', (payload, e) => (e.header.type === 'proof_request' ? [payload, payload] : payload)),
      ),
    ],
  ],
  [
    'results released before the last hop proof',
    'results',
    'RESULT_BEFORE_PROOFS',
    'relay',
    () => {
      const list = envelopesOf(honest.transcript);
      const rows = positionOf(honest, list, isType('result_rows'));
      return [honest, logged(honest, moved(list, rows, lastPositionOf(honest, list, isType('hop_proof'))))];
    },
  ],
  [
    'results released though a hop proof never came (the lab and the relay drop it)',
    'results',
    'RESULT_BEFORE_PROOFS',
    'relay',
    () => {
      let dropped = false;
      const list = resealed(honest, 'east', (payload, e) => {
        if (e.header.type !== 'hop_proof' || dropped) return payload;
        dropped = true;
        return null;
      });
      return [honest, logged(honest, list)];
    },
  ],
  [
    'no results though every proof verified: the relay owes them',
    'results',
    'RESULT_MISSING',
    'relay',
    () => [
      honest,
      logged(
        honest,
        resealed(honest, 'relay', (payload, e) => (e.header.type === 'result_rows' ? null : payload)),
      ),
    ],
  ],
  [
    'a join whose coin commitment its lab changed and signed again: its reveal no longer opens it',
    'reveals',
    'REVEAL_MISMATCH',
    'north',
    () => [
      honest,
      logged(
        honest,
        resealed(honest, 'north', (payload, e) =>
          e.header.type === 'join' ? { ...(payload as object), coin: new Uint8Array(32).fill(3) } : payload,
        ),
      ),
    ],
  ],
  [
    'a last hop’s blind result changed and signed again by its lab: its digest, positions and proof no longer hold',
    'hop proofs',
    'HOP_PROOF_INVALID',
    'south',
    () => {
      const list = resealed(honest, 'south', (payload, e) => {
        const body = payload as { hop?: number; tags?: Uint8Array };
        if (e.header.type !== 'blind_result' || body.hop !== 2) return payload;
        const tags = Uint8Array.from(body.tags as Uint8Array);
        tags.set(freshTag(), 0);
        return { ...body, tags } as CborValue;
      });
      return [honest, logged(honest, list)];
    },
  ],
  [
    'a reveal sent twice',
    'reveals',
    'REVEAL_REPEATED',
    'north',
    () => [
      honest,
      logged(
        honest,
        resealed(honest, 'north', (payload, e) => (e.header.type === 'reveal' ? [payload, payload] : payload)),
      ),
    ],
  ],
  [
    'a reveal logged before the proof request',
    'reveals',
    'REVEAL_EARLY',
    'south',
    () => {
      const list = envelopesOf(honest.transcript);
      const reveal = positionOf(honest, list, by(honest, 'south', 'reveal'));
      return [honest, logged(honest, moved(list, reveal, positionOf(honest, list, isType('proof_request'))))];
    },
  ],
  [
    'a hop proof logged before the challenge',
    'hop proofs',
    'HOP_PROOF_EARLY',
    'south',
    () => {
      const list = envelopesOf(honest.transcript);
      const proof = positionOf(honest, list, by(honest, 'south', 'hop_proof'));
      return [honest, logged(honest, moved(list, proof, positionOf(honest, list, isType('challenge'))))];
    },
  ],
  [
    'a hop proof for a chunk its sender did not answer',
    'hop proofs',
    'HOP_PROOF_MISPLACED',
    'south',
    () => {
      let done = false;
      const list = resealed(honest, 'south', (payload, e) => {
        if (e.header.type !== 'hop_proof' || done) return payload;
        done = true;
        const body = payload as { hop: number };
        return { ...body, hop: body.hop === 1 ? 2 : 1 } as CborValue;
      });
      return [honest, logged(honest, list)];
    },
  ],
  [
    'a hop proof sent twice',
    'hop proofs',
    'HOP_PROOF_REPEATED',
    'east',
    () => {
      const list = envelopesOf(honest.transcript);
      const last = lastPositionOf(honest, list, by(honest, 'east', 'hop_proof'));
      const again = resealed(honest, 'east', (payload, e) => (e.bytes === list[last] ? [payload, payload] : payload));
      return [honest, logged(honest, again)];
    },
  ],
  [
    'a hop proof with one byte changed, signed again by its lab',
    'hop proofs',
    'HOP_PROOF_INVALID',
    'east',
    () => {
      let done = false;
      const list = resealed(honest, 'east', (payload, e) => {
        if (e.header.type !== 'hop_proof' || done) return payload;
        done = true;
        const body = payload as { proof: Uint8Array };
        const proof = Uint8Array.from(body.proof);
        proof[40] = (proof[40] as number) ^ 1;
        return { ...body, proof } as CborValue;
      });
      return [honest, logged(honest, list)];
    },
  ],
];

describe('each forgery is caught by its check, naming who signed it', () => {
  test.each(forgeries)('%s → %s, %s, culprit %s', (_label, check, code, culprit, forge) => {
    const [s, t] = forge();
    const report = audit(s, t);
    const failures = JSON.stringify(report.checks.filter((c) => c.ok === false));
    expect([report.failed, report.code], failures).toEqual([check, code]);
    expect(report.culprit).toBe(keysOf(s, culprit).keyId);
    expect(report.culpritName).toBe(culprit === 'relay' ? 'the relay' : culprit);
  });
});

/** The session up to its proof request, then `after` (each a [sender, payload] sealed at the end of its chain). */
function cutAfterRequest(s: EngineSession, after: [string, CborValue][]): Transcript {
  const list = envelopesOf(s.transcript);
  const kept = list.slice(0, positionOf(s, list, isType('proof_request')) + 1);
  for (const [name, payload] of after)
    kept.push(appendToChain(kept, keysOf(s, name), s.keyOf, 'abort', payload, 1_500_000));
  return logged(s, kept);
}

describe('the relay’s abort must name the culprit the audit finds', () => {
  test('a cheater’s session whose abort names an honest lab: the relay is at fault too', () => {
    const t = logged(
      identity,
      resealed(identity, 'relay', (payload, e) =>
        e.header.type === 'abort' ? { ...(payload as object), culprit: keysOf(identity, 'north').keyId } : payload,
      ),
    );
    const report = audit(identity, t);
    expect([report.failed, report.code, report.culprit]).toEqual([
      'hop proofs',
      'HOP_PROOF_INVALID',
      keysOf(identity, 'south').keyId,
    ]);
    expect(report.checks.find((c) => c.name === 'abort')).toMatchObject({
      ok: false,
      code: 'ABORT_CULPRIT_WRONG',
      culprit: identity.relayKeys.keyId,
    });
  });

  test('a cheater’s session whose abort names no one', () => {
    const t = logged(
      identity,
      resealed(identity, 'relay', (payload, e) =>
        e.header.type === 'abort' ? { reason: (payload as { reason: string }).reason } : payload,
      ),
    );
    expect(audit(identity, t).checks.find((c) => c.name === 'abort')?.code).toBe('ABORT_CULPRIT_WRONG');
  });

  test('a sound session aborted by the relay, which has no deadline: unfounded', () => {
    const report = audit(
      honest,
      cutAfterRequest(honest, [['relay', { reason: 'no', culprit: keysOf(honest, 'east').keyId }]]),
    );
    expect([report.failed, report.code, report.culprit]).toEqual(['abort', 'ABORT_UNFOUNDED', honest.relayKeys.keyId]);
  });

  test('a deadline abort that names another lab than the one the session waited on', () => {
    const t = logged(
      stalled,
      resealed(stalled, 'relay', (payload, e) =>
        e.header.type === 'abort' ? { ...(payload as object), culprit: keysOf(stalled, 'north').keyId } : payload,
      ),
    );
    const report = audit(stalled, t);
    expect([report.failed, report.code, report.culprit]).toEqual([
      'abort',
      'ABORT_CULPRIT_WRONG',
      stalled.relayKeys.keyId,
    ]);
    expect(report.checks.find((c) => c.name === 'abort')?.detail).toMatch(/waiting on .* \(the reveal of its coin\)/);
  });

  test('a “deadline” abort dated before the deadline: unfounded', () => {
    const list = envelopesOf(stalled.transcript);
    const at = positionOf(stalled, list, isType('abort'));
    const opened = openEnvelope(list[at] as Uint8Array, stalled.keyOf);
    const early = appendToChain(
      list.slice(0, at),
      stalled.relayKeys,
      stalled.keyOf,
      'abort',
      opened.payload,
      DEADLINE - 1,
    );
    const report = audit(stalled, logged(stalled, [...list.slice(0, at), early]));
    expect([report.failed, report.code]).toEqual(['abort', 'ABORT_UNFOUNDED']);
  });

  test('a lab may end a sound session: the audit passes, naming it as the one that ended it', () => {
    const north = keysOf(honest, 'north').keyId;
    const t = cutAfterRequest(honest, [
      ['north', { reason: 'stopped by its operator' }],
      ['relay', { reason: `${north} aborted: stopped by its operator` }],
    ]);
    const report = audit(honest, t);
    expect(report.checks.filter((c) => c.ok !== true)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'abort')?.detail).toMatch(new RegExp(`by ${north}.*no fault`));
  });

  test('a lab ends a sound session and the relay’s abort blames another', () => {
    const north = keysOf(honest, 'north').keyId;
    const t = cutAfterRequest(honest, [
      ['north', { reason: 'stopped by its operator' }],
      ['relay', { reason: `${north} aborted`, culprit: keysOf(honest, 'south').keyId }],
    ]);
    expect(audit(honest, t)).toMatchObject({ failed: 'abort', code: 'ABORT_CULPRIT_WRONG' });
  });
});

test('a session stopped before its last proof waits on that lab: SESSION_INCOMPLETE names it', () => {
  const list = envelopesOf(honest.transcript);
  const last = lastPositionOf(honest, list, isType('hop_proof'));
  const prover = typeOf(honest, list[last] as Uint8Array).sender;
  const report = audit(honest, logged(honest, list.slice(0, last)));
  expect([report.failed, report.code, report.culprit]).toEqual(['results', 'SESSION_INCOMPLETE', prover]);
});
