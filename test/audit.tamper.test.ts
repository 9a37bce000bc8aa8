/**
 * The tamper suite: from the transcript of a real session (relay on loopback, three labs through
 * the SDK), each kind of tampering — by anyone who can change bytes, and by a relay, lab or admin
 * that signs again what it changed — must make `overlap audit verify` fail, caught by the named
 * check (the first check of the report that fails). The untouched transcript must pass, and its
 * results must be what the labs learned.
 */
import { fc, test as fcTest } from '@fast-check/vitest';
import { AUDIT_CHECKS, type AuditCheckName, type AuditErrorCode, verifyTranscript } from '@overlap/audit';
import { type CborValue, openEnvelope, sealEnvelope, type Transcript } from '@overlap/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type AuditSession, runAuditSession } from './support/audit-session.js';
import {
  decodeTranscript,
  encodeTranscript,
  flipInPart,
  relog,
  resealChain,
  signedByAnother,
} from './support/transcript-forge.js';

let s: AuditSession;
beforeAll(async () => {
  s = await runAuditSession();
}, 60_000);
afterAll(async () => {
  await s?.close();
});

const keyOf = (id: string) => {
  if (id === s.relayKeys.keyId) return s.relayKeys.signing.publicKey;
  if (id === s.admin.keyId) return s.admin.signing.publicKey;
  return s.labs.find((lab) => lab.keys.keyId === id)?.keys.signing.publicKey;
};
const lab = (name: string) => (s.labs.find((l) => l.name === name) as AuditSession['labs'][number]).keys;
const typeOf = (bytes: Uint8Array) => openEnvelope(bytes, keyOf).header;
/** The transcript's last (largest) checkpoint. */
const latest = (t: Transcript) => t.checkpoints.at(-1) as Transcript['checkpoints'][number];
/** Index in t.envelopes of the first envelope matching. */
const find = (t: Transcript, match: (h: ReturnType<typeof typeOf>, payload: unknown) => boolean) =>
  t.envelopes.findIndex((e) => {
    const opened = openEnvelope(e.envelope, keyOf);
    return match(opened.header, opened.payload);
  });

function audit(t: Transcript | Uint8Array) {
  return verifyTranscript(t instanceof Uint8Array ? t : encodeTranscript(t));
}

test('the untouched transcript passes every check, and its results are what the labs learned', () => {
  const report = verifyTranscript(s.transcript, { adminKey: s.admin.signing.publicKey });
  expect(report.checks.map((c) => [c.name, c.ok])).toEqual(report.checks.map((c) => [c.name, true]));
  expect(report.ok).toBe(true);
  const shared = s.outcomes.reduce((n, o) => n + o.results.length, 0);
  expect(report.checks.find((c) => c.name === 'results')?.detail).toMatch(
    new RegExp(`^${shared.toLocaleString('en-US')} rows`),
  );
  // A decode and re-encode gives the same bytes: the forgeries below change only what they mean to.
  expect(Buffer.from(encodeTranscript(decodeTranscript(s.transcript))).equals(Buffer.from(s.transcript))).toBe(true);
});

test('a pinned admin key that is not the transcript’s fails the admin key check', () => {
  const report = verifyTranscript(s.transcript, { adminKey: lab('north').signing.publicKey });
  expect([report.failed, report.code]).toEqual(['admin key', 'ADMIN_KEY_MISMATCH']);
});

test('a failure at one entry names its log index; a check that cannot run says NOT_CHECKED', () => {
  const t = decodeTranscript(s.transcript);
  const [dropped] = t.envelopes.splice(
    find(t, (h) => h.type === 'blind_result'),
    1,
  ) as [Transcript['envelopes'][number]];
  const sender = typeOf(dropped.envelope).sender;
  // The sender's next envelope after the gap is where its chain breaks.
  const next = t.envelopes.find((e) => e.index > dropped.index && typeOf(e.envelope).sender === sender);
  const chains = audit(t).checks.find((c) => c.name === 'sender chains');
  expect(chains).toMatchObject({ ok: false, code: 'CHAIN_BROKEN', index: next?.index });

  const unsigned = decodeTranscript(s.transcript);
  unsigned.envelopes.shift(); // the proposal: the session terms fail, no later check can run
  const report = audit(unsigned);
  const terms = report.checks.findIndex((c) => c.name === 'session terms');
  expect(report.checks[terms]).toMatchObject({ ok: false, code: 'PROPOSAL_INVALID' });
  expect(report.checks.slice(terms + 1).map((c) => [c.name, c.ok, c.code])).toEqual(
    AUDIT_CHECKS.slice(AUDIT_CHECKS.indexOf('session terms') + 1).map((name) => [name, undefined, 'NOT_CHECKED']),
  );
});

