/**
 * MinHash of a normalized prompt (spec/indicators.md §2, `prompt_template`, rules version 1): word
 * shingles (single words under rules version 1), a signature of `bands × rows` minimum hash values, and its bands, each of which becomes
 * one indicator value that goes through the exchange like any other. Two prompts whose shingle sets
 * have Jaccard similarity J agree on each signature row with probability J, on a band of r rows
 * with probability J^r; they "match" when at least `minBands` of the b bands are equal.
 *
 * The hash family is the textbook one: each shingle is hashed once, x = the first 4 bytes of
 * SHA-256 of its UTF-8, big-endian, mod p with p = 2^31 − 1; row i is h_i(x) = (a_i·x + b_i) mod p
 * with a_i, b_i from SHA-256 of a fixed label and i. Every product is computed exactly in doubles
 * (a_i is split into 16-bit halves), so any language gets the same integers. Parameters are fixed
 * per rules version: every lab must compute the same values.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

export interface MinHashParameters {
  /** Words per shingle. */
  shingleSize: number;
  /** b: bands, each one indicator value. */
  bands: number;
  /** r: signature rows per band. */
  rows: number;
  /** t: bands two prompts must share to match (the lab's aggregation; the relay never sees it). */
  minBands: number;
}

/**
 * Rules version 1's parameters: 1-word shingles (the prompt's distinct words), 64 bands of 2 rows, a
 * match at 10 shared bands. Chosen by `pnpm bench prompt-templates` (bench/README.md): of the
 * settings it sweeps, the strictest t that meets both targets on its corpus, ≥ 95 % of
 * same-template pairs matched and ≤ 1 % of pairs below Jaccard 0.3; 2-word shingles keep word order
 * but missed short prompts with a word or two changed (85 % of same-template pairs at t = 12).
 */
export const PROMPT_TEMPLATE_PARAMETERS: Readonly<MinHashParameters> = Object.freeze({
  shingleSize: 1,
  bands: 64,
  rows: 2,
  minBands: 10,
});

/** The Mersenne prime 2^31 − 1: every hash value is below it. */
export const MINHASH_PRIME = 2 ** 31 - 1;
const ROW_LABEL = 'overlap/prompt_template/v1/minhash/';

interface RowConstants {
  a: Float64Array;
  b: Float64Array;
  /** a_i's high and low 16 bits, for the exact products of promptSignature. */
  high: Float64Array;
  low: Float64Array;
}

const rowConstants = new Map<number, RowConstants>();

/** a_i, b_i for rows 0 … count − 1: a_i = 1 + (u32(S[0..4]) mod (p − 1)), b_i = u32(S[4..8]) mod p, S = SHA-256(label ‖ decimal i). */
export function minHashRows(count: number): { a: Float64Array; b: Float64Array } {
  const { a, b } = rowsOf(count);
  return { a, b };
}

function rowsOf(count: number): RowConstants {
  const cached = rowConstants.get(count);
  if (cached) return cached;
  const a = new Float64Array(count);
  const b = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const digest = sha256(utf8ToBytes(`${ROW_LABEL}${i}`));
    a[i] = 1 + (u32(digest, 0) % (MINHASH_PRIME - 1));
    b[i] = u32(digest, 4) % MINHASH_PRIME;
  }
  const rows = { a, b, high: a.map((v) => Math.floor(v / 65536)), low: a.map((v) => v % 65536) };
  rowConstants.set(count, rows);
  return rows;
}

/** The distinct shingles of a normalized prompt (its words are split at single spaces): runs of `shingleSize` words (all of them if fewer). */
export function promptShingles(
  normalized: string,
  parameters: MinHashParameters = PROMPT_TEMPLATE_PARAMETERS,
): string[] {
  const words = normalized.split(' ');
  const size = parameters.shingleSize;
  if (words.length <= size) return [words.join(' ')];
  const shingles = new Set<string>();
  for (let i = 0; i + size <= words.length; i++) shingles.add(words.slice(i, i + size).join(' '));
  return [...shingles];
}

