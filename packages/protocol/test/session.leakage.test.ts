/**
 * What each party learns (spec/protocol.md, "Leakage"): the relay never receives a canonical value
 * or an unkeyed hash_to_group output, never hands out fully blinded tags, and each lab's results
 * carry only what its policy allows about its own items.
 */
import { hashToGroup, toHex } from '@overlap/crypto';
import { describe, expect, test } from 'vitest';
import {
  eachTag,
  encodeDeterministic,
  type RevealPolicy,
  runSessionInMemory,
  type SessionMessage,
} from '../src/index.js';
import { labIds, plaintextTruth, sortedResults } from './session.helpers.js';

const ids = labIds(3);
const shared = ['shared-1@example.com', 'shared-2@example.com'];
const labs = ids.map((keyId, i) => ({
  keyId,
  sets: {
    email: [...shared.slice(0, i === 2 ? 1 : 2), `canary-${i}-a@example.com`, `canary-${i}-b@example.com`],
    ip: [`198.51.100.${i + 1}`, '203.0.113.9'],
  },
}));
const everyValue = labs.flatMap((lab) =>
  Object.entries(lab.sets).flatMap(([kind, values]) => values.map((value) => ({ kind, value }))),
);

function bytesOf(message: SessionMessage): Uint8Array {
  return encodeDeterministic(message.body as never);
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle));
}

describe.each(['native', 'portable'] as const)('leakage on the %s backend', (backend) => {
  test.each([
    [{ kind: 'labs' } as RevealPolicy],
    [{ kind: 'count' } as RevealPolicy],
    [{ kind: 'threshold', t: 3 } as RevealPolicy],
  ])('policy %j', async (policy) => {
    const received: Uint8Array[] = [];
    const finalTags = new Set<string>();
    const handedOut = new Set<string>();
    const run = await runSessionInMemory({ labs: ids, kinds: ['email', 'ip'], policy, maxItemsPerKind: 10 }, labs, {
      backend,
      onRelayReceives: (_from, message) => {
        received.push(bytesOf(message));
        if (message.type === 'blind_result' && message.body.hop === ids.length - 1) {
          for (const tag of eachTag(message.body.tags)) finalTags.add(toHex(tag));
        }
      },
      onRelaySends: (_to, message) => {
        if (message.type === 'blind_task') for (const tag of eachTag(message.body.tags)) handedOut.add(toHex(tag));
      },
    });
    expect(run.relay.state).toBe('done');

    // The relay never sees a canonical value, nor an unkeyed hash of one.
    for (const { kind, value } of everyValue) {
      const plain = new TextEncoder().encode(value);
      const unkeyed = hashToGroup(kind, value);
      for (const bytes of received) {
        expect(contains(bytes, plain), `${value} reached the relay`).toBe(false);
        expect(contains(bytes, unkeyed), `hash_to_group(${value}) reached the relay`).toBe(false);
      }
    }
    // Fully blinded tags only ever flow into the relay, never out of it.
    expect(finalTags.size).toBeGreaterThan(0);
    for (const tag of finalTags) expect(handedOut.has(tag)).toBe(false);

    // Each lab learns exactly the truth under its policy: canaries of other labs never appear,
    // and the fields its policy withholds are absent.
    const truth = plaintextTruth(labs, ['email', 'ip'], policy);
    for (const [i, id] of ids.entries()) {
      const results = run.results.get(id) ?? new Map();
      expect(sortedResults(results)).toEqual(truth.get(id));
      const values = [...results.values()].flat();
      for (const row of values) {
        expect(labs[i]?.sets.email.includes(row.value) || labs[i]?.sets.ip.includes(row.value)).toBe(true);
        expect(row.value.startsWith('canary')).toBe(false);
        if (policy.kind !== 'labs') expect(row).not.toHaveProperty('labs');
        if (policy.kind !== 'count') expect(row).not.toHaveProperty('count');
      }
    }
  });
});
