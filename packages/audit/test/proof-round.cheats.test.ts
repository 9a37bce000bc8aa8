/**
 * The attacks of a cheating lab (spec/protocol.md §5.1–5.3), each carried out by a LabSession
 * subclass in a session run by the real engines and logged as the relay's shell logs it: the
 * relay engine aborts naming the cheater, and the audit of the transcript fails — caught by the
 * check of that rule and by no other — naming the same lab, while agreeing with the relay's abort.
 * An honest session passes every check.
 *
 * Schedule of [north, south, east]: north's sets go north → south → east, south's south → east →
 * north, east's east → north → south. So south is hop 1 of north's sets and the last hop of east's.
 * Sets are small (one chunk each, under 135 tags), so `spot` proves every position: deterministic.
 */
import '@overlap/crypto/node';
import { BlindingKey, fromHex, keyCommitment } from '@overlap/crypto';
import { type BlindTask, LabSession, tagAt, tagCount } from '@overlap/protocol';
import { describe, expect, test } from 'vitest';
import { type AuditCheckName, type AuditErrorCode, verifyTranscript } from '../src/index.js';
import {
  blindingAs,
  cheat,
  committingAs,
  freshTag,
  inverseTag,
  mapTags,
  provingAs,
  revealingAs,
  tagOutsideG,
  uploadingAs,
} from './support/cheating-labs.js';
import { type EngineSession, type EngineSessionOptions, runEngineSession } from './support/engine-session.js';

/** −B: B's encoding with the sign bit of x set (spec/ciphersuite.md §10). */
const NEGATED_BASE_POINT = fromHex(`58${'66'.repeat(30)}e6`);
const DEADLINE = 2_000_000_000_000;

function audit(s: EngineSession) {
  return verifyTranscript(s.bytes, { adminKey: s.admin.signing.publicKey });
}

const failing = (report: ReturnType<typeof audit>) =>
  report.checks.filter((c) => c.ok === false).map((c) => [c.name, c.code, c.culprit]);

test('an honest session passes every check, and its results are what the labs learned', async () => {
  const s = await runEngineSession();
  const report = audit(s);
  expect(failing(report)).toEqual([]);
  expect(report.ok).toBe(true);
  expect(s.relay.state).toBe('done');
  const shared = s.labs.reduce((n, l) => n + [...l.engine.results.values()].flat().length, 0);
  expect(report.checks.find((c) => c.name === 'results')?.detail).toMatch(new RegExp(`^${shared} rows`));
});

/** South's tasks at hop 1: north's sets. */
const onNorthsSet = (task: BlindTask) => task.hop === 1;

