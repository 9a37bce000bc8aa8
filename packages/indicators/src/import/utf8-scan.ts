/**
 * Where UTF-8 goes wrong: the first byte of an ill-formed sequence (Unicode 16.0 §3.9, Table 3-7,
 * "Well-Formed UTF-8 Byte Sequences"), so a file-level error can name the exact byte and line
 * instead of the start of the chunk that held it. Only called once decoding has already failed,
 * so it favours being plainly checkable over speed.
 */

/** [lowest, highest] allowed for the second byte after each lead byte; later bytes are 80–BF. */
function secondByteRange(lead: number): [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f]; // no UTF-16 surrogates
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f]; // nothing above U+10FFFF
  return [0x80, 0xbf];
}

/** How many bytes a sequence starting with `lead` has, or 0 if `lead` cannot start one. */
function sequenceLength(lead: number): number {
  if (lead <= 0x7f) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/**
 * The index in `bytes` (which starts on a character boundary) of the first byte of the first
 * ill-formed sequence; a sequence cut off by the end counts only when `final` (more bytes may
 * follow otherwise). -1 when every sequence is well formed.
 */
export function firstInvalidUtf8(bytes: Uint8Array, final: boolean): number {
  let at = 0;
  while (at < bytes.length) {
    const lead = bytes[at] as number;
    const length = sequenceLength(lead);
    if (length === 0) return at;
    for (let k = 1; k < length; k++) {
      if (at + k >= bytes.length) return final ? at : -1;
      const byte = bytes[at + k] as number;
      const [low, high] = k === 1 ? secondByteRange(lead) : [0x80, 0xbf];
      if (byte < low || byte > high) return at;
    }
    at += length;
  }
  return -1;
}

/**
 * Where the last character of `bytes` starts if it is cut off by the end of `bytes` (a well-formed
 * prefix of a longer sequence), else `bytes.length`: the point from which decoding resumes when
 * the next chunk arrives.
 */
export function incompleteTailStart(bytes: Uint8Array): number {
  for (let back = 1; back <= 3 && back <= bytes.length; back++) {
    const byte = bytes[bytes.length - back] as number;
    if (byte < 0x80 || byte >= 0xc0) {
      // a lead byte (or ASCII): is its sequence longer than what is left?
      return sequenceLength(byte) > back ? bytes.length - back : bytes.length;
    }
  }
  return bytes.length;
}
