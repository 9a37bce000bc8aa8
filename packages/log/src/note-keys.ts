/**
 * Ed25519 keys for signed notes: the log's own checkpoint signatures (signature type 0x01,
 * c2sp.org/signed-note) and timestamped witness cosignatures (type 0x04, c2sp.org/tlog-cosignature
 * v1.0.1): signature = u64 timestamp (big-endian) || Ed25519 over
 *   "cosignature/v1\n" || "time <timestamp>\n" || <checkpoint note text>.
 * The log package does no I/O and reads no clock: a cosigner is given its timestamp.
 */
import {
  assertPublicKey,
  concatBytes,
  fromCanonicalBase64,
  sign,
  signingPublicKey,
  toBase64,
  toHex,
  verify,
} from '@overlap/crypto';
import { LogError } from './errors.js';
import { type NoteSigner, type NoteVerifier, noteKeyId } from './signed-note.js';

export const ED25519_NOTE_SIGNATURE_TYPE = 0x01;
export const ED25519_COSIGNATURE_TYPE = 0x04;
const encoder = new TextEncoder();

export function ed25519NoteSigner(name: string, secretKey: Uint8Array): NoteSigner {
  const publicKey = signingPublicKey(secretKey);
  return {
    name,
    keyId: noteKeyId(name, ED25519_NOTE_SIGNATURE_TYPE, publicKey),
    sign: (text) => sign(secretKey, text),
  };
}

export function ed25519NoteVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  checkPublicKey(publicKey);
  return {
    name,
    keyId: noteKeyId(name, ED25519_NOTE_SIGNATURE_TYPE, publicKey),
    verify: (text, signature) => signature.length === 64 && verify(publicKey, text, signature),
  };
}

/** A witness cosigner that signs with the given POSIX `timestamp` (seconds). */
export function ed25519Cosigner(name: string, secretKey: Uint8Array, timestamp: number): NoteSigner {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new LogError('BAD_KEY', `a cosignature timestamp must be whole seconds since the epoch, got ${timestamp}`);
  }
  const publicKey = signingPublicKey(secretKey);
  return {
    name,
    keyId: noteKeyId(name, ED25519_COSIGNATURE_TYPE, publicKey),
    sign(text) {
      const stamp = new Uint8Array(8);
      new DataView(stamp.buffer).setBigUint64(0, BigInt(timestamp), false);
      return concatBytes(stamp, sign(secretKey, cosignedMessage(timestamp, text)));
    },
  };
}

export interface CosignatureVerifier extends NoteVerifier {
  /**
   * The timestamp of the last cosignature this verifier accepted (seconds since the epoch), if
   * any: one number, not a history, since a relay or a lab keeps its verifiers for as long as it runs.
   */
  readonly lastTimestamp: number | undefined;
}

export function ed25519CosignatureVerifier(name: string, publicKey: Uint8Array): CosignatureVerifier {
  checkPublicKey(publicKey);
  let lastTimestamp: number | undefined;
  return {
    name,
    keyId: noteKeyId(name, ED25519_COSIGNATURE_TYPE, publicKey),
    get lastTimestamp() {
      return lastTimestamp;
    },
    verify(text, signature) {
      if (signature.length !== 8 + 64) return false;
      const timestamp = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0, false);
      if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) return false;
      const ok = verify(publicKey, cosignedMessage(Number(timestamp), text), signature.subarray(8));
      if (ok) lastTimestamp = Number(timestamp);
      return ok;
    },
  };
}

function cosignedMessage(timestamp: number, text: Uint8Array): Uint8Array {
  return concatBytes(encoder.encode(`cosignature/v1\ntime ${timestamp}\n`), text);
}

function checkPublicKey(publicKey: Uint8Array): void {
  try {
    assertPublicKey(publicKey);
  } catch (cause) {
    throw new LogError('BAD_KEY', 'a note verifier needs a valid Ed25519 public key', { cause });
  }
}

/**
 * The verifier key text of golang.org/x/mod/sumdb/note and C2SP ("vkey"): `<name>+<key ID in
 * 8 lowercase hex digits>+<base64(signature type || public key)>`, for configuring verifiers.
 */
export function formatVerifierKey(
  name: string,
  publicKey: Uint8Array,
  signatureType = ED25519_NOTE_SIGNATURE_TYPE,
): string {
  const id = toHex(noteKeyId(name, signatureType, publicKey));
  return `${name}+${id}+${toBase64(concatBytes(Uint8Array.of(signatureType), publicKey))}`;
}

/**
 * Parses a verifier key of type 0x01 (note signer) or 0x04 (cosigner), checking that its key ID
 * matches, and, with `type`, that it is of that type (a log's key where a witness's is wanted is
 * a configuration mistake worth naming).
 */
export function parseVerifierKey(vkey: string): NoteVerifier;
export function parseVerifierKey(vkey: string, type: typeof ED25519_NOTE_SIGNATURE_TYPE): NoteVerifier;
export function parseVerifierKey(vkey: string, type: typeof ED25519_COSIGNATURE_TYPE): CosignatureVerifier;
export function parseVerifierKey(vkey: string, expected?: number): NoteVerifier {
  const bad = (detail: string) => new LogError('BAD_KEY', `not a verifier key: ${detail}`);
  const match = /^([^\s+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+={0,2})$/.exec(vkey);
  if (!match) throw bad('expected <name>+<8 hex digits>+<base64>');
  const [, name, id, encoded] = match as unknown as [string, string, string, string];
  const material = fromCanonicalBase64(encoded);
  if (material === undefined || material.length !== 33) throw bad('expected a type byte and a 32-byte key');
  const type = material[0] as number;
  const publicKey = Uint8Array.from(material.subarray(1));
  if (type !== ED25519_NOTE_SIGNATURE_TYPE && type !== ED25519_COSIGNATURE_TYPE)
    throw bad(`unsupported signature type ${type}`);
  const what = (t: number) =>
    t === ED25519_COSIGNATURE_TYPE ? "a witness's cosigner key (type 0x04)" : "a log's key (type 0x01)";
  if (expected !== undefined && type !== expected) throw bad(`expected ${what(expected)}, got ${what(type)}`);
  if (toHex(noteKeyId(name, type, publicKey)) !== id) throw bad('the key ID does not match the key');
  return type === ED25519_NOTE_SIGNATURE_TYPE
    ? ed25519NoteVerifier(name, publicKey)
    : ed25519CosignatureVerifier(name, publicKey);
}