test('an unknown field anywhere in the transcript is refused: the audit is strict about it', () => {
  const t = decodeTranscript(s.transcript) as unknown as { envelopes: Record<string, unknown>[] };
  (t.envelopes[2] as Record<string, unknown>).note = 'trust me';
  const report = audit(t as unknown as Transcript);
  expect([report.failed, report.code]).toEqual(['transcript', 'TRANSCRIPT_MALFORMED']);
  expect(report.checks[0]?.detail).toContain('envelopes.2');
});

describe('an aborted session', () => {
  /** The session up to its first result rows, then an abort by north continuing its chain, in a log the relay rebuilt. */
  const aborted = (keepResults: boolean) => {
    const t = decodeTranscript(s.transcript);
    const firstRows = find(t, (h) => h.type === 'result_rows');
    const kept = (keepResults ? t.envelopes : t.envelopes.slice(0, firstRows)).map((e) => e.envelope);
    const north = lab('north');
    const last = kept.map((bytes) => openEnvelope(bytes, keyOf)).findLast((e) => e.header.sender === north.keyId);
    if (last === undefined) throw new Error('north sent nothing');
    const abort = sealEnvelope(
      {
        type: 'abort',
        session: last.header.session,
        seq: last.header.seq + 1,
        prev: last.hash,
        created: last.header.created + 1,
        payload: { reason: 'stopped by its operator' },
      },
      { keyId: north.keyId, secretKey: north.signing.secretKey },
    );
    return relog(
      t,
      s.relayKeys,
      t.membership.map((m) => m.envelope),
      [...kept, abort.bytes],
    );
  };

  test('passes as far as it went, with no results', () => {
    const report = audit(aborted(false));
    expect(report.checks.filter((c) => c.ok !== true)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'session terms')?.detail).toMatch(/aborted at log index \d+ by /);
    expect(report.checks.find((c) => c.name === 'results')?.detail).toBe('no results: the session was aborted');
  });

  test('with result rows fails the results check', () => {
    const report = audit(aborted(true));
    expect([report.failed, report.code]).toEqual(['results', 'RESULT_UNEXPECTED']);
  });
});