/** x of a shingle: the first 4 bytes of SHA-256(UTF-8), big-endian, mod p. */
export function shingleHash(shingle: string): number {
  const known = shingleHashes.get(shingle);
  if (known !== undefined) return known;
  const x = u32(sha256(utf8ToBytes(shingle)), 0) % MINHASH_PRIME;
  if (shingleHashes.size >= SHINGLE_CACHE_SIZE) shingleHashes.clear();
  shingleHashes.set(shingle, x);
  return x;
}

/**
 * A campaign's prompts repeat the same few thousand words, so each word's SHA-256 is computed once
 * and kept; the cache is emptied when it reaches this many entries, which bounds its memory
 * (a few MB) whatever the input.
 */
const SHINGLE_CACHE_SIZE = 1 << 16;
const shingleHashes = new Map<string, number>();

/** The signature: for each of the b·r rows, the least h_i(x) over the prompt's shingles. */
export function promptSignature(
  normalized: string,
  parameters: MinHashParameters = PROMPT_TEMPLATE_PARAMETERS,
): Uint32Array {
  const count = parameters.bands * parameters.rows;
  const { high, low, b } = rowsOf(count);
  const signature = new Uint32Array(count).fill(MINHASH_PRIME);
  for (const shingle of promptShingles(normalized, parameters)) {
    const x = shingleHash(shingle);
    for (let i = 0; i < count; i++) {
      // (a·x + b) mod p, exact in doubles: a·x = a_hi·x·2^16 + a_lo·x with a_hi < 2^15, a_lo < 2^16,
      // so every intermediate stays below 2^53.
      const h = mersenne(mersenne((high[i] as number) * x) * 65536 + (low[i] as number) * x + (b[i] as number));
      if (h < (signature[i] as number)) signature[i] = h;
    }
  }
  return signature;
}

/**
 * v mod p for an integer 0 ≤ v < 2^53, without a division: v = q·2^31 + r ≡ q + r (mod 2^31 − 1),
 * and q + r < 2^31 + 2^22 needs at most one subtraction. Far faster than `%` on doubles.
 */
function mersenne(v: number): number {
  const q = Math.floor(v / 2147483648);
  const r = v - q * 2147483648 + q;
  return r >= MINHASH_PRIME ? r - MINHASH_PRIME : r;
}

/**
 * The b band values of a signature: band j is `jj:` (the index, two decimal digits or more) and
 * the r rows of band j as 8 lowercase hex digits each. These are what a lab sends, one indicator
 * value each.
 */
export function signatureBands(
  signature: Uint32Array,
  parameters: MinHashParameters = PROMPT_TEMPLATE_PARAMETERS,
): string[] {
  const bands: string[] = [];
  for (let j = 0; j < parameters.bands; j++) {
    let value = `${String(j).padStart(2, '0')}:`;
    for (let k = 0; k < parameters.rows; k++) value += hex8(signature[j * parameters.rows + k] as number);
    bands.push(value);
  }
  return bands;
}

/** The band values of a normalized prompt. */
export function promptBands(normalized: string, parameters: MinHashParameters = PROMPT_TEMPLATE_PARAMETERS): string[] {
  return signatureBands(promptSignature(normalized, parameters), parameters);
}

/** How many bands two signatures share (a band is shared when all its rows are equal). */
export function sharedBands(
  x: Uint32Array,
  y: Uint32Array,
  parameters: MinHashParameters = PROMPT_TEMPLATE_PARAMETERS,
): number {
  let shared = 0;
  for (let j = 0; j < parameters.bands; j++) {
    let equal = true;
    for (let k = 0; k < parameters.rows && equal; k++)
      equal = x[j * parameters.rows + k] === y[j * parameters.rows + k];
    if (equal) shared++;
  }
  return shared;
}

/** The Jaccard similarity that `shared` of b bands implies: (shared / b)^(1/r), to 3 decimals. */
export function impliedJaccard(shared: number, parameters: MinHashParameters = PROMPT_TEMPLATE_PARAMETERS): number {
  const fraction = Math.min(1, Math.max(0, shared / parameters.bands));
  return Math.round(fraction ** (1 / parameters.rows) * 1000) / 1000;
}

function u32(bytes: Uint8Array, at: number): number {
  return (
    (bytes[at] as number) * 2 ** 24 +
    ((bytes[at + 1] as number) << 16) +
    ((bytes[at + 2] as number) << 8) +
    (bytes[at + 3] as number)
  );
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}
