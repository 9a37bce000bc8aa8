/**
 * The tamper suite: from the transcript of a real session (relay on loopback, three labs through
 * the SDK), each kind of tampering — by anyone who can change bytes, and by a relay, lab or admin
 * that signs again what it changed — must make `overlap audit verify` fail, caught by the named
 * check (the first check of the report that fails). The untouched transcript must pass, and its
 * results must be what the labs learned.
 */
import { fc, test as fcTest } from '@fast-check/vitest';
import { verifyTranscript } from '@overlap/cli';
import { type CborValue, openEnvelope, sealEnvelope } from '@overlap/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type AuditSession, runAuditSession } from './support/audit-session.js';
import {
  decodeTranscript,
  encodeTranscript,
  flipInPart,
  type MutableTranscript,
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
/** Index in t.envelopes of the first envelope matching. */
const find = (t: MutableTranscript, match: (h: ReturnType<typeof typeOf>, payload: unknown) => boolean) =>
  t.envelopes.findIndex((e) => {
    const opened = openEnvelope(e.envelope, keyOf);
    return match(opened.header, opened.payload);
  });

function audit(t: MutableTranscript | Uint8Array) {
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
  expect(report.failed).toBe('admin key');
});

describe('each kind of tampering is caught by its check', () => {
  const cases: [string, string, () => MutableTranscript | Uint8Array][] = [
    [
      'a byte of an envelope header',
      'signatures',
      () => {
        const t = decodeTranscript(s.transcript);
        const e = t.envelopes[3] as MutableTranscript['envelopes'][number];
        e.envelope = flipInPart(e.envelope, 'h');
        return t;
      },
    ],
    [
      'a byte of an envelope payload (a tag)',
      'signatures',
      () => {
        const t = decodeTranscript(s.transcript);
        const e = t.envelopes[find(t, (h) => h.type === 'tag_chunk')] as MutableTranscript['envelopes'][number];
        e.envelope = flipInPart(e.envelope, 'p');
        return t;
      },
    ],
    [
      'a byte of an envelope signature',
      'signatures',
      () => {
        const t = decodeTranscript(s.transcript);
        const e = t.envelopes[5] as MutableTranscript['envelopes'][number];
        e.envelope = flipInPart(e.envelope, 's');
        return t;
      },
    ],
    [
      "a lab's signature replaced by another lab's",
      'signatures',
      () => {
        const t = decodeTranscript(s.transcript);
        const e = t.envelopes[
          find(t, (h) => h.sender === lab('south').keyId)
        ] as MutableTranscript['envelopes'][number];
        e.envelope = signedByAnother(e.envelope, lab('east'));
        return t;
      },
    ],
    [
      'an envelope dropped',
      'sender chains',
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
      () => {
        const t = decodeTranscript(s.transcript);
        t.envelopes.splice(4, 0, structuredClone(t.envelopes[4] as MutableTranscript['envelopes'][number]));
        return t;
      },
    ],
    [
      'two envelopes reordered',
      'log order',
      () => {
        const t = decodeTranscript(s.transcript);
        const [a, b] = t.envelopes.splice(6, 2) as [
          MutableTranscript['envelopes'][number],
          MutableTranscript['envelopes'][number],
        ];
        t.envelopes.splice(6, 0, b, a);
        return t;
      },
    ],
    [
      'two receipts swapped',
      'receipts',
      () => {
        const t = decodeTranscript(s.transcript);
        const [a, b] = [t.envelopes[2], t.envelopes[7]] as [
          MutableTranscript['envelopes'][number],
          MutableTranscript['envelopes'][number],
        ];
        [a.receipt, b.receipt] = [b.receipt, a.receipt];
        return t;
      },
    ],
    [
      'a checkpoint forged (its root hash changed, the signature kept)',
      'checkpoints',
      () => {
        const t = decodeTranscript(s.transcript);
        const last = t.checkpoints.at(-1) as MutableTranscript['checkpoints'][number];
        const lines = last.note.split('\n');
        lines[2] = Buffer.from(new Uint8Array(32).fill(7)).toString('base64');
        last.note = lines.join('\n');
        return t;
      },
    ],
    [
      'a checkpoint rolled back (an older tree given as the latest)',
      'checkpoints',
      () => {
        const t = decodeTranscript(s.transcript);
        const first = t.checkpoints[0] as MutableTranscript['checkpoints'][number];
        const last = t.checkpoints.at(-1) as MutableTranscript['checkpoints'][number];
        t.checkpoints.push(structuredClone(first));
        t.consistency.push({ from: last.size, to: first.size, proof: [] });
        return t;
      },
    ],
    [
      'the log forked: the relay signs another tree of the same size',
      'checkpoints',
      () => {
        const t = decodeTranscript(s.transcript);
        const forged = relog(
          t,
          s.relayKeys,
          t.membership.map((m) => m.envelope),
          [
            ...t.envelopes.slice(0, -1).map((e) => e.envelope),
            (t.envelopes[0] as MutableTranscript['envelopes'][number]).envelope,
          ],
        );
        // Keep every receipt and checkpoint of the real log, and append the fork's as the latest.
        const last = t.checkpoints.at(-1) as MutableTranscript['checkpoints'][number];
        const fork = forged.checkpoints[0] as MutableTranscript['checkpoints'][number];
        t.checkpoints.push({ size: last.size + 1, note: fork.note });
        t.consistency.push({ from: last.size, to: last.size + 1, proof: [] });
        return t;
      },
    ],
    [
      "a result row changed, signed again by the relay's key in a log it rebuilt",
      'results',
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
      "a revoked lab's envelope: the admin's revocation logged before it",
      'signatures',
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
      () => {
        const t = decodeTranscript(s.transcript);
        t.session = new Uint8Array(16).fill(9);
        return t;
      },
    ],
    ['the file truncated', 'transcript', () => s.transcript.subarray(0, s.transcript.length - 100)],
    [
      'a field of the wrong shape',
      'transcript',
      () => {
        const t = decodeTranscript(s.transcript) as unknown as { envelopes: { index: unknown }[] };
        (t.envelopes[0] as { index: unknown }).index = 'first';
        return t as unknown as MutableTranscript;
      },
    ],
  ];

  test.each(cases)('%s → %s', (_label, check, tamper) => {
    const report = audit(tamper());
    expect(report.ok).toBe(false);
    expect(report.failed, JSON.stringify(report.checks.filter((c) => c.ok === false))).toBe(check);
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
