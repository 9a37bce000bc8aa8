/**
 * Is the start of a file text at all? A workbook saved as .xlsx (a ZIP archive) or .xls (an OLE
 * compound file), a UTF-16 export, a compressed file or a database would otherwise fail as
 * "invalid UTF-8 near byte 0" — or, worse, decode, and every record be rejected. Recognised by
 * their signatures (the magic numbers of each format's own specification: PKWARE APPNOTE 4.3.7,
 * [MS-CFB] 2.2, RFC 1952 §2.3.1, ISO 32000 §7.5.2, sqlite.org/fileformat.html §1.3, Unicode §23.8
 * for the byte-order marks), and by NUL bytes, which no text file holds.
 */
import { IndicatorError } from '../errors.js';

export interface NotText {
  /** What the file looks like, as a clause: "it starts like a ZIP archive (an .xlsx workbook?)". */
  looksLike: string;
  /** What to do instead. */
  advice: string;
}

const EXPORT = 'export it as CSV, UTF-8';

const SIGNATURES: { bytes: number[]; looksLike: string; advice: string }[] = [
  { bytes: [0x50, 0x4b, 0x03, 0x04], looksLike: 'a ZIP archive (an .xlsx or .ods workbook?)', advice: EXPORT },
  { bytes: [0x50, 0x4b, 0x05, 0x06], looksLike: 'an empty ZIP archive', advice: EXPORT },
  {
    bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
    looksLike: 'an OLE compound file (an .xls workbook?)',
    advice: EXPORT,
  },
  { bytes: [0xff, 0xfe], looksLike: 'UTF-16 text (a little-endian byte-order mark)', advice: 'save it as UTF-8' },
  { bytes: [0xfe, 0xff], looksLike: 'UTF-16 text (a big-endian byte-order mark)', advice: 'save it as UTF-8' },
  { bytes: [0x1f, 0x8b], looksLike: 'a gzip archive', advice: 'decompress it first' },
  { bytes: [0x25, 0x50, 0x44, 0x46, 0x2d], looksLike: 'a PDF document', advice: EXPORT },
  {
    bytes: [...new TextEncoder().encode('SQLite format 3'), 0],
    looksLike: 'an SQLite database',
    advice: 'export the table as CSV, UTF-8',
  },
];

function startsWith(head: Uint8Array, bytes: number[]): boolean {
  return head.length >= bytes.length && bytes.every((b, i) => head[i] === b);
}

/** Why `head` (the first bytes of a file) is not text, or undefined when it may be. */
export function notTextReason(head: Uint8Array): NotText | undefined {
  for (const { bytes, looksLike, advice } of SIGNATURES) {
    if (startsWith(head, bytes)) return { looksLike: `it starts like ${looksLike}`, advice };
  }
  const nul = head.indexOf(0);
  if (nul >= 0) {
    return {
      looksLike: `it holds a NUL byte at byte ${nul} (binary data, or UTF-16 text without a byte-order mark?)`,
      advice: EXPORT,
    };
  }
  return undefined;
}

/**
 * Throws `BAD_FILE` when `head` is not the start of a text file, naming the file (or "the input"
 * when `file` is not given) and what it looks like.
 */
export function assertTextFile(head: Uint8Array, file?: string): void {
  const reason = notTextReason(head);
  if (reason === undefined) return;
  const what = `${reason.looksLike}; ${reason.advice}`;
  throw new IndicatorError('BAD_FILE', `${file ?? 'the input'} is not a text file: ${what}`, {
    details: { ...(file !== undefined && { file }), reason: `not a text file: ${what}` },
  });
}
