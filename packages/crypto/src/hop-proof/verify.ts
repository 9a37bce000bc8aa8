/**
 * The verifier of a hop proof (spec/ciphersuite.md §10), as the relay and an auditor run it: the
 * proof's form, then every input point, then every output point, then the equations, reporting
 * the first failure in that order so that the fault lands on the lab that caused it (the producer
 * of an input, or the prover).
 *
 * Threat: a hop that did not apply its committed key passing anyway. The verifier computes the
 * composite M = Σ[d_i]P_i and Z = Σ[d_i]Q_i itself (RFC 9497's [s]M shortcut is the prover's
 * only), checks every point on G itself, and never uses a cofactored equation: 8·Q = 8·[s]P holds
 * for Q = [s]P + T₂, whose u is 1/u — a hop that nullifies tags while passing distinctness.
 */
import { getBackend } from '../backend-select.js';
import { assertLength } from '../bytes.js';
import { POINT_LENGTH } from '../ciphersuite.js';
import { equalBytes } from '../equal-bytes.js';
import { CryptoError } from '../errors.js';
import {
  assertStatement,
  challenge,
  composite,
  type HopProof,
  type HopProofContext,
  type HopProofVerdict,
  isReducedScalar,
  PROOF_LENGTH,
  signBit,
  signsLength,
  transcriptSeed,
} from './dleq.js';
import { type HopProofOptions, liftMany } from './points.js';

const MALFORMED: HopProofVerdict = Object.freeze({ ok: false, fault: 'malformed' });
const INVALID: HopProofVerdict = Object.freeze({ ok: false, fault: 'invalid' });

/**
 * Verifies the hop proof of K's lab for one chunk: `inputs[i]` and `outputs[i]` are the tags of
 * the previous hop and of this one at `positions[i]`. A failed check is a verdict, never a throw;
 * only arguments that are not a statement (lengths, types) throw.
 */
export function verifyHop(
  K: Uint8Array,
  context: HopProofContext,
  positions: readonly number[],
  inputs: readonly Uint8Array[],
  outputs: readonly Uint8Array[],
  proof: HopProof,
  options: HopProofOptions = {},
): HopProofVerdict {
  assertLength(K, POINT_LENGTH, 'key commitment');
  assertStatement(context, positions, [inputs, outputs]);
  if (typeof proof !== 'object' || proof === null) throw new CryptoError('BAD_TYPE', 'a hop proof must be an object');
  const count = positions.length;
  // 1. The prover's bytes: lengths, padding bits, canonical scalars.
  const { signs, proof: bytes } = proof;
  if (!(signs instanceof Uint8Array) || !(bytes instanceof Uint8Array)) return MALFORMED;
  if (signs.length !== signsLength(count) || bytes.length !== PROOF_LENGTH) return MALFORMED;
  if (count % 8 !== 0 && (signs[signs.length - 1] as number) >> (count % 8) !== 0) return MALFORMED;
  const c = bytes.subarray(0, 32);
  const z = bytes.subarray(32, 64);
  if (!isReducedScalar(c) || !isReducedScalar(z)) return MALFORMED;

  const backend = getBackend(options.backend);
  const p = liftMany(inputs);
  const q = liftMany(outputs, (i) => signBit(signs, i));
  // 2 and 3. Every P_i, then every Q_i, a point of G; the sums computed along the way.
  if (allLifted(p) && allLifted(q)) {
    const seed = transcriptSeed(context, K);
    const d = p.map((pi, i) => composite(backend, seed, positions[i] as number, pi, q[i] as Uint8Array));
    const inputSum = backend.multiScalarMult(d, p);
    if (!('sum' in inputSum)) return { ok: false, fault: 'input_not_in_group', index: inputSum.notInGroup };
    const outputSum = backend.multiScalarMult(d, q);
    if (!('sum' in outputSum)) return { ok: false, fault: 'output_not_in_group', index: outputSum.notInGroup };
    const M = inputSum.sum;
    const Z = outputSum.sum;
    // 4. t2 = [z]B + [c]K, t3 = [z]M + [c]Z, and c recomputed from them.
    const cK = backend.scalarMultNoClamp(c, K);
    if (cK === undefined) return INVALID; // K is not a point of G: the relay refuses such a join
    const t2 = backend.pointAdd(backend.baseMultNoClamp(z), cK);
    // M and Z are sums of points of G: in G or the identity, so these products exist
    const t3 = backend.pointAdd(
      backend.scalarMultNoClamp(z, M) as Uint8Array,
      backend.scalarMultNoClamp(c, Z) as Uint8Array,
    );
    return equalBytes(challenge(backend, seed, K, M, Z, t2, t3), c) ? { ok: true } : INVALID;
  }
  // Some tag has no lift (not canonical, or p − 1): find the first fault in order, one point at a time.
  const inputFault = p.findIndex((pi) => pi === undefined || !backend.isPointOfG(pi));
  if (inputFault >= 0) return { ok: false, fault: 'input_not_in_group', index: inputFault };
  const outputFault = q.findIndex((qi) => qi === undefined || !backend.isPointOfG(qi));
  return { ok: false, fault: 'output_not_in_group', index: Math.max(outputFault, 0) };
}

function allLifted(points: (Uint8Array | undefined)[]): points is Uint8Array[] {
  return points.every((point) => point !== undefined);
}
