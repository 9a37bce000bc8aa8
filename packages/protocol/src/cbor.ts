/**
 * Deterministic CBOR (RFC 8949 §4.2.1, core deterministic encoding) for every message of the
 * protocol, on a small data model: safe integers, text strings, byte strings, booleans, null,
 * arrays, and maps with text keys. Encoding goes through cbor-x with map keys sorted by their
 * encoded bytes and integers in their shortest form.
 *
 * Decoding is hostile-input parsing: the bytes come from the relay or another lab. Before cbor-x
 * sees them, a validating scan rejects (with the byte offset) indefinite lengths, non-shortest
 * integer and length encodings, tags, floats and other simple values, map keys that are not text
 * or not strictly increasing (duplicates included), invalid UTF-8, nesting deeper than the limit,
 * strings, byte strings, arrays or maps over their limits, and trailing bytes; the scan allocates
 * nothing in proportion to a claimed length. What it admits is exactly the deterministic encoding of
 * a value (re-encoding gives the same bytes; tested by mutating valid encodings); the one map key a
 * JavaScript object cannot hold, `__proto__`, is refused. Signatures and hashes are always computed
 * over the bytes as received. Byte strings in the decoded value are views into the input (no
 * copies): neither may be modified afterwards.
 */
import { Decoder, Encoder } from 'cbor-x';
import { ProtocolError } from './errors.js';

export type CborValue = number | string | boolean | null | Uint8Array | CborValue[] | { [key: string]: CborValue };

export interface CborLimits {
  maxDepth: number;
  maxByteStringLength: number;
  maxTextLength: number;
  maxArrayLength: number;
  maxMapSize: number;
}

export const DEFAULT_CBOR_LIMITS: Readonly<CborLimits> = {
  maxDepth: 16,
  // A relay's result rows for a 2,000,000-item set can be tens of MB in one envelope. The scan never
  // allocates by a claimed length (a string must fit in the input), so these bound work, not memory.
  maxByteStringLength: 1024 * 1024 * 1024,
  maxTextLength: 64 * 1024,
  maxArrayLength: 4_000_000,
  maxMapSize: 64,
};

const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: false,
  variableMapSize: true,
  tagUint8Array: false,
  pack: false,
  largeBigIntToFloat: false,
});
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true }); // 64-bit integers come back as BigInt
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function encodeDeterministic(value: CborValue): Uint8Array {
  return Uint8Array.from(encoder.encode(prepare(value, '')));
}

export function decodeDeterministic(bytes: Uint8Array, limits: CborLimits = DEFAULT_CBOR_LIMITS): CborValue {
  scanWhole(bytes, limits);
  // The scan admitted only the deterministic encoding of a value of this data model, so the value
  // re-encodes to exactly these bytes (a property test mutates valid encodings to hold the scan to
  // that); re-encoding here as well would double the cost of every large chunk.
  return normalize(decoder.decode(bytes));
}

/**
 * Decodes a map as decodeDeterministic does (the whole input is validated first), except that the
 * array under `key` is left in the bytes: `value` holds an empty array there, and `items()` decodes
 * its elements one at a time. A reader that handles each element before asking for the next holds
 * one at a time, so 300,000 result rows are never all in memory, each dying young.
 */
export function decodeWithLazyArray(
  bytes: Uint8Array,
  key: string,
  limits: CborLimits = DEFAULT_CBOR_LIMITS,
): { value: Record<string, CborValue>; count: number; items(): Generator<CborValue, void, undefined> } {
  scanWhole(bytes, limits);
  const map = readHead(bytes, 0);
  if (map.major !== 5) fail(0, 'expected a map');
  const value: Record<string, CborValue> = {};
  let at = map.next;
  let first = 0;
  let count = 0;
  for (let i = 0; i < map.argument; i++) {
    const name = readHead(bytes, at); // the scan admitted only text keys
    const text = utf8.decode(bytes.subarray(name.next, name.next + name.argument));
    const start = name.next + name.argument;
    at = scanItem(bytes, start, 1, limits);
    const head = readHead(bytes, start);
    if (text === key && head.major === 4) {
      value[text] = [];
      first = head.next;
      count = head.argument;
    } else {
      value[text] = normalize(decoder.decode(bytes.subarray(start, at)));
    }
  }
  return {
    value,
    count,
    *items() {
      let p = first;
      for (let i = 0; i < count; i++) {
        const next = scanItem(bytes, p, 2, limits);
        yield normalize(decoder.decode(bytes.subarray(p, next)));
        p = next;
      }
    },
  };
}

/** Validates `bytes` as exactly one deterministic item of this data model (throws BAD_ENCODING). */
function scanWhole(bytes: Uint8Array, limits: CborLimits): void {
  if (!(bytes instanceof Uint8Array)) throw new ProtocolError('BAD_ENCODING', 'expected bytes');
  const end = scanItem(bytes, 0, 0, limits);
  if (end !== bytes.length) fail(end, `${bytes.length - end} trailing byte(s) after the value`);
}