/** [label, cheater, how it cheats, the check that catches it, its code, extra session options]. */
const cases: [string, string, ReturnType<typeof cheat>, AuditCheckName, AuditErrorCode, EngineSessionOptions?][] = [
  [
    'identity: the inputs returned as they came',
    'south',
    cheat(
      'south',
      blindingAs((_honest, task) => Uint8Array.from(task.tags)),
    ),
    'hop proofs',
    'HOP_PROOF_INVALID',
  ],
  [
    'copy one tag everywhere: a duplicate at its hop, blamed on it',
    'south',
    cheat(
      'south',
      blindingAs((honest) => mapTags(honest, () => tagAt(honest, 0))),
    ),
    'distinctness',
    'TAGS_NOT_DISTINCT',
  ],
  [
    'u and 1/u in its own upload: the duplicate at hop 1 is blamed on the owner, not on the honest hop',
    'north',
    cheat(
      'north',
      uploadingAs((chunk) => ({
        ...chunk,
        tags: mapTags(chunk.tags, (tag, i) => (i === 1 ? inverseTag(tagAt(chunk.tags, 0)) : tag)),
      })),
    ),
    'distinctness',
    'TAGS_NOT_DISTINCT',
  ],
  [
    'random strings at a middle hop: outside G, named as the producer of the next hop’s inputs',
    'south',
    cheat(
      'south',
      blindingAs((honest) => mapTags(honest, () => tagOutsideG()), onNorthsSet),
    ),
    'chosen inputs',
    'INPUT_NOT_IN_GROUP',
  ],
  [
    'a twist point in its own upload: the owner named at the challenge',
    'north',
    cheat(
      'north',
      uploadingAs((chunk) => ({ ...chunk, tags: mapTags(chunk.tags, (t, i) => (i === 2 ? tagOutsideG() : t)) })),
    ),
    'chosen inputs',
    'INPUT_NOT_IN_GROUP',
  ],
  [
    'random strings at the last hop: an output outside G',
    'south',
    cheat(
      'south',
      blindingAs(
        (honest) => mapTags(honest, () => tagOutsideG()),
        (task) => task.hop === 2,
      ),
    ),
    'hop proofs',
    'OUTPUT_NOT_IN_GROUP',
  ],
  [
    'nullify the last hop: fresh points of G instead of the final tags',
    'south',
    cheat(
      'south',
      blindingAs(
        (honest) => mapTags(honest, () => freshTag()),
        (task) => task.hop === 2,
      ),
    ),
    'hop proofs',
    'HOP_PROOF_INVALID',
  ],
  [
    'u → 1/u at the last hop (what a cofactored check would accept)',
    'south',
    cheat(
      'south',
      blindingAs(
        (honest) => mapTags(honest, inverseTag),
        (task) => task.hop === 2,
      ),
    ),
    'hop proofs',
    'OUTPUT_NOT_IN_GROUP',
  ],
  [
    'reorder within a chunk',
    'south',
    cheat(
      'south',
      blindingAs((honest) => mapTags(honest, (_t, i) => tagAt(honest, tagCount(honest) - 1 - i)), onNorthsSet),
    ),
    'hop proofs',
    'HOP_PROOF_INVALID',
  ],
  [
    'a proof from another session',
    'east',
    cheat(
      'east',
      provingAs((context, positions, inputs, honest) =>
        honest({ ...context, sessionId: new Uint8Array(16).fill(7) }, positions, inputs),
      ),
    ),
    'hop proofs',
    'HOP_PROOF_INVALID',
  ],
  [
    'a proof with a sign byte too many',
    'east',
    cheat(
      'east',
      provingAs((context, positions, inputs, honest) => {
        const proof = honest(context, positions, inputs);
        return { ...proof, signs: Uint8Array.of(...proof.signs, 0) };
      }),
    ),
    'hop proofs',
    'HOP_PROOF_MALFORMED',
  ],
  [
    'a wrong coin: the relay aborts naming the lab',
    'east',
    cheat(
      'east',
      revealingAs(() => globalThis.crypto.getRandomValues(new Uint8Array(32))),
    ),
    'reveals',
    'REVEAL_MISMATCH',
  ],
  [
    'a missing coin: the session waits on that lab, and the deadline names it',
    'east',
    cheat(
      'east',
      revealingAs(() => undefined),
    ),
    'abort',
    'DEADLINE_MISSED',
    { deadline: DEADLINE },
  ],
  [
    'K = −B, which the relay’s shell refuses: the lab never joins, and the deadline names it',
    'east',
    cheat(
      'east',
      committingAs((honest) => ({ ...honest, key: NEGATED_BASE_POINT })),
    ),
    'abort',
    'DEADLINE_MISSED',
    { deadline: DEADLINE },
  ],
  [
    'K = −B, given to the engine: the relay aborts naming the lab',
    'east',
    cheat(
      'east',
      committingAs((honest) => ({ ...honest, key: NEGATED_BASE_POINT })),
    ),
    'key commitments',
    'KEY_COMMITMENT_INVALID',
    { refuseViolations: false },
  ],
  [
    'an upload cut short of the chunk the proposal fixes, given to the engine',
    'north',
    cheat(
      'north',
      uploadingAs((chunk) => ({ ...chunk, tags: chunk.tags.subarray(0, chunk.tags.length - 32) })),
    ),
    'chunk cut',
    'CHUNK_CUT_INVALID',
    { refuseViolations: false },
  ],
];

describe('each attack is caught by its check, naming the cheater the relay named', () => {
  test.each(cases)('%s', async (_label, cheater, createLab, check, code, options = {}) => {
    const s = await runEngineSession({ ...options, createLab });
    const report = audit(s);
    const culprit = s.id(cheater);
    expect(s.relay.state).toBe('aborted');
    expect(s.relay.abortReason?.culprit).toBe(culprit);
    expect(failing(report)).toEqual([[check, code, culprit]]);
    expect(report).toMatchObject({ ok: false, failed: check, code, culprit, culpritName: cheater });
    if (check !== 'abort') expect(report.checks.find((c) => c.name === 'abort')?.detail).toMatch(/names/);
    for (const lab of s.labs) expect(lab.engine.results.size).toBe(0);
  });
});

test('a key commitment equal to another lab’s, given to the engine: the later joiner is named', async () => {
  const shared = BlindingKey.generate();
  const sameKey = committingAs((honest) => ({ ...honest, key: keyCommitment(shared) }));
  const s = await runEngineSession({
    refuseViolations: false,
    createLab: (options, name) => (name === 'south' ? new LabSession(options) : sameKey(options)),
  });
  const report = audit(s);
  expect(s.relay.abortReason?.culprit).toBe(s.id('east'));
  expect(failing(report)).toEqual([['key commitments', 'KEY_COMMITMENT_REPEATED', s.id('east')]]);
  shared.dispose();
});

describe('in full mode', () => {
  test('an honest session passes, every position of every chunk proven', async () => {
    const s = await runEngineSession({ proofs: 'full' });
    const report = audit(s);
    expect(failing(report)).toEqual([]);
    expect(report.checks.find((c) => c.name === 'chosen inputs')?.detail).toMatch(/positions \(full\)/);
  });

  test('identity is caught by the same check, naming the same lab', async () => {
    const s = await runEngineSession({
      proofs: 'full',
      createLab: cheat(
        'south',
        blindingAs((_honest, task) => Uint8Array.from(task.tags)),
      ),
    });
    expect(failing(audit(s))).toEqual([['hop proofs', 'HOP_PROOF_INVALID', s.id('south')]]);
  });
});
