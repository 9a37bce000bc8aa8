/**
 * The audit's proof-round computations against second, independent ones written from the spec
 * text with node:crypto: σ and the positions of every chunk (spec/ciphersuite.md §10, from the
 * reveals and each blind_result's header digest) for a session whose chunks are longer than 135
 * and whose largest set spans two chunks; and the distinctness blame (spec/protocol.md §5.3) by a
 * brute-force pair search and X25519(c₀, ·) from node:crypto, on sets with planted duplicates
 * and planted u, 1/u pairs.
 */
import '@overlap/crypto/node';
import { createHash, createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { fc, test as property } from '@fast-check/vitest';
import { BlindingKey, blind, hashToGroup } from '@overlap/crypto';
import { packTags, tagAt, tagCount } from '@overlap/protocol';
import { beforeAll, expect, test } from 'vitest';
import { ChunkIndex } from '../src/chunk-index.js';
import {
  checkCheckpoints,
  checkChosenInputs,
  checkDistinctness,
  checkHops,
  checkMembership,
  checkReveals,
  checkSessionTerms,
  checkSignatures,
  type SessionFacts,
  verifyTranscript,
} from '../src/index.js';
import { inverseTag } from './support/cheating-labs.js';
import { type EngineSession, runEngineSession } from './support/engine-session.js';

const ascii = (text: string) => Buffer.from(text, 'ascii');
const sha512 = (...parts: Uint8Array[]) => new Uint8Array(createHash('sha512').update(Buffer.concat(parts)).digest());

/** σ = SHA-512("OVERLAP-V1-SIGMA" ‖ 0x00 ‖ session ‖ ρ₀ ‖ … ‖ ρₙ₋₁). */
function sigmaOf(session: Uint8Array, coins: Uint8Array[]): Uint8Array {
  return sha512(ascii('OVERLAP-V1-SIGMA\0'), session, ...coins);
}

/** spot: min(len, 135) distinct positions by rejection sampling, exactly as the spec words it. */
function spotPositions(sigma: Uint8Array, digest: Uint8Array, len: number): number[] {
  const wanted = Math.min(len, 135);
  const limit = 2 ** 32 - (2 ** 32 % len);
  const out: number[] = [];
  for (let i = 0; out.length < wanted; i++) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(i);
    const block = Buffer.from(sha512(ascii('OVERLAP-V1-POSITIONS\0'), sigma, digest, counter));
    for (let w = 0; w < 16 && out.length < wanted; w++) {
      const word = block.readUInt32BE(4 * w);
      if (word >= limit) continue;
      const j = word % len;
      if (!out.includes(j)) out.push(j);
    }
  }
  return out;
}

let s: EngineSession;
beforeAll(async () => {
  const mails = (name: string, n: number) => Array.from({ length: n }, (_, i) => `${name}-${i}@x.example`);
  s = await runEngineSession({
    kinds: ['email'],
    chunkSize: 1024,
    sets: {
      north: { email: [...mails('shared', 40), ...mails('north', 1060)] },
      south: { email: [...mails('shared', 40), ...mails('south', 160)] },
      east: { email: [...mails('shared', 20), ...mails('east', 140)] },
    },
  });
}, 120_000);

test('the session passes, its largest set in two chunks cut at 1,024', () => {
  const report = verifyTranscript(s.bytes, { adminKey: s.admin.signing.publicKey });
  expect(report.checks.filter((c) => c.ok !== true)).toEqual([]);
  expect(report.checks.find((c) => c.name === 'chunk cut')?.detail).toMatch(/^4 uploaded chunks/);
});

test('σ and every chunk’s positions equal a second computation from the reveals and the logged digests', () => {
  const t = s.transcript;
  const log = checkCheckpoints(t);
  const members = checkMembership(t, t.relay.admin_key, log.anchor).members;
  const view = { relayKeyId: t.relay.relay_key_id, envelopes: checkSignatures(t, members).opened };
  const facts = checkSessionTerms(view).session as SessionFacts;
  const chunks = checkHops(view, facts).chunks as ChunkIndex;
  const [request] = facts.round.proofRequests;
  const revealed = checkReveals(facts, request ?? null).revealed;
  const chosen = checkChosenInputs(facts, chunks, revealed?.sigma).positions;

  const coins = facts.proposal.labs.map((lab) => facts.round.reveals.find((r) => r.sender === lab)?.body.coin);
  const sigma = sigmaOf(t.session, coins as Uint8Array[]);
  expect(Buffer.from(revealed?.sigma ?? []).equals(Buffer.from(sigma))).toBe(true);
  let compared = 0;
  for (const chunk of chunks.inLogOrder) {
    if (chunk.hop === 0) continue;
    const length = tagCount(chunk.tags);
    const expected = spotPositions(sigma, chunk.digest, length);
    expect(chosen?.get(`${chunk.owner}|${chunk.kind}|${chunk.hop}|${chunk.first}`)).toEqual(expected);
    if (length > 135) expect(expected).toHaveLength(135);
    compared++;
  }
  expect(compared).toBe(8); // north's two chunks and south's and east's one, at hops 1 and 2
  expect(chosen?.size).toBe(compared);
});

// --- Distinctness: the blame against a brute-force search with node:crypto's X25519. ---

