/**
 * C2SP signed-note v1.0.0 (c2sp.org/signed-note): a text signed by one or more keys.
 *
 *   <text, ending in a newline>
 *   <blank line>
 *   — <key name> <base64(4-byte key ID || signature)>      (one line per signature)
 *
 * Parsing is strict (the note arrives from the relay or from a file): UTF-8 text without control
 * characters other than newline, the text separated from the signatures by the last blank line,
 * key names non-empty without Unicode spaces or `+`, canonical standard base64, at most 100
 * signatures. Verification follows the spec: signatures from unknown keys (name and key ID) are
 * ignored; a signature from a known key must verify, else the whole note is rejected; at least one
 * known key must have signed, and every key the caller requires.
 */
import { concatBytes, fromCanonicalBase64, sha256, toBase64 } from '@overlap/crypto';
import { LogError } from './errors.js';

export const MAX_NOTE_SIGNATURES = 100;
const EM_DASH = '\u2014';
const encoder = new TextEncoder();

export interface NoteSignature {
  name: string;
  /** The 4-byte key ID. */
  keyId: Uint8Array;
  /** The signature bytes after the key ID. */
  signature: Uint8Array;
}

export interface SignedNote {
  /** The signed text, ending in a newline. */
  text: string;
  signatures: NoteSignature[];
}

export interface NoteSigner {
  readonly name: string;
  readonly keyId: Uint8Array;
  sign(text: Uint8Array): Uint8Array;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: Uint8Array;
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

/** key ID = SHA-256(key name || 0x0A || signature type || public key)[:4] */
export function noteKeyId(name: string, signatureType: number, publicKey: Uint8Array): Uint8Array {
  checkKeyName(name, (detail) => new LogError('BAD_KEY', detail));
  return sha256(concatBytes(encoder.encode(`${name}\n`), Uint8Array.of(signatureType), publicKey)).subarray(0, 4);
}

export function parseSignedNote(note: string): SignedNote {
  const bad = (detail: string) => new LogError('BAD_NOTE', `not a signed note: ${detail}`);
  checkNoteCharacters(note, bad);
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw bad('no blank line separates the text from the signatures');
  const text = note.slice(0, split + 1);
  return { text, signatures: signatureLines(note.slice(split + 2), bad) };
}

/**
 * Signature lines alone (`— <name> <base64>\n`, one or more), as a witness answers
 * `add-checkpoint` (C2SP tlog-witness): the same rules as a note's own signature lines.
 */
export function parseSignatureLines(lines: string): NoteSignature[] {
  const bad = (detail: string) => new LogError('BAD_NOTE', `not signature lines: ${detail}`);
  checkNoteCharacters(lines, bad);
  return signatureLines(lines, bad);
}

function signatureLines(lines: string, bad: (detail: string) => LogError): NoteSignature[] {
  if (!lines.endsWith('\n')) throw bad('the last signature line does not end with a newline');
  const each = lines.slice(0, -1).split('\n');
  if (each.length > MAX_NOTE_SIGNATURES) throw bad(`more than ${MAX_NOTE_SIGNATURES} signatures`);
  return each.map((line, i) => parseSignatureLine(line, i + 1, bad));
}

export function formatSignedNote(note: SignedNote): string {
  if (!note.text.endsWith('\n')) throw new LogError('BAD_NOTE', 'a note text must end with a newline');
  if (note.signatures.length === 0) throw new LogError('BAD_NOTE', 'a signed note needs at least one signature');
  const lines = note.signatures.map((s) => `${EM_DASH} ${s.name} ${toBase64(concatBytes(s.keyId, s.signature))}\n`);
  return `${note.text}\n${lines.join('')}`;
}

/** Signs `text` (which must end with a newline) with every signer, in order. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  if (!text.endsWith('\n')) throw new LogError('BAD_NOTE', 'a note text must end with a newline');
  checkNoteCharacters(text, (detail) => new LogError('BAD_NOTE', `cannot sign this text: ${detail}`));
  const bytes = encoder.encode(text);
  return formatSignedNote({
    text,
    signatures: signers.map((signer) => ({ name: signer.name, keyId: signer.keyId, signature: signer.sign(bytes) })),
  });
}

export interface VerifyNoteOptions {
  /** Key names that must have signed (each one a known verifier). Default: any one known key. */
  require?: readonly string[];
}

