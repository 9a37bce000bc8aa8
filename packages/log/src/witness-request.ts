/**
 * The body of a C2SP tlog-witness v1 `add-checkpoint` request (c2sp.org/tlog-witness): the size of
 * the last checkpoint the witness cosigned, a consistency proof from it, a blank line, the signed
 * checkpoint note.
 *
 *   old <size, decimal, no leading zeros>\n
 *   <base64 of a 32-byte hash>\n        (0 to 63 lines; none when the old size is 0)
 *   \n
 *   <signed checkpoint note>
 *
 * The relay writes it, a witness parses it; parsing is strict because the body is anyone's (the
 * protocol authenticates nothing but the checkpoint's signature). The witness's checks of what it
 * means (origin, signature, sizes, proof) are the witness's; this module only reads the shape.
 */
import { fromCanonicalBase64, toBase64 } from '@overlap/crypto';
import { LogError } from './errors.js';
import { HASH_LENGTH } from './tree-hash.js';

/** The most consistency proof lines a request may carry (a proof between trees of up to 2^63 leaves). */
export const MAX_WITNESS_PROOF_LINES = 63;

export interface AddCheckpointRequest {
  /** The size of the checkpoint the witness is believed to have cosigned last (0: none). */
  oldSize: number;
  /** The consistency proof from `oldSize` to the checkpoint's size (RFC 9162 §2.1.4). */
  proof: Uint8Array[];
  /** The signed checkpoint note, as the log signed it. */
  checkpoint: string;
}

export function formatAddCheckpointRequest(request: AddCheckpointRequest): string {
  const { oldSize, proof, checkpoint } = request;
  const bad = (detail: string) => new LogError('BAD_WITNESS_REQUEST', `cannot write this add-checkpoint: ${detail}`);
  if (!Number.isSafeInteger(oldSize) || oldSize < 0) throw bad(`old size ${oldSize} is not a whole number`);
  if (proof.length > MAX_WITNESS_PROOF_LINES)
    throw bad(`${proof.length} proof hashes, at most ${MAX_WITNESS_PROOF_LINES}`);
  if (oldSize === 0 && proof.length > 0) throw bad('a request from old size 0 carries no proof');
  if (proof.some((hash) => !(hash instanceof Uint8Array) || hash.length !== HASH_LENGTH))
    throw bad(`every proof hash must be ${HASH_LENGTH} bytes`);
  if (!checkpoint.endsWith('\n')) throw bad('the checkpoint note must end with a newline');
  return `old ${oldSize}\n${proof.map((hash) => `${toBase64(hash)}\n`).join('')}\n${checkpoint}`;
}

/** Reads a request body; `BAD_WITNESS_REQUEST` names what is wrong and on which line. */
export function parseAddCheckpointRequest(body: string): AddCheckpointRequest {
  const bad = (detail: string) => new LogError('BAD_WITNESS_REQUEST', `not an add-checkpoint request: ${detail}`);
  if (typeof body !== 'string') throw bad('expected text');
  const blank = body.indexOf('\n\n');
  if (blank < 0) throw bad('no blank line before the checkpoint');
  const head = body.slice(0, blank).split('\n');
  const checkpoint = body.slice(blank + 2);
  const oldLine = /^old (0|[1-9][0-9]*)$/.exec(head[0] as string);
  if (!oldLine) throw bad('line 1 is not "old <size>" (a decimal without leading zeros)');
  const oldSize = Number(oldLine[1]);
  if (!Number.isSafeInteger(oldSize)) throw bad('the old size is too large');
  const proofLines = head.slice(1);
  if (proofLines.length > MAX_WITNESS_PROOF_LINES)
    throw bad(`${proofLines.length} proof lines, at most ${MAX_WITNESS_PROOF_LINES}`);
  const proof = proofLines.map((line, i) => {
    const hash = fromCanonicalBase64(line);
    if (hash === undefined || hash.length !== HASH_LENGTH)
      throw bad(`line ${i + 2} is not the canonical base64 of a ${HASH_LENGTH}-byte hash`);
    return hash;
  });
  if (checkpoint.length === 0) throw bad('no checkpoint after the blank line');
  return { oldSize, proof, checkpoint };
}
