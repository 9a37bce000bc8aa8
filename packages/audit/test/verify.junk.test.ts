/**
 * `verifyTranscript` on input that is not a session's transcript: junk bytes, CBOR of other
 * shapes, and an empty transcript of the right shape. It never throws and never passes; each
 * report names the check that caught it with a code of the closed union. (Real sessions and every
 * kind of tampering are in test/audit.tamper.test.ts.)
 */
import { fc, test as property } from '@fast-check/vitest';
import { generateSigningKeyPair, keyId } from '@overlap/crypto';
import { encodeDeterministic, encodeTranscript, type Transcript } from '@overlap/protocol';
import { describe, expect, test } from 'vitest';
import { AUDIT_CHECKS, AuditError, readTranscript, verifyTranscript } from '../src/index.js';

const logKey = generateSigningKeyPair().publicKey;
const empty: Transcript = {
  version: 1,
  relay: { origin: 'relay.test', log_key: logKey, relay_key_id: keyId(logKey), admin_key: new Uint8Array(32) },
  session: new Uint8Array(16),
  membership: [],
  envelopes: [],
  checkpoints: [],
  consistency: [],
};

describe.each([
  ['no bytes', new Uint8Array(0)],
  ['JSON', new TextEncoder().encode('{"version":1}')],
  ['a CBOR integer', encodeDeterministic(1)],
  ['an empty CBOR map', encodeDeterministic({})],
  ['a transcript with a trailing byte', Uint8Array.of(...encodeTranscript(empty), 0)],
])('%s', (_label, bytes) => {
  test('is TRANSCRIPT_MALFORMED, and no later check runs', () => {
    const report = verifyTranscript(bytes);
    expect(report).toMatchObject({ ok: false, failed: 'transcript', code: 'TRANSCRIPT_MALFORMED' });
    expect(report.checks).toHaveLength(1);
    expect(report.session).toBeUndefined();
    expect(() => readTranscript(bytes)).toThrow(AuditError);
    try {
      readTranscript(bytes);
    } catch (error) {
      expect((error as AuditError).code).toBe('TRANSCRIPT_MALFORMED');
    }
  });
});

test('an empty transcript of the right shape fails for want of a checkpoint and of a proposal', () => {
  const report = verifyTranscript(encodeTranscript(empty));
  expect(report.checks.map((c) => [c.name, c.code])).toEqual([
    ['transcript', 'OK'],
    ['admin key', 'OK'],
    ['checkpoints', 'CHECKPOINT_MISSING'],
    ['membership', 'OK'],
    ['log order', 'OK'],
    ['signatures', 'OK'],
    ['sender chains', 'OK'],
    ['receipts', 'OK'],
    ['session terms', 'PROPOSAL_INVALID'],
    ['key commitments', 'NOT_CHECKED'],
    ['hops', 'NOT_CHECKED'],
    ['chunk cut', 'NOT_CHECKED'],
    ['distinctness', 'NOT_CHECKED'],
    ['proof request', 'NOT_CHECKED'],
    ['reveals', 'NOT_CHECKED'],
    ['challenge', 'NOT_CHECKED'],
    ['chosen inputs', 'NOT_CHECKED'],
    ['hop proofs', 'NOT_CHECKED'],
    ['results', 'NOT_CHECKED'],
    ['abort', 'NOT_CHECKED'],
  ]);
  expect(report.checks.map((c) => c.name)).toEqual([...AUDIT_CHECKS]);
  expect(report).toMatchObject({
    ok: false,
    failed: 'checkpoints',
    code: 'CHECKPOINT_MISSING',
    session: '0'.repeat(32),
  });
});

test('a relay_key_id that is not the log key’s fails the signatures check', () => {
  const t = { ...empty, relay: { ...empty.relay, relay_key_id: 'f'.repeat(32) } };
  expect(verifyTranscript(encodeTranscript(t)).checks.find((c) => c.name === 'signatures')?.code).toBe(
    'RELAY_KEY_MISMATCH',
  );
});

property.prop([fc.uint8Array({ maxLength: 512 })])('any bytes: a report, never a pass, never a throw', (bytes) => {
  const report = verifyTranscript(bytes);
  expect(report.ok).toBe(false);
  expect(AUDIT_CHECKS).toContain(report.failed);
});