describe('each kind of tampering is caught by its check', () => {
  const cases: [string, AuditCheckName, AuditErrorCode, () => Transcript | Uint8Array][] = [
    [
      'a byte of an envelope header',
      'signatures',
      'SIGNATURE_INVALID',
      () => {
        const t = decodeTranscript(s.transcript);
        const e = t.envelopes[3] as Transcript['envelopes'][number];
        e.envelope = flipInPart(e.envelope, 'h');
        return t;
      },
    ],
    [
      'a byte of an envelope payload (a tag)',
      'signatures',
      'SIGNATURE_INVALID',
      () => {
        const t = decodeTranscript(s.transcript);
        const e = t.envelopes[find(t, (h) => h.type === 'tag_chunk')] as Transcript['envelopes'][number];
        e.envelope = flipInPart(e.envelope, 'p');
        return t;
      },
    ],
    [
      'a byte of an envelope signature',
      'signatures',
      'SIGNATURE_INVALID',
      () => {
        const t = decodeTranscript(s.transcript);
        const e = t.envelopes[5] as Transcript['envelopes'][number];
        e.envelope = flipInPart(e.envelope, 's');
        return t;
      },
    ],
    [
      "a lab's signature replaced by another lab's",
      'signatures',
      'SIGNATURE_INVALID',
      () => {
        const t = decodeTranscript(s.transcript);
        const e = t.envelopes[find(t, (h) => h.sender === lab('south').keyId)] as Transcript['envelopes'][number];
        e.envelope = signedByAnother(e.envelope, lab('east'));
        return t;
      },
    ],
    [
      'an envelope dropped',
      'sender chains',
      'CHAIN_BROKEN',
      () => {
        const t = decodeTranscript(s.transcript);
        t.envelopes.splice(
          find(t, (h) => h.type === 'blind_result'),
          1,
        );
        return t;
      },
    ],
    [
      'an envelope duplicated',
      'log order',
      'ENTRY_DUPLICATED',
      () => {
        const t = decodeTranscript(s.transcript);
        t.envelopes.splice(4, 0, structuredClone(t.envelopes[4] as Transcript['envelopes'][number]));
        return t;
      },
    ],
    [
      'two envelopes reordered',
      'log order',
      'ENTRY_REORDERED',
      () => {
        const t = decodeTranscript(s.transcript);
        const [a, b] = t.envelopes.splice(6, 2) as [Transcript['envelopes'][number], Transcript['envelopes'][number]];
        t.envelopes.splice(6, 0, b, a);
        return t;
      },
    ],
    [
      'two receipts swapped',
      'receipts',
      'RECEIPT_INVALID',
      () => {
        const t = decodeTranscript(s.transcript);
        const [a, b] = [t.envelopes[2], t.envelopes[7]] as [
          Transcript['envelopes'][number],
          Transcript['envelopes'][number],
        ];
        [a.receipt, b.receipt] = [b.receipt, a.receipt];
        return t;
      },
    ],
    [
      'a checkpoint forged (its root hash changed, the signature kept)',
      'checkpoints',
      'CHECKPOINT_INVALID',
      () => {
        const t = decodeTranscript(s.transcript);
        const last = latest(t);
        const lines = last.note.split('\n');
        lines[2] = Buffer.from(new Uint8Array(32).fill(7)).toString('base64');
        last.note = lines.join('\n');
        return t;
      },
    ],
    [
      'a checkpoint rolled back (an older tree given as the latest)',
      'checkpoints',
      'CHECKPOINT_INCONSISTENT',
      () => {
        const t = decodeTranscript(s.transcript);
        const first = t.checkpoints[0] as Transcript['checkpoints'][number];
        const last = latest(t);
        t.checkpoints.push(structuredClone(first));
        t.consistency.push({ from: last.size, to: first.size, proof: [] });
        return t;
      },
    ],
    [
      'a checkpoint of another tree listed under a size it does not have',
      'checkpoints',
      'CHECKPOINT_INVALID',
      () => {
        const t = decodeTranscript(s.transcript);
        const forged = relog(
          t,
          s.relayKeys,
          t.membership.map((m) => m.envelope),
          [
            ...t.envelopes.slice(0, -1).map((e) => e.envelope),
            (t.envelopes[0] as Transcript['envelopes'][number]).envelope,
          ],
        );
        // Keep every receipt and checkpoint of the real log, and append the fork's as the latest.
        const last = latest(t);
        const fork = forged.checkpoints[0] as Transcript['checkpoints'][number];
        t.checkpoints.push({ size: last.size + 1, note: fork.note });
        t.consistency.push({ from: last.size, to: last.size + 1, proof: [] });
        return t;
      },
    ],
    [
      'the log forked: the relay signs a larger tree that does not extend the last one',
      'checkpoints',
      'CHECKPOINT_INCONSISTENT',
      () => {
        // Another history of one entry more than the last checkpoint's: the session's envelopes in
        // another order, padded or cut to that size.
        const t = decodeTranscript(s.transcript);
        const from = latest(t).size;
        const size = from + 1;
        const envelopes = t.envelopes.map((e) => e.envelope).reverse();
        while (t.membership.length + envelopes.length < size) envelopes.push(envelopes[0] as Uint8Array);
        envelopes.length = size - t.membership.length;
        const forged = relog(
          t,
          s.relayKeys,
          t.membership.map((m) => m.envelope),
          envelopes,
        );
        const fork = forged.checkpoints[0] as Transcript['checkpoints'][number];
        expect(fork.size).toBe(size);
        t.checkpoints.push(fork);
        t.consistency.push({ from, to: size, proof: [] });
        return t;
      },
    ],
    [
      "a result row changed, signed again by the relay's key in a log it rebuilt",
      'results',
      'RESULT_MISMATCH',
      () => {
        const t = decodeTranscript(s.transcript);
        const envelopes = resealChain(
          t.envelopes.map((e) => e.envelope),
          s.relayKeys,
          keyOf,
          (payload, header) => {
            const body = payload as { lab: string; kind: string; rows: { position: number; labs?: string[] }[] };
            if (header.type === 'result_rows' && body.kind === 'email' && body.lab === lab('north').keyId) {
              body.rows.pop(); // north is not told of one of its shared e-mails
            }
            return payload;
          },
        );
        return relog(
          t,
          s.relayKeys,
          t.membership.map((m) => m.envelope),
          envelopes,
        );
      },
    ],
    [
      'a hop skipped: a lab and the relay drop a blinding and sign the rest again',
      'hops',
      'HOP_INCOMPLETE',
      () => {
        const t = decodeTranscript(s.transcript);
        const south = lab('south');
        // south applies hop 1 to north's sets; drop one of those chunks and re-seal south's chain.
        const skipped = t.envelopes.filter((e) => {
          const opened = openEnvelope(e.envelope, keyOf);
          const body = opened.payload as { owner?: string; hop?: number };
          return !(opened.header.type === 'blind_result' && body.owner === lab('north').keyId && body.hop === 1);
        });
        expect(skipped.length).toBeLessThan(t.envelopes.length);
        const envelopes = resealChain(
          skipped.map((e) => e.envelope),
          south,
          keyOf,
        );
        return relog(
          t,
          s.relayKeys,
          t.membership.map((m) => m.envelope),
          envelopes,
        );
      },
    ],
    [
      "the relay's challenge with two coins swapped, signed again in a log it rebuilt",
      'challenge',
      'CHALLENGE_MISMATCH',
      () => {
        const t = decodeTranscript(s.transcript);
        const envelopes = resealChain(
          t.envelopes.map((e) => e.envelope),
          s.relayKeys,
          keyOf,
          (payload, header) => {
            if (header.type !== 'challenge') return payload;
            const { coins } = payload as { coins: Uint8Array[] };
            return { coins: [coins[1], coins[0], ...coins.slice(2)] } as CborValue;
          },
        );
        return relog(
          t,
          s.relayKeys,
          t.membership.map((m) => m.envelope),
          envelopes,
        );
      },
    ],
    [
      'a hop proof dropped by its lab, and the relay releasing the results anyway',
      'results',
      'RESULT_BEFORE_PROOFS',
      () => {
        const t = decodeTranscript(s.transcript);
        const east = lab('east');
        const dropped = find(t, (h) => h.type === 'hop_proof' && h.sender === east.keyId);
        const kept = t.envelopes.filter((_e, i) => i !== dropped).map((e) => e.envelope);
        return relog(
          t,
          s.relayKeys,
          t.membership.map((m) => m.envelope),
          resealChain(kept, east, keyOf),
        );
      },
    ],
    [
      'the proof request logged before the last blind result (the coins then no longer fix σ last)',
      'proof request',
      'PROOF_REQUEST_EARLY',
      () => {
        const t = decodeTranscript(s.transcript);
        const list = t.envelopes.map((e) => e.envelope);
        const request = find(t, (h) => h.type === 'proof_request');
        const last = list.findLastIndex((bytes) => typeOf(bytes).type === 'blind_result');
        const [moved] = list.splice(request, 1) as [Uint8Array];
        list.splice(last, 0, moved);
        return relog(
          t,
          s.relayKeys,
          t.membership.map((m) => m.envelope),
          list,
        );
      },
    ],
    [
      "a revoked lab's envelope: the admin's revocation logged before it",
      'signatures',
      'SIGNER_REVOKED',
      () => {
        const t = decodeTranscript(s.transcript);
        const membership = t.membership.map((m) => m.envelope);
        const last = openEnvelope(membership.at(-1) as Uint8Array, () => s.admin.signing.publicKey);
        const revocation = sealEnvelope(
          {
            type: 'revocation',
            session: new Uint8Array(16),
            seq: last.header.seq + 1,
            prev: last.hash,
            created: last.header.created + 1,
            payload: { key: lab('east').keyId, reason: 'compromised', effective: last.header.created + 1 } as CborValue,
          },
          { keyId: s.admin.keyId, secretKey: s.admin.signing.secretKey },
        );
        return relog(
          t,
          s.relayKeys,
          [...membership, revocation.bytes],
          t.envelopes.map((e) => e.envelope),
        );
      },
    ],
    [
      "an envelope of another session's",
      'signatures',
      'WRONG_SESSION',
      () => {
        const t = decodeTranscript(s.transcript);
        t.session = new Uint8Array(16).fill(9);
        return t;
      },
    ],
    [
      'the file truncated',
      'transcript',
      'TRANSCRIPT_MALFORMED',
      () => s.transcript.subarray(0, s.transcript.length - 100),
    ],
    [
      'a field of the wrong shape',
      'transcript',
      'TRANSCRIPT_MALFORMED',
      () => {
        const t = decodeTranscript(s.transcript) as unknown as { envelopes: { index: unknown }[] };
        (t.envelopes[0] as { index: unknown }).index = 'first';
        return t as unknown as Transcript;
      },
    ],
  ];

  test.each(cases)('%s → %s, %s', (_label, check, code, tamper) => {
    const report = audit(tamper());
    expect(report.ok).toBe(false);
    const failures = JSON.stringify(report.checks.filter((c) => c.ok === false));
    expect([report.failed, report.code], failures).toEqual([check, code]);
    expect(report.checks.find((c) => c.name === check)?.code).toBe(code);
  });

  test('the suite covers at least twelve kinds of tampering', () => {
    expect(cases.length).toBeGreaterThanOrEqual(12);
  });
});

fcTest.prop([fc.nat(), fc.integer({ min: 1, max: 255 })], { numRuns: 150 })(
  'any one byte of the file changed fails the audit',
  (where, mask) => {
    const bytes = Uint8Array.from(s.transcript);
    const at = where % bytes.length;
    bytes[at] = (bytes[at] as number) ^ mask;
    expect(audit(bytes).ok).toBe(false);
  },
);