/**
 * cbor-x input for `value`: maps in key order, large integers as BigInt. The fast path builds no
 * error paths (a result of a million rows would pay for a million strings); when it meets a value
 * CBOR here cannot carry, the slow path walks again to name where it is.
 */
function prepare(value: CborValue, path: string): unknown {
  try {
    return prepareFast(value);
  } catch (error) {
    if (error !== UNENCODABLE) throw error;
    prepareSlow(value, path);
    throw new ProtocolError('UNENCODABLE', `${path || 'value'} cannot be encoded`);
  }
}

const UNENCODABLE = Symbol('unencodable');

function prepareFast(value: CborValue): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw UNENCODABLE;
    return Math.abs(value) > 0xffffffff ? BigInt(value) : value;
  }
  if (value instanceof Uint8Array) return value.constructor === Uint8Array ? value : Uint8Array.from(value);
  if (Array.isArray(value)) return value.map(prepareFast);
  if (typeof value === 'object') {
    const shape = shapeOf(Object.keys(value));
    if (shape.asObject) {
      // Plain objects keep string keys in insertion order, which cbor-x follows: no Map needed.
      const out: Record<string, unknown> = {};
      for (const key of shape.sorted) {
        const item = (value as Record<string, CborValue>)[key];
        if (item === undefined) throw UNENCODABLE;
        out[key] = prepareFast(item);
      }
      return out;
    }
    const out = new Map<string, unknown>();
    for (const key of shape.sorted) {
      const item = (value as Record<string, CborValue>)[key];
      if (item === undefined) throw UNENCODABLE;
      out.set(key, prepareFast(item));
    }
    return out;
  }
  throw UNENCODABLE;
}

/** Finds and names what cannot be encoded (only called once the fast path has failed). */
function prepareSlow(value: CborValue, path: string): void {
  if (value === null || typeof value === 'boolean' || typeof value === 'string' || value instanceof Uint8Array) return;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new ProtocolError('UNENCODABLE', `${path || 'value'}: ${value} is not a safe integer`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      prepareSlow(item, `${path}[${i}]`);
    });
    return;
  }
  if (typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) throw new ProtocolError('UNENCODABLE', `${path}.${key} is undefined`);
      prepareSlow(item, path ? `${path}.${key}` : key);
    }
    return;
  }
  throw new ProtocolError('UNENCODABLE', `${path || 'value'}: ${typeof value} cannot be encoded`);
}

/** Key order of an object shape, cached: a million rows share one or two shapes. */
const shapes = new Map<string, { sorted: string[]; asObject: boolean }>();
function shapeOf(keys: string[]): { sorted: string[]; asObject: boolean } {
  const id = JSON.stringify(keys);
  let shape = shapes.get(id);
  if (shape === undefined) {
    const sorted = [...keys].sort((a, b) => compareBytes(encodedKey(a), encodedKey(b)));
    // Integer-like keys would be reordered by any plain object: those shapes go through a Map.
    shape = { sorted, asObject: !keys.some((key) => /^(0|[1-9][0-9]*)$/.test(key)) };
    if (shapes.size < 4096) shapes.set(id, shape);
  }
  return shape;
}

const PROTO_KEY = Uint8Array.from([0x69, ...new TextEncoder().encode('__proto__')]);

/** Map keys are few and repeat (a result has a million rows with the same two keys): encode each once. */
const keyCache = new Map<string, Uint8Array>();
function encodedKey(key: string): Uint8Array {
  let bytes = keyCache.get(key);
  if (bytes === undefined) {
    bytes = Uint8Array.from(encoder.encode(key));
    if (keyCache.size < 4096) keyCache.set(key, bytes);
  }
  return bytes;
}

/**
 * cbor-x's output made into this data model, in place: cbor-x built every array and object afresh
 * for this decode, so they are reused rather than copied (a result of 300,000 rows is then built
 * once, not twice).
 */
function normalize(value: unknown): CborValue {
  if (typeof value === 'bigint') return Number(value); // the scan admitted only safe integers
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = normalize(value[i]);
    return value as CborValue[];
  }
  // A view into the input, not a copy: decoded values and the bytes they came from are both treated
  // as immutable, and a 2 MB tag chunk is then not copied once more per decode.
  if (value instanceof Uint8Array) {
    // cbor-x hands out Buffer views; callers get plain Uint8Array views of the same memory (Buffer's
    // slice() semantics differ, and one class keeps hot loops over tags monomorphic).
    return value.constructor === Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of Object.keys(object)) object[key] = normalize(object[key]);
    return object as CborValue;
  }
  return value as CborValue;
}

function fail(offset: number, detail: string): never {
  throw new ProtocolError('BAD_ENCODING', `not deterministic CBOR at byte ${offset}: ${detail}`);
}