export interface VerifiedNote {
  text: string;
  /** Names of the known keys whose signatures verified, in note order. */
  verifiedBy: string[];
  /** Every signature line, known or not (cosignatures for other verifiers, for instance). */
  signatures: NoteSignature[];
}

export function verifySignedNote(
  note: string,
  verifiers: readonly NoteVerifier[],
  options: VerifyNoteOptions = {},
): VerifiedNote {
  const parsed = parseSignedNote(note);
  const bytes = encoder.encode(parsed.text);
  const verifiedBy: string[] = [];
  for (const signature of parsed.signatures) {
    const verifier = verifiers.find((v) => v.name === signature.name && equalIds(v.keyId, signature.keyId));
    if (!verifier) continue; // unknown keys are ignored, even when they share a name or an ID
    if (!verifier.verify(bytes, signature.signature)) {
      throw new LogError('NOTE_NOT_VERIFIED', `the signature of known key ${signature.name} does not verify`);
    }
    verifiedBy.push(signature.name);
  }
  if (verifiedBy.length === 0) throw new LogError('NOTE_NOT_VERIFIED', 'no known key signed this note');
  for (const name of options.require ?? []) {
    if (!verifiedBy.includes(name))
      throw new LogError('NOTE_NOT_VERIFIED', `required signer ${name} did not sign this note`);
  }
  return { text: parsed.text, verifiedBy, signatures: parsed.signatures };
}

/**
 * The first of `lines` that is `verifier`'s (its name and key ID) and whose signature verifies
 * over `text` on its own, or undefined: for a reader that counts one key's signature without
 * letting a bad or extra line of the same key (a lying cosigner's) decide for the others.
 */
export function verifiedLineOf(
  text: string,
  lines: readonly NoteSignature[],
  verifier: NoteVerifier,
): NoteSignature | undefined {
  const bytes = encoder.encode(text);
  return lines.find(
    (line) =>
      line.name === verifier.name && equalIds(verifier.keyId, line.keyId) && verifier.verify(bytes, line.signature),
  );
}

function checkNoteCharacters(text: string, bad: (detail: string) => LogError): void {
  if (typeof text !== 'string') throw bad('expected text');
  if (hasControlCharacter(text, true)) throw bad('it contains a control character other than newline');
  if (/\p{Surrogate}/u.test(text)) throw bad('it is not well-formed Unicode');
}

function parseSignatureLine(line: string, n: number, bad: (detail: string) => LogError): NoteSignature {
  const match = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/u.exec(line);
  if (!match) throw bad(`signature line ${n} is not "— <name> <base64>"`);
  const [, name, encoded] = match as unknown as [string, string, string];
  checkKeyName(name, (detail) => bad(`signature line ${n}: ${detail}`));
  const bytes = fromCanonicalBase64(encoded);
  if (bytes === undefined) throw bad(`signature line ${n} is not canonical base64`);
  if (bytes.length < 5) throw bad(`signature line ${n} is too short for a key ID and a signature`);
  return { name, keyId: Uint8Array.from(bytes.subarray(0, 4)), signature: Uint8Array.from(bytes.subarray(4)) };
}

function checkKeyName(name: string, fail: (detail: string) => LogError): void {
  if (typeof name !== 'string' || name.length === 0 || /[\s+]/u.test(name) || hasControlCharacter(name, false)) {
    throw fail('a key name must be non-empty, without spaces or "+"');
  }
}

function equalIds(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === 4 && b.length === 4 && a.every((byte, i) => byte === b[i]);
}

/** True if `text` has a character below U+0020 (other than newline when `newlineAllowed`). */
function hasControlCharacter(text: string, newlineAllowed: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && !(newlineAllowed && c === 0x0a)) return true;
  }
  return false;
}
