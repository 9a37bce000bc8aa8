/**
 * A strict subset of Structured Field Values for HTTP (RFC 8941): the Dictionary (§3.2) whose
 * members are Items or Inner Lists (§3.1.1), with Parameters (§3.1.2), and three bare item types:
 * Integer (§3.3.1), String (§3.3.3) and Byte Sequence (§3.3.5). Parsing follows §4.2, serializing
 * §4.1. That is all that Signature-Input, Signature (RFC 9421 §4) and Content-Digest (RFC 9530 §2)
 * need in Overlap's profile (see http-signature.ts).
 *
 * Hand-written rather than taken from a library because the profile needs a tiny strict subset,
 * and it keeps @overlap/protocol free of dependencies beyond those docs/architecture.md §2 allows.
 *
 * Every value parsed here comes from the peer. The parser is stricter than RFC 8941 where
 * leniency would let two different field values mean the same thing:
 *   - Tokens, Decimals, Booleans, Dates and Display Strings fail (unsupported, not skipped);
 *   - a repeated dictionary or parameter key fails (§4.2.2 would silently keep the last one);
 *   - a Byte Sequence must be canonical padded base64 (§4.2.7 only SHOULD NOT fail on missing
 *     padding or non-zero pad bits; we do fail).
 * Every field parsed or serialized here is a header of the request-signature profile, so a failure
 * either way is the protocol's SIGNATURE_MALFORMED: text that is not a field of the supported subset
 * (the offset is in the message), or a value that cannot be serialized (§4.1: an out-of-range
 * integer, a non-ASCII string, a bad key).
 */
import { fromCanonicalBase64, toBase64 } from '@overlap/crypto';
import { ProtocolError } from './errors.js';

/** An Integer (a safe integer, at most 15 digits), a String, or a Byte Sequence. */
export type BareItem = number | string | Uint8Array;
/** Parameters in the order they appear: order is significant in serialization. */
export type Parameters = readonly (readonly [key: string, value: BareItem])[];

export interface Item {
  kind: 'item';
  value: BareItem;
  params: Parameters;
}

export interface InnerList {
  kind: 'inner-list';
  items: readonly Item[];
  params: Parameters;
}

export type DictionaryMember = Item | InnerList;

const MAX_INTEGER = 999_999_999_999_999;
const KEY = /^[a-z*][a-z0-9_\-.*]*$/;

/** RFC 8941 §4.2 with §4.2.2 for the top level: a Dictionary, members kept in order. */
export function parseDictionary(text: string): Map<string, DictionaryMember> {
  const p = new Parser(text);
  p.skip(' ');
  const dictionary = new Map<string, DictionaryMember>();
  while (!p.done()) {
    const keyAt = p.at;
    const key = p.key();
    if (dictionary.has(key)) throw p.fail(`repeated dictionary key "${key}"`, keyAt);
    // A member without "=" is the Boolean true: not in the subset.
    if (p.peek() !== '=') throw p.fail(`dictionary member "${key}" has no value`);
    p.at++;
    dictionary.set(key, p.peek() === '(' ? p.innerList() : { kind: 'item', value: p.bareItem(), params: p.params() });
    p.skip(' \t');
    if (p.done()) break;
    if (p.peek() !== ',') throw p.fail('expected "," between dictionary members');
    p.at++;
    p.skip(' \t');
    if (p.done()) throw p.fail('trailing "," in a dictionary');
  }
  return dictionary;
}

/** RFC 8941 §4.1.1.1 and §4.1.1.2: `("a" "b");k=v`. */
export function serializeInnerList(list: InnerList): string {
  const items = list.items.map((item) => serializeBareItem(item.value) + serializeParams(item.params));
  return `(${items.join(' ')})${serializeParams(list.params)}`;
}

/** RFC 8941 §4.1.2: `;key=value` for each parameter, in order. */
export function serializeParams(params: Parameters): string {
  return params
    .map(([key, value]) => {
      if (!KEY.test(key)) throw malformed(`"${key}" is not a valid key`);
      return `;${key}=${serializeBareItem(value)}`;
    })
    .join('');
}