/** Validates one item starting at `at`; returns the offset just after it. */
function scanItem(bytes: Uint8Array, at: number, depth: number, limits: CborLimits): number {
  if (depth >= limits.maxDepth) fail(at, `nesting deeper than ${limits.maxDepth} levels`);
  const { major, argument, next } = readHead(bytes, at);
  switch (major) {
    case 0:
      if (argument > Number.MAX_SAFE_INTEGER) fail(at, 'an integer beyond 2^53 - 1');
      return next;
    case 1: // the value is -1 - argument
      if (argument > Number.MAX_SAFE_INTEGER - 1) fail(at, 'an integer below -(2^53 - 1)');
      return next;
    case 2:
    case 3: {
      const limit = major === 2 ? limits.maxByteStringLength : limits.maxTextLength;
      // the length comes from the input: bound it before using it
      if (argument > limit) fail(at, `a ${major === 2 ? 'byte string' : 'text string'} longer than ${limit}`);
      const end = next + argument;
      if (end > bytes.length) fail(at, 'a string runs past the end of the input');
      if (major === 3) {
        try {
          utf8.decode(bytes.subarray(next, end));
        } catch {
          fail(at, 'a text string that is not valid UTF-8');
        }
      }
      return end;
    }
    case 4: {
      if (argument > limits.maxArrayLength) fail(at, `an array longer than ${limits.maxArrayLength}`);
      let position = next;
      for (let i = 0; i < argument; i++) position = scanItem(bytes, position, depth + 1, limits);
      return position;
    }
    case 5: {
      if (argument > limits.maxMapSize) fail(at, `a map with more than ${limits.maxMapSize} entries`);
      let position = next;
      let previousKey: Uint8Array | undefined;
      for (let i = 0; i < argument; i++) {
        if (position >= bytes.length) fail(position, 'a map runs past the end of the input');
        if ((bytes[position] as number) >> 5 !== 3) fail(position, 'a map key that is not a text string');
        const keyEnd = scanItem(bytes, position, depth + 1, limits);
        const key = bytes.subarray(position, keyEnd);
        if (previousKey && compareBytes(previousKey, key) >= 0) fail(position, 'map keys out of order or repeated');
        // JavaScript objects cannot hold this key faithfully (cbor-x renames it): refuse it outright.
        if (compareBytes(key, PROTO_KEY) === 0) fail(position, 'the map key __proto__ is not allowed');
        previousKey = key;
        position = scanItem(bytes, keyEnd, depth + 1, limits);
      }
      return position;
    }
    case 6:
      return fail(at, 'tags are not used by this protocol');
    default: {
      // major 7: only false (0xf4), true (0xf5) and null (0xf6)
      const initial = bytes[at] as number;
      if (initial !== 0xf4 && initial !== 0xf5 && initial !== 0xf6)
        fail(at, 'a float or a simple value other than false, true, null');
      return next;
    }
  }
}

/**
 * The head of an item. `argument` is a number: exact up to 2^53 − 1, and Infinity for anything
 * larger (which every caller rejects), so the scan needs no BigInt arithmetic per item.
 */
function readHead(bytes: Uint8Array, at: number): { major: number; argument: number; next: number } {
  if (at >= bytes.length) fail(at, 'unexpected end of input');
  const initial = bytes[at] as number;
  const major = initial >> 5;
  const info = initial & 0x1f;
  if (info < 24) return { major, argument: info, next: at + 1 };
  if (info === 31) fail(at, 'an indefinite length');
  if (info > 27) fail(at, 'a reserved additional-information value');
  if (major === 7) return { major, argument: 0, next: at + 1 }; // a float: rejected by the caller
  const size = 1 << (info - 24);
  if (at + 1 + size > bytes.length) fail(at, 'unexpected end of input');
  const p = at + 1;
  let argument: number;
  let minimum: number;
  if (size === 1) {
    argument = bytes[p] as number;
    minimum = 24;
  } else if (size === 2) {
    argument = ((bytes[p] as number) << 8) | (bytes[p + 1] as number);
    minimum = 0x100;
  } else if (size === 4) {
    argument = read32(bytes, p);
    minimum = 0x10000;
  } else {
    const high = read32(bytes, p);
    const low = read32(bytes, p + 4);
    if (high === 0) fail(at, 'a length or integer not in its shortest form');
    // above 2^53 − 1: not representable exactly, and beyond every limit here
    argument = high > 0x1fffff ? Number.POSITIVE_INFINITY : high * 0x100000000 + low;
    minimum = 0;
  }
  if (argument < minimum) fail(at, 'a length or integer not in its shortest form');
  return { major, argument, next: p + size };
}

function read32(bytes: Uint8Array, p: number): number {
  return (
    (bytes[p] as number) * 0x1000000 +
    (((bytes[p + 1] as number) << 16) | ((bytes[p + 2] as number) << 8) | (bytes[p + 3] as number))
  );
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
