/**
 * The prover of a hop (spec/ciphersuite.md §10): for the positions σ chose in a chunk, a proof that
 * the one scalar s behind the lab's key commitment K = [s]B also gives Q_i = [s]P_i, P_i the
 * canonical lift of each input tag; the sign bits b_i of the Q_i go with it, since a u-coordinate
 * does not fix the sign of x.
 *
 * Threat: leaking the session key. The nonce is hedged — r = H_L(s, the transcript, 32 fresh random
 * bytes) — so neither a broken random source nor a repeated transcript repeats a nonce; s, r and
 * every buffer that held them are wiped; on the native backend, every operation on s and r is
 * libsodium's constant-time one. An input outside G is refused (`NOT_IN_GROUP`): no proof can
 * exist for it, and the producer of that input is at fault.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { getBackend } from '../backend-select.js';
import type { BlindingKey } from '../blinding-key.js';
import { assertLength, concatBytes, wipe } from '../bytes.js';
import { CryptoError } from '../errors.js';
import {
  assertStatement,
  challenge,
  composite,
  type HopProof,
  type HopProofContext,
  NONCE_DST,
  NONCE_RANDOMNESS_LENGTH,
  signsLength,
  transcriptSeed,
} from './dleq.js';
import { type HopProofOptions, liftMany, sessionScalar } from './points.js';

export interface ProveHopOptions extends HopProofOptions {
  /**
   * The 32 bytes `a` of the hedged nonce, for reproducible test vectors only; by default fresh
   * bytes from crypto.getRandomValues. Production code never passes it.
   */
  nonceRandomness?: Uint8Array;
}

/**
 * The proof for one chunk: `inputs[i]` is the input tag (the previous hop's) at `positions[i]`.
 * Throws `NOT_IN_GROUP` with `details.index` = i for the first input that does not lie in G.
 */
export function proveHop(
  key: BlindingKey,
  context: HopProofContext,
  positions: readonly number[],
  inputs: readonly Uint8Array[],
  options: ProveHopOptions = {},
): HopProof {
  assertStatement(context, positions, [inputs]);
  const randomness = options.nonceRandomness ?? globalThis.crypto.getRandomValues(new Uint8Array(32));
  assertLength(randomness, NONCE_RANDOMNESS_LENGTH, 'nonce randomness');
  const backend = getBackend(options.backend);
  const s = sessionScalar(backend, key);
  const secrets: Uint8Array[] = [s];
  try {
    const K = backend.baseMultNoClamp(s);
    const seed = transcriptSeed(context, K);
    const points = liftMany(inputs);
    const outputs: Uint8Array[] = [];
    const signs = new Uint8Array(signsLength(positions.length));
    for (let i = 0; i < points.length; i++) {
      const p = points[i];
      // [s]P_i is undefined exactly when P_i is not in G (a lift is never the identity)
      const q = p === undefined ? undefined : backend.scalarMultNoClamp(s, p);
      if (q === undefined) throw notInGroup(i);
      outputs.push(q);
      signs[i >> 3] = (signs[i >> 3] as number) | (((q[31] as number) >> 7) << (i & 7));
    }
    const lifted = points as Uint8Array[];
    const d = lifted.map((p, i) => composite(backend, seed, positions[i] as number, p, outputs[i] as Uint8Array));
    const combined = backend.multiScalarMult(d, lifted, { pointsChecked: true });
    if (!('sum' in combined)) throw notInGroup(combined.notInGroup); // not reached: each P_i was checked
    const M = combined.sum;
    const Z = backend.scalarMultNoClamp(s, M) as Uint8Array; // the prover's fast path: Z = [s]M
    const nonceInput = concatBytes(NONCE_DST, s, seed, M, Z, randomness);
    const wide = sha512(nonceInput);
    secrets.push(nonceInput, wide);
    const r = backend.scalarReduce64(wide);
    secrets.push(r);
    const t2 = backend.baseMultNoClamp(r);
    const t3 = backend.scalarMultNoClamp(r, M) as Uint8Array;
    const c = challenge(backend, seed, K, M, Z, t2, t3);
    const z = backend.scalarMulSub(r, c, s);
    return { signs, proof: concatBytes(c, z) };
  } finally {
    wipe(...secrets);
  }
}

function notInGroup(index: number): CryptoError {
  return new CryptoError('NOT_IN_GROUP', `input ${index} of the hop proof does not lie in G`, { details: { index } });
}
