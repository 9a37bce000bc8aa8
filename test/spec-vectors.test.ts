/**
 * spec/vectors/*.json are generated (scripts/generate-vectors.ts). They must regenerate byte for
 * byte, and their content is re-checked here by independent means: the portable backend, and
 * node:crypto for the key-id formula.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlindingKey, blind, fromHex, hashToGroup, keyId, sha256, signingPublicKey, toHex } from '@overlap/crypto';
import { canonicalize, IndicatorError, RULE_DEPENDENCIES } from '@overlap/indicators';
import {
  ed25519NoteSigner,
  formatCheckpoint,
  leafHash as logLeafHash,
  parseAddCheckpointRequest,
  parseCheckpoint,
  parseSignedNote,
  parseVerifierKey,
  rootFromLeafHashes,
  signNote,
  verifyConsistency,
  verifyInclusion,
  verifySignedNote,
} from '@overlap/log';
import { checkChain, openEnvelope, parseMessage, sessionDeadlines } from '@overlap/protocol';
import { trustedLogs, Witness, WitnessState, witnessVkey } from '@overlap/witness';
import { describe, expect, test } from 'vitest';
import { buildCiphersuiteVectors } from '../scripts/vectors/ciphersuite.js';
import { buildEnvelopeVectors } from '../scripts/vectors/envelopes.js';
import { buildHopProofVectors } from '../scripts/vectors/hop-proofs.js';
import { buildIndicatorVectors } from '../scripts/vectors/indicators.js';
import { buildLogVectors } from '../scripts/vectors/log.js';
import { buildPromptTemplateVectors } from '../scripts/vectors/prompt-templates.js';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

test('spec/vectors/ciphersuite.json regenerates byte for byte', () => {
  expect(buildCiphersuiteVectors()).toBe(read('spec/vectors/ciphersuite.json'));
});

test('spec/vectors/hop-proofs.json regenerates byte for byte (its entries are checked on both backends in packages/crypto/test/hop-proof.vectors.test.ts)', () => {
  expect(buildHopProofVectors()).toBe(read('spec/vectors/hop-proofs.json'));
});

describe('spec/vectors/ciphersuite.json checked on the portable backend', () => {
  const v = JSON.parse(read('spec/vectors/ciphersuite.json'));
  const portable = { backend: 'portable' as const };

  test('hash_to_group', () => {
    for (const h of v.hash_to_group) {
      expect(h.message).toBe(
        Buffer.concat([Buffer.from(h.kind), Buffer.from([0]), Buffer.from(h.value)]).toString('hex'),
      );
      expect(toHex(hashToGroup(h.kind, h.value, portable))).toBe(h.u);
    }
  });

  test('blind, and two keys in either order', () => {
    for (const b of v.blind)
      expect(toHex(blind(BlindingKey.fromBytes(fromHex(b.key)), fromHex(b.u), portable))).toBe(b.blinded);
    for (const c of v.two_keys_either_order) {
      const a = BlindingKey.fromBytes(fromHex(c.key_a));
      const b = BlindingKey.fromBytes(fromHex(c.key_b));
      expect(toHex(blind(b, blind(a, fromHex(c.u), portable), portable))).toBe(c.a_then_b);
      expect(c.a_then_b).toBe(c.b_then_a);
    }
    const results = Object.values(v.three_keys_any_order.results);
    expect(new Set(results).size).toBe(1);
  });

  test('low-order points are rejected', () => {
    expect(v.low_order_rejected).toHaveLength(14);
    for (const l of v.low_order_rejected) {
      expect(() => blind(BlindingKey.fromBytes(fromHex(l.key)), fromHex(l.u), portable)).toThrow(
        expect.objectContaining({ code: l.error }),
      );
    }
  });

  test('hash inputs are rejected', () => {
    for (const r of v.hash_input_rejected) {
      expect(() => hashToGroup(r.kind, r.value, portable)).toThrow(expect.objectContaining({ code: r.error }));
    }
  });

  test('key ids follow the written formula', () => {
    for (const k of v.key_id) {
      const digest = createHash('sha256')
        .update('OVERLAP-V1-KEYID\0ed25519\0')
        .update(Buffer.from(k.ed25519_public_key, 'hex'))
        .digest('hex');
      expect(k.key_id).toBe(digest.slice(0, 32));
    }
  });
});

describe('spec/vectors/indicators.json', () => {
  test('regenerates byte for byte', () => {
    expect(buildIndicatorVectors()).toBe(read('spec/vectors/indicators.json'));
  });

  const v = JSON.parse(read('spec/vectors/indicators.json')) as {
    kinds: {
      kind: string;
      canonical: { raw: string; region?: string; canonical: string }[];
      rejected: { raw: string; region?: string; error: string }[];
    }[];
  };

  test('covers all fourteen kinds', () => {
    expect(v.kinds.map((k) => k.kind).sort()).toEqual([
      'account',
      'asn',
      'crypto_wallet',
      'domain',
      'email',
      'ip',
      'ip_prefix',
      'ja4',
      'ja4h',
      'payment_fingerprint',
      'phone',
      'prompt_template',
      'registrable_domain',
      'url',
    ]);
  });

  test.each(v.kinds.map((k) => [k.kind, k] as const))('%s: every entry holds', (_name, k) => {
    for (const c of k.canonical) {
      const options = c.region === undefined ? {} : { region: c.region };
      expect(canonicalize(k.kind, c.raw, options), JSON.stringify(c.raw)).toBe(c.canonical);
    }
    for (const r of k.rejected) {
      const options = r.region === undefined ? {} : { region: r.region };
      expect(() => canonicalize(k.kind, r.raw, options)).toThrow(expect.objectContaining({ code: r.error }));
      expect(() => canonicalize(k.kind, r.raw, options)).toThrow(IndicatorError);
    }
  });
});

describe('spec/vectors/prompt-templates.json', () => {
  test('regenerates byte for byte', () => {
    expect(buildPromptTemplateVectors()).toBe(read('spec/vectors/prompt-templates.json'));
  });

  // Recomputed from the spec's words alone: node:crypto's SHA-256 and BigInt arithmetic, not the
  // package's 16-bit split.
  const v = JSON.parse(read('spec/vectors/prompt-templates.json')) as {
    parameters: {
      shingle_size: number;
      bands: number;
      rows: number;
      min_bands: number;
      prime: number;
      row_label: string;
    };
    rows: { a: number; b: number }[];
    prompts: {
      raw: string;
      normalized: string;
      shingles: { shingle: string; x: number }[];
      signature: number[];
      bands: string[];
    }[];
    pairs: { prompts: [number, number]; shared_bands: number; implied_jaccard: number }[];
    templates: {
      collapse: { min_bands: number; members: number };
      assigned: number[];
      templates: { line: number; prompts: number }[];
    };
  };
  const p = BigInt(v.parameters.prime);
  const u32 = (digest: Buffer, at: number) => BigInt(digest.readUInt32BE(at));
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

  test('the row constants follow from the label', () => {
    expect(v.parameters.prime).toBe(2 ** 31 - 1);
    expect(v.rows).toHaveLength(v.parameters.bands * v.parameters.rows);
    v.rows.forEach((row, i) => {
      const d = digest(`${v.parameters.row_label}${i}`);
      expect(BigInt(row.a)).toBe(1n + (u32(d, 0) % (p - 1n)));
      expect(BigInt(row.b)).toBe(u32(d, 4) % p);
    });
  });

  test.each(v.prompts.map((prompt, i) => [i, prompt] as const))(
    'prompt %i: text, shingles, signature, bands',
    (_i, prompt) => {
      expect(canonicalize('prompt_template', prompt.raw)).toBe(prompt.normalized);
      const words = prompt.normalized.split(' ');
      const size = v.parameters.shingle_size;
      const shingles =
        words.length <= size
          ? [words.join(' ')]
          : [...new Set(words.slice(0, words.length - size + 1).map((_, i) => words.slice(i, i + size).join(' ')))];
      expect(prompt.shingles.map((s) => s.shingle)).toEqual(shingles);
      for (const s of prompt.shingles) expect(BigInt(s.x)).toBe(u32(digest(s.shingle), 0) % p);
      const signature = v.rows.map(({ a, b }) =>
        prompt.shingles.reduce((least, s) => {
          const h = (BigInt(a) * BigInt(s.x) + BigInt(b)) % p;
          return h < least ? h : least;
        }, p),
      );
      expect(prompt.signature.map(BigInt)).toEqual(signature);
      const r = v.parameters.rows;
      const bands = Array.from(
        { length: v.parameters.bands },
        (_, j) =>
          `${String(j).padStart(2, '0')}:${signature
            .slice(j * r, j * r + r)
            .map((h) => h.toString(16).padStart(8, '0'))
            .join('')}`,
      );
      expect(prompt.bands).toEqual(bands);
    },
  );

  test('pairs: shared bands and the Jaccard similarity they imply', () => {
    for (const pair of v.pairs) {
      const [x, y] = pair.prompts.map((i) => v.prompts[i]?.bands ?? []) as [string[], string[]];
      expect(x.filter((band, j) => band === y[j]).length).toBe(pair.shared_bands);
      const implied = Math.round((pair.shared_bands / v.parameters.bands) ** (1 / v.parameters.rows) * 1000) / 1000;
      expect(pair.implied_jaccard).toBe(implied);
    }
    // The vectors show both sides of the line: a near-duplicate pair at or over t, unrelated ones far under.
    expect(v.pairs.some((pair) => pair.shared_bands >= v.parameters.min_bands)).toBe(true);
    expect(v.pairs.some((pair) => pair.shared_bands < v.parameters.min_bands)).toBe(true);
  });

  test('the collapse into templates follows the greedy rule of the spec', () => {
    const { collapse, assigned, templates } = v.templates;
    const members: string[][][] = [];
    const seen = new Map<string, number>();
    const expected = v.prompts.map((prompt) => {
      const repeat = seen.get(prompt.normalized);
      if (repeat !== undefined) return repeat;
      let best = -1;
      let bestShared = collapse.min_bands - 1;
      members.forEach((held, index) => {
        for (const bands of held) {
          const shared = bands.filter((band, j) => band === prompt.bands[j]).length;
          if (shared > bestShared) [best, bestShared] = [index, shared];
        }
      });
      if (best < 0) {
        best = members.length;
        members.push([]);
      }
      const held = members[best] as string[][];
      if (held.length < collapse.members) held.push(prompt.bands);
      seen.set(prompt.normalized, best);
      return best;
    });
    expect(assigned).toEqual(expected);
    expect(templates.map((t) => t.prompts)).toEqual(members.map((_, i) => expected.filter((x) => x === i).length));
    // Both sides: some prompt joined an earlier template, and there is more than one template.
    expect(templates.length).toBeGreaterThan(1);
    expect(templates.length).toBeLessThan(assigned.length);
  });
});

test('the installed field libraries are the versions the rules were written against', () => {
  const installed = (name: string) =>
    (
      JSON.parse(
        readFileSync(new URL(`../packages/indicators/node_modules/${name}/package.json`, import.meta.url), 'utf8'),
      ) as { version: string }
    ).version;
  for (const [name, version] of Object.entries(RULE_DEPENDENCIES)) expect(installed(name), name).toBe(version);
});

describe('spec/vectors/log.json', () => {
  test('regenerates byte for byte', () => {
    expect(buildLogVectors()).toBe(read('spec/vectors/log.json'));
  });

  const v = JSON.parse(read('spec/vectors/log.json'));
  const b64 = (text: string) => Uint8Array.from(Buffer.from(text, 'base64'));
  const hashes = (v.leaves as string[]).map((hex) => logLeafHash(Uint8Array.from(Buffer.from(hex, 'hex'))));

  test('roots match the transparency-dev reference tree and every proof verifies', () => {
    expect(v.roots.find((r: { size: number }) => r.size === 8).root).toBe(
      'XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=',
    );
    const rootOf = (size: number) => rootFromLeafHashes(hashes.slice(0, size));
    for (const p of v.inclusion) {
      expect(verifyInclusion(hashes[p.index] as Uint8Array, p.index, p.size, p.proof.map(b64), rootOf(p.size))).toBe(
        true,
      );
    }
    for (const c of v.consistency) {
      expect(verifyConsistency(c.size1, c.size2, c.proof.map(b64), rootOf(c.size1), rootOf(c.size2))).toBe(true);
    }
  });

  test('the checkpoint note verifies with both published verifier keys', () => {
    const c = v.checkpoint;
    const result = verifySignedNote(c.signed_note, [
      parseVerifierKey(c.log_verifier_key),
      parseVerifierKey(c.witness_verifier_key),
    ]);
    expect(result.verifiedBy).toHaveLength(2);
    expect(parseCheckpoint(result.text).size).toBe(8);
  });

  test("the witness's add-checkpoint request is cosigned by a real witness, byte for byte as the answer", async () => {
    const c = v.checkpoint;
    const request = parseAddCheckpointRequest(v.witness.add_checkpoint_request);
    expect(request.oldSize).toBe(5);
    const checkpoint = parseCheckpoint(
      verifySignedNote(request.checkpoint, [parseVerifierKey(c.log_verifier_key)]).text,
    );
    const rootOf = (size: number) => rootFromLeafHashes(hashes.slice(0, size));
    expect(verifyConsistency(5, checkpoint.size, request.proof, rootOf(5), checkpoint.rootHash)).toBe(true);
    // A witness that last cosigned size 5 answers with exactly the published cosignature line.
    const dir = mkdtempSync(join(tmpdir(), 'overlap-vector-witness-'));
    try {
      await WitnessState.init(dir, witnessVkey('witness.lab.example/test', fromHex(c.witness_seed)));
      const state = await WitnessState.open(dir);
      const five = signNote(formatCheckpoint({ ...checkpoint, size: 5, rootHash: rootOf(5) }), [
        ed25519NoteSigner(checkpoint.origin, fromHex(c.log_seed)),
      ]);
      await state.record({ checkpoint: parseCheckpoint(parseSignedNote(five).text), note: five });
      const witness = new Witness({
        name: 'witness.lab.example/test',
        secretKey: fromHex(c.witness_seed),
        logs: trustedLogs([c.log_verifier_key]),
        state,
        now: () => new Date(c.cosignature_timestamp * 1000),
      });
      expect(witness.vkey).toBe(c.witness_verifier_key);
      const answer = await witness.addCheckpoint(v.witness.add_checkpoint_request);
      expect(answer.status).toBe(200);
      expect(answer.body).toBe(v.witness.add_checkpoint_response);
      await state.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('spec/vectors/envelopes.json', () => {
  test('regenerates byte for byte', () => {
    expect(buildEnvelopeVectors()).toBe(read('spec/vectors/envelopes.json'));
  });

  const v = JSON.parse(read('spec/vectors/envelopes.json')) as {
    signers: { label: string; seed: string; public_key: string; key_id: string }[];
    envelopes: { bytes: string; hash: string; header: Record<string, unknown>; payload: string }[];
    rejected: { why: string; bytes: string; error: string }[];
  };
  const keys = (id: string) => {
    const signer = v.signers.find((s) => s.key_id === id);
    return signer === undefined ? undefined : fromHex(signer.public_key);
  };

  test('every signer key is derived from its label as the description says', () => {
    for (const s of v.signers) {
      const seed = sha256(new TextEncoder().encode(`OVERLAP-V1 test vector: ${s.label}`));
      expect(toHex(seed)).toBe(s.seed);
      expect(toHex(signingPublicKey(seed))).toBe(s.public_key);
      expect(keyId(signingPublicKey(seed))).toBe(s.key_id);
    }
  });

  test('every envelope opens, chains per signer and session, and has the stated hash and header', () => {
    const chains = new Map<string, ReturnType<typeof checkChain>>();
    for (const e of v.envelopes) {
      const opened = openEnvelope(fromHex(e.bytes), keys);
      expect(toHex(opened.hash)).toBe(e.hash);
      expect({
        ...opened.header,
        session: toHex(opened.header.session),
        prev: toHex(opened.header.prev),
        digest: toHex(opened.header.digest),
      }).toEqual(e.header);
      const chain = `${opened.header.sender}/${toHex(opened.header.session)}`;
      chains.set(chain, checkChain(chains.get(chain), opened));
    }
  });

  test('every payload is a valid message of its header type (the check the relay makes)', () => {
    const types = new Set<string>();
    for (const e of v.envelopes) {
      const opened = openEnvelope(fromHex(e.bytes), keys);
      expect(() => parseMessage(opened.header.type, opened.payload), opened.header.type).not.toThrow();
      types.add(opened.header.type);
    }
    expect([...types].sort()).toEqual([
      'abort',
      'blind_result',
      'enrollment',
      'hop_proof',
      'join',
      'reveal',
      'revocation',
      'session_proposal',
      'tag_chunk',
    ]);
  });

  test("every deadlines case is the session's deadlines as the relay and the audit compute them", () => {
    const cases = (
      JSON.parse(read('spec/vectors/envelopes.json')) as {
        deadlines: {
          proposal: { deadline?: number; joinBy?: number };
          created: number;
          join_by: number;
          deadline: number;
        }[];
      }
    ).deadlines;
    expect(cases.length).toBeGreaterThanOrEqual(5);
    for (const c of cases) {
      expect(sessionDeadlines(c.proposal, c.created)).toEqual({ joinBy: c.join_by, deadline: c.deadline });
      // Independently, from the rule as spec/protocol.md §5 words it.
      const deadline = c.proposal.deadline ?? c.created + 86_400_000;
      expect(c.deadline).toBe(deadline);
      expect(c.join_by).toBe(Math.min(deadline, c.proposal.joinBy ?? c.created + 3_600_000));
    }
  });

  test('every altered envelope is refused with the stated code', () => {
    for (const r of v.rejected) {
      expect(() => openEnvelope(fromHex(r.bytes), keys), r.why).toThrow(expect.objectContaining({ code: r.error }));
    }
  });
});
