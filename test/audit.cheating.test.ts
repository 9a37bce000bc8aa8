/**
 * A cheating lab in a real session — the relay on loopback, three labs through the SDK, one of
 * them running a cheating engine (the SDK's `createSession` seam; the cheats are
 * packages/audit/test/support/cheating-labs.ts) — is caught by the relay, which aborts naming it;
 * no lab gets results; and the audit of the exported transcript fails naming the same lab, by the
 * check of the rule it broke, agreeing with the relay's abort. `overlap audit verify` exits 1 and
 * says who cheated and how.
 *
 * Schedule of [north, south, east]: south is hop 1 of north's sets and the last hop of east's.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AuditCheckName, type AuditErrorCode, verifyTranscript } from '@overlap/audit';
import { type LabSession, type LabSessionOptions, openEnvelope, parseMessage, tagAt } from '@overlap/protocol';
import { describe, expect, test } from 'vitest';
import {
  blindingAs,
  inverseTag,
  mapTags,
  revealingAs,
  tagOutsideG,
  uploadingAs,
} from '../packages/audit/test/support/cheating-labs.js';
import { type AuditSession, runAuditSession } from './support/audit-session.js';
import { cli } from './support/run-cli.js';
import { runExample } from './support/run-example.js';
import { decodeTranscript } from './support/transcript-forge.js';

type Make = (options: LabSessionOptions) => LabSession;

/** [label, cheater, its engine, the check that catches it, its code]. */
const cases: [string, string, Make, AuditCheckName, AuditErrorCode][] = [
  [
    'identity: the inputs returned as they came',
    'south',
    blindingAs((_honest, task) => Uint8Array.from(task.tags)),
    'hop proofs',
    'HOP_PROOF_INVALID',
  ],
  [
    'copy one tag everywhere',
    'south',
    blindingAs((honest) => mapTags(honest, () => tagAt(honest, 0))),
    'distinctness',
    'TAGS_NOT_DISTINCT',
  ],
  [
    'u and 1/u in its own upload, to frame hop 1',
    'north',
    uploadingAs((chunk) => ({
      ...chunk,
      tags: mapTags(chunk.tags, (tag, i) => (i === 1 ? inverseTag(tagAt(chunk.tags, 0)) : tag)),
    })),
    'distinctness',
    'TAGS_NOT_DISTINCT',
  ],
  [
    'a twist point in its own upload',
    'north',
    uploadingAs((chunk) => ({ ...chunk, tags: mapTags(chunk.tags, (t, i) => (i === 0 ? tagOutsideG() : t)) })),
    'chosen inputs',
    'INPUT_NOT_IN_GROUP',
  ],
  [
    'u → 1/u at the last hop',
    'south',
    blindingAs(
      (honest) => mapTags(honest, inverseTag),
      (task) => task.hop === 2,
    ),
    'hop proofs',
    'OUTPUT_NOT_IN_GROUP',
  ],
  [
    'a coin that is not the one committed',
    'east',
    revealingAs(() => globalThis.crypto.getRandomValues(new Uint8Array(32))),
    'reveals',
    'REVEAL_MISMATCH',
  ],
];

/** The relay's abort in the transcript: its culprit. */
function relayAbortCulprit(s: AuditSession): string | undefined {
  const t = decodeTranscript(s.transcript);
  const keyOf = (id: string) =>
    id === s.relayKeys.keyId
      ? s.relayKeys.signing.publicKey
      : s.labs.find((l) => l.keys.keyId === id)?.keys.signing.publicKey;
  for (const e of t.envelopes) {
    const opened = openEnvelope(e.envelope, keyOf);
    if (opened.header.type === 'abort' && opened.header.sender === s.relayKeys.keyId) {
      return parseMessage('abort', opened.payload).culprit;
    }
  }
  return undefined;
}

describe('a cheating lab through the real relay and SDK', () => {
  test.each(cases)(
    '%s: the relay and the audit name it',
    async (_label, cheater, make, check, code) => {
      const s = await runAuditSession('count', { engines: { [cheater]: make } });
      try {
        const culprit = (s.labs.find((l) => l.name === cheater) as AuditSession['labs'][number]).keys.keyId;
        // Each lab learns of the abort, or is refused (SESSION_CLOSED) posting after it; none has results.
        expect(s.outcomes.length + s.failures.length).toBe(3);
        for (const outcome of s.outcomes) {
          expect(outcome.abortReason).toBeDefined();
          expect(outcome.results).toEqual([]);
        }
        for (const failure of s.failures) expect(failure.message).toMatch(/SESSION_CLOSED/);
        expect(relayAbortCulprit(s)).toBe(culprit);
        const report = verifyTranscript(s.transcript, { adminKey: s.admin.signing.publicKey });
        expect(report.checks.filter((c) => c.ok === false).map((c) => [c.name, c.code, c.culprit])).toEqual([
          [check, code, culprit],
        ]);
        expect(report).toMatchObject({ ok: false, failed: check, code, culprit, culpritName: cheater });
        expect(report.checks.find((c) => c.name === 'abort')).toMatchObject({ ok: true });
      } finally {
        await s.close();
      }
    },
    60_000,
  );
});

test('overlap audit verify on a cheated session: exit 1, the cheater named and what it did', async () => {
  const s = await runAuditSession('labs', {
    engines: { south: blindingAs((_honest, task) => Uint8Array.from(task.tags)) },
  });
  try {
    const file = join(s.dir, 'cheated.cbor');
    writeFileSync(file, s.transcript);
    const south = s.labs.find((l) => l.name === 'south')?.keys.keyId as string;
    const run = await cli('audit', 'verify', '--transcript', file);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/^ {2}FAIL hop proofs +log index \d+: .*does not verify/m);
    expect(run.out).toMatch(/^ {2}ok {3}abort +the relay's abort at log index \d+ names /m);
    expect(run.out).toContain(`At fault: lab south (key ${south}): `);
    const json = await cli('audit', 'verify', '--transcript', file, '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({
      ok: false,
      failed: 'hop proofs',
      culprit: south,
      culpritName: 'south',
    });

    // examples/audit-verify-proofs.ts: the round chunk by chunk, the same failure and culprit.
    const proofs = await runExample('audit-verify-proofs.ts', [file]);
    expect(proofs.code, proofs.err).toBe(1);
    expect(proofs.out).toMatch(/^north +email +1 +0 +south +\d+ +not proven$/m);
    expect(proofs.out).toMatch(/^FAIL hop proofs: HOP_PROOF_INVALID: .* \[at fault: south\]$/m);
  } finally {
    await s.close();
  }
}, 60_000);

test('examples/audit-verify-proofs.ts on a sound session: every chunk proven, exit 0', async () => {
  const s = await runAuditSession('labs');
  try {
    const file = join(s.dir, 'sound.cbor');
    writeFileSync(file, s.transcript);
    const run = await runExample('audit-verify-proofs.ts', [file]);
    expect(run.code, run.err).toBe(0);
    // 3 owners × 2 kinds × hops 1 and 2, one chunk each.
    expect(run.out.match(/ proven at log index \d+$/gm)).toHaveLength(12);
    expect(run.out).toMatch(/^ok {3}hop proofs: every one of the chunks/m);
  } finally {
    await s.close();
  }
}, 60_000);
