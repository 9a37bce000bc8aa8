/**
 * C2SP tlog-checkpoint v1.0.0 (c2sp.org/tlog-checkpoint): the note text of a signed tree head.
 *
 *   <origin>\n<tree size, decimal, no leading zeros>\n<base64 root hash>\n[<extension line>\n...]
 *
 * Parsing is strict: a non-empty origin, a canonical decimal size, canonical base64 of exactly 32
 * bytes, non-empty extension lines. Sign and verify the text with signed-note.ts.
 */
import { fromCanonicalBase64, toBase64 } from '@overlap/crypto';
import { LogError } from './errors.js';
import { HASH_LENGTH } from './tree-hash.js';

export interface Checkpoint {
  /** The log's identity, e.g. `relay.forum.example/overlap`. */
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** Extension lines (NOT RECOMMENDED by the format; Overlap writes none). */
  extensions: string[];
}

export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, rootHash, extensions } = checkpoint;
  const bad = (detail: string) => new LogError('BAD_CHECKPOINT', `cannot write this checkpoint: ${detail}`);
  if (origin.length === 0 || origin.includes('\n')) throw bad('the origin must be one non-empty line');
  if (!Number.isSafeInteger(size) || size < 0) throw bad(`size ${size} is not a whole number`);
  if (!(rootHash instanceof Uint8Array) || rootHash.length !== HASH_LENGTH) throw bad('the root hash must be 32 bytes');
  if (extensions.some((line) => line.length === 0 || line.includes('\n')))
    throw bad('extension lines must be non-empty single lines');
  return [origin, String(size), toBase64(rootHash), ...extensions].map((line) => `${line}\n`).join('');
}

export function parseCheckpoint(text: string): Checkpoint {
  const bad = (detail: string) => new LogError('BAD_CHECKPOINT', `not a checkpoint: ${detail}`);
  if (typeof text !== 'string' || !text.endsWith('\n')) throw bad('the text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw bad('it needs an origin, a size and a root hash line');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw bad('the origin line is empty');
  if (!/^(?:0|[1-9][0-9]*)$/.test(sizeText)) throw bad('the size line is not a decimal number without leading zeros');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw bad('the size is too large');
  const rootHash = fromCanonicalBase64(rootText);
  if (rootHash === undefined || rootHash.length !== HASH_LENGTH) {
    throw bad('the root hash line is not the canonical base64 of 32 bytes');
  }
  if (extensions.some((line) => line.length === 0)) throw bad('an extension line is empty');
  return { origin, size, rootHash, extensions };
}