const C0 = createHash('sha256').update(ascii('OVERLAP-V1-DISTINCT\0')).digest();
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const c0Key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, C0]), format: 'der', type: 'pkcs8' });
function image(u: Uint8Array): string {
  const publicKey = createPublicKey({ key: Buffer.concat([SPKI_X25519, u]), format: 'der', type: 'spki' });
  return diffieHellman({ privateKey: c0Key, publicKey }).toString('hex');
}
const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

const LABS = ['a'.repeat(32), 'b'.repeat(32), 'c'.repeat(32)];

/** A set of `size` tags over three hops, with u and 1/u planted at hop 0 and one tag copied at `copy.hop`. */
function plantedSet(size: number, plant: { u?: [number, number]; copy?: { hop: number; from: number; to: number } }) {
  const keys = [BlindingKey.generate(), BlindingKey.generate()];
  const hops: Uint8Array[][] = [
    Array.from({ length: size }, (_, i) => hashToGroup('email', `item-${i}-${Math.random()}`)),
  ];
  const [ui, uj] = plant.u ?? [];
  if (ui !== undefined && uj !== undefined)
    (hops[0] as Uint8Array[])[uj] = inverseTag((hops[0] as Uint8Array[])[ui] as Uint8Array);
  for (let hop = 0; hop < 3; hop++) {
    if (hop > 0) hops[hop] = (hops[hop - 1] as Uint8Array[]).map((u) => blind(keys[hop - 1] as BlindingKey, u));
    const { copy } = plant;
    if (copy?.hop === hop) (hops[hop] as Uint8Array[])[copy.to] = (hops[hop] as Uint8Array[])[copy.from] as Uint8Array;
  }
  for (const key of keys) key.dispose();
  return hops;
}

function auditOf(hops: Uint8Array[][], size: number) {
  const chunks = new ChunkIndex();
  let index = 0;
  const split = Math.ceil(size / 2); // two chunks per hop, so positions are found across chunks
  for (const [hop, tags] of hops.entries()) {
    for (const [first, part] of [
      [0, tags.slice(0, split)],
      [split, tags.slice(split)],
    ] as const) {
      chunks.add({
        index: index++,
        sender: LABS[hop] as string,
        owner: LABS[0] as string,
        kind: 'email',
        hop,
        first,
        tags: packTags(part),
        digest: new Uint8Array(32),
      });
    }
  }
  chunks.seal();
  const facts = {
    proposal: { labs: LABS, kinds: ['email'], policy: { kind: 'labs' }, maxItemsPerKind: 100 },
    sessionId: new Uint8Array(16),
    sizes: new Map([[LABS[0] as string, { email: size }]]),
    joins: new Map(),
    round: { proofRequests: [], reveals: [], challenges: [], proofs: [], results: [], aborts: [] },
  } as unknown as SessionFacts;
  return checkDistinctness(facts, chunks);
}

/** The spec's rule, by brute force: first hop with equal tags, first pair (i, j), lowest hop where they are equivalent. */
function bruteForce(hops: Uint8Array[][]): string | undefined {
  for (const [hop, tags] of hops.entries()) {
    for (let i = 0; i < tags.length; i++) {
      for (let j = i + 1; j < tags.length; j++) {
        if (hex(tags[i] as Uint8Array) !== hex(tags[j] as Uint8Array)) continue;
        for (let t = 0; t <= hop; t++) {
          const at = hops[t] as Uint8Array[];
          if (image(at[i] as Uint8Array) === image(at[j] as Uint8Array)) return LABS[t];
        }
      }
    }
  }
  return undefined;
}

property.prop(
  [
    fc.integer({ min: 4, max: 9 }),
    fc.option(fc.tuple(fc.nat(), fc.nat()), { nil: undefined }),
    fc.option(fc.record({ hop: fc.integer({ min: 0, max: 2 }), from: fc.nat(), to: fc.nat() }), { nil: undefined }),
  ],
  { numRuns: 40 },
)('the culprit of a duplicate is the lab of the lowest hop where the pair is equivalent', (size, u, copy) => {
  const pair = (a: number, b: number): [number, number] | undefined =>
    a % size === b % size ? undefined : [a % size, b % size];
  const plantU = u && pair(u[0], u[1]);
  const copied = copy && pair(copy.from, copy.to);
  const hops = plantedSet(size, {
    ...(plantU && { u: plantU }),
    ...(copy && copied && { copy: { hop: copy.hop, from: copied[0], to: copied[1] } }),
  });
  const expected = bruteForce(hops);
  const verdict = auditOf(hops, size);
  if (expected === undefined) {
    expect(verdict.ok).toBe(true);
  } else {
    expect(verdict).toMatchObject({ ok: false, code: 'TAGS_NOT_DISTINCT', culprit: expected });
  }
});

test('u and 1/u in an upload frame no one: the owner is blamed for the duplicate at hop 1', () => {
  const hops = plantedSet(5, { u: [1, 3] });
  expect(hex(tagAt(packTags(hops[1] as Uint8Array[]), 1))).toBe(hex(tagAt(packTags(hops[1] as Uint8Array[]), 3)));
  expect(auditOf(hops, 5)).toMatchObject({ ok: false, culprit: LABS[0] });
});