/** RFC 8941 §4.1.3 (bare items), §4.1.4 (Integer), §4.1.6 (String), §4.1.8 (Byte Sequence). */
export function serializeBareItem(value: BareItem): string {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || Math.abs(value) > MAX_INTEGER) {
      throw malformed(`${value} is not an integer of at most 15 digits`);
    }
    return String(value);
  }
  if (typeof value === 'string') {
    if (!/^[\x20-\x7e]*$/.test(value)) {
      throw malformed('a string may hold only printable ASCII characters');
    }
    return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  }
  return `:${toBase64(value)}:`;
}

class Parser {
  at = 0;

  constructor(private readonly text: string) {}

  done(): boolean {
    return this.at >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.at];
  }

  skip(chars: string): void {
    while (!this.done() && chars.includes(this.text[this.at] as string)) this.at++;
  }

  fail(message: string, at = this.at): ProtocolError {
    return malformed(`${message} (at offset ${at})`);
  }

  /** §4.2.3.3 */
  key(): string {
    const match = /^[a-z*][a-z0-9_\-.*]*/.exec(this.text.slice(this.at));
    if (match === null) throw this.fail('expected a key (lowercase letter or "*")');
    this.at += match[0].length;
    return match[0];
  }

  /** §4.2.1.2 */
  innerList(): InnerList {
    this.at++; // "("
    const items: Item[] = [];
    for (;;) {
      this.skip(' ');
      if (this.done()) throw this.fail('unterminated inner list');
      if (this.peek() === ')') {
        this.at++;
        return { kind: 'inner-list', items, params: this.params() };
      }
      items.push({ kind: 'item', value: this.bareItem(), params: this.params() });
      const next = this.peek();
      if (next !== ' ' && next !== ')') throw this.fail('expected " " or ")" in an inner list');
    }
  }

  /** §4.2.3.2 */
  params(): Parameters {
    const params: [string, BareItem][] = [];
    while (this.peek() === ';') {
      this.at++;
      this.skip(' ');
      const keyAt = this.at;
      const key = this.key();
      if (params.some(([k]) => k === key)) throw this.fail(`repeated parameter "${key}"`, keyAt);
      if (this.peek() !== '=') throw this.fail(`parameter "${key}" has no value`);
      this.at++;
      params.push([key, this.bareItem()]);
    }
    return params;
  }

  /** §4.2.3.1, restricted to Integer, String and Byte Sequence. */
  bareItem(): BareItem {
    const c = this.peek();
    if (c === '"') return this.string();
    if (c === ':') return this.byteSequence();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.integer();
    throw this.fail('expected an integer, a string or a byte sequence');
  }

  /** §4.2.4, without Decimals: a "." after the digits is left for the caller to reject. */
  integer(): number {
    const match = /^-?([0-9]*)/.exec(this.text.slice(this.at)) as RegExpExecArray;
    const digits = match[1] as string;
    if (digits.length === 0) throw this.fail('expected a digit');
    // the peer chooses the length: bound it before converting
    if (digits.length > 15) throw this.fail('an integer has at most 15 digits');
    this.at += match[0].length;
    const value = Number(match[0]);
    return value === 0 ? 0 : value; // no -0
  }

  /** §4.2.5 */
  string(): string {
    this.at++; // opening quote
    let out = '';
    while (!this.done()) {
      const c = this.text[this.at++] as string;
      if (c === '\\') {
        const escaped = this.text[this.at++];
        if (escaped !== '"' && escaped !== '\\') throw this.fail('only \\" and \\\\ are escapes', this.at - 1);
        out += escaped;
      } else if (c === '"') {
        return out;
      } else if (c < '\x20' || c > '\x7e') {
        throw this.fail('a string may hold only printable ASCII characters', this.at - 1);
      } else {
        out += c;
      }
    }
    throw this.fail('unterminated string');
  }

  /** §4.2.7, strict: canonical padded base64 only. */
  byteSequence(): Uint8Array {
    const start = ++this.at;
    const end = this.text.indexOf(':', start);
    if (end < 0) throw this.fail('unterminated byte sequence');
    const bytes = fromCanonicalBase64(this.text.slice(start, end));
    if (bytes === undefined) throw this.fail('a byte sequence must be canonical padded base64', start);
    this.at = end + 1;
    return bytes;
  }
}

/** RFC 4648 §4 base64 with padding. */
function malformed(message: string): ProtocolError {
  return new ProtocolError('SIGNATURE_MALFORMED', message);
}
