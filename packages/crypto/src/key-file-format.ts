/**
 * The text of a lab key file (spec/ciphersuite.md, "Key files"): one JSON object holding the
 * public keys in clear and the two secret keys either in clear (`"plain"`) or encrypted
 * (`"scrypt-secretbox"`): key = scrypt(NFC(passphrase), salt, N, r, p, 32), ciphertext =
 * XSalsa20-Poly1305 secretbox(signing seed || sealing secret, nonce, key).
 *
 * The file is attacker-reachable input (copied around, possibly tampered with): every field is
 * checked, scrypt's cost parameters are bounded before use, the public keys are recomputed from
 * the secrets and must match, and no error message ever quotes the file's content.
 */
import { scrypt } from '@noble/hashes/scrypt.js';
import nacl from 'tweetnacl';
import { concatBytes, wipe } from './bytes.js';
import { equalBytes } from './equal-bytes.js';
import { CryptoError } from './errors.js';
import { fromHex, toHex } from './hex.js';
import { signingPublicKey } from './identity.js';
import { createLabKeys, type LabKeys } from './lab-keys.js';
import { sealingPublicKey } from './sealed-box.js';

export const KEY_FILE_TYPE = 'overlap-lab-keys';
export const KEY_FILE_VERSION = 1;

export interface ScryptParams {
  /** CPU/memory cost, a power of two; default 2^17 (~0.8 s and 128 MiB here). */
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };
/**
 * Bounds on scrypt's cost, checked on parameters read from a file, so a crafted file cannot demand
 * gigabytes or minutes: memory 128·N·r at most 256 MiB, work N·r·p at most 2^21 (twice the
 * default's). The default (N = 2^17, r = 8, p = 1) uses 128 MiB.
 */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
const MAX_SCRYPT_WORK = 2 ** 21;

export interface EncodeKeyFileOptions {
  /** Encrypt the secrets with this passphrase; without it they are stored in clear. */
  passphrase?: string;
  scrypt?: ScryptParams;
}

export function encodeKeyFile(keys: LabKeys, options: EncodeKeyFileOptions = {}): string {
  const secrets = concatBytes(keys.signing.secretKey, keys.sealing.secretKey);
  try {
    const body = {
      type: KEY_FILE_TYPE,
      version: KEY_FILE_VERSION,
      keyId: keys.keyId,
      signingPublicKey: toHex(keys.signing.publicKey),
      sealingPublicKey: toHex(keys.sealing.publicKey),
      secrets: options.passphrase === undefined ? plainSecrets(secrets) : encryptSecrets(secrets, options),
    };
    return `${JSON.stringify(body, null, 2)}\n`;
  } finally {
    wipe(secrets);
  }
}

export interface DecodeKeyFileOptions {
  passphrase?: string;
  /** Names the file in error messages. */
  source?: string;
}

export function decodeKeyFile(text: string, options: DecodeKeyFileOptions = {}): LabKeys {
  const where = options.source ?? 'key file';
  const bad = (detail: string, cause?: unknown) =>
    new CryptoError('BAD_KEY_FILE', `${where}: ${detail}`, cause === undefined ? undefined : { cause });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad('not valid JSON'); // no cause: a parser message may quote the (secret) content
  }
  const file = objectAt(parsed, '(root)', bad);
  if (file.type !== KEY_FILE_TYPE) throw bad(`"type" must be "${KEY_FILE_TYPE}"`);
  if (file.version !== KEY_FILE_VERSION) throw bad(`"version" must be ${KEY_FILE_VERSION}`);
  const signingPublic = hexAt(file, 'signingPublicKey', 32, bad);
  const sealingPublic = hexAt(file, 'sealingPublicKey', 32, bad);
  const secretsField = objectAt(file.secrets, 'secrets', bad);
  const secrets =
    secretsField.encoding === 'plain'
      ? hexAt(secretsField, 'secrets.value', 64, bad, 'value')
      : secretsField.encoding === 'scrypt-secretbox'
        ? decryptSecrets(secretsField, options.passphrase, where, bad)
        : (() => {
            throw bad('"secrets.encoding" must be "plain" or "scrypt-secretbox"');
          })();
  const signingSecret = secrets.slice(0, 32);
  const sealingSecret = secrets.slice(32, 64);
  wipe(secrets);
  try {
    if (!equalBytes(signingPublicKey(signingSecret), signingPublic))
      throw bad('signing public key does not match its secret key');
    if (!equalBytes(sealingPublicKey(sealingSecret), sealingPublic))
      throw bad('sealing public key does not match its secret key');
    const keys = createLabKeys(
      { secretKey: signingSecret, publicKey: signingPublic },
      { secretKey: sealingSecret, publicKey: sealingPublic },
    );
    if (file.keyId !== keys.keyId) throw bad('"keyId" is missing or does not match the signing key');
    return keys;
  } catch (error) {
    wipe(signingSecret, sealingSecret);
    throw error;
  }
}

function plainSecrets(secrets: Uint8Array) {
  return { encoding: 'plain', value: toHex(secrets) };
}

function encryptSecrets(secrets: Uint8Array, options: EncodeKeyFileOptions) {
  const params = options.scrypt ?? DEFAULT_SCRYPT;
  checkScrypt(params, (detail) => new CryptoError('BAD_INPUT', detail));
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(nacl.secretbox.nonceLength));
  const key = deriveKey(options.passphrase as string, salt, params);
  try {
    const ciphertext = nacl.secretbox(secrets, nonce, key);
    return {
      encoding: 'scrypt-secretbox',
      scrypt: params,
      salt: toHex(salt),
      nonce: toHex(nonce),
      ciphertext: toHex(ciphertext),
    };
  } finally {
    wipe(key);
  }
}

function decryptSecrets(
  field: Record<string, unknown>,
  passphrase: string | undefined,
  where: string,
  bad: (detail: string) => CryptoError,
): Uint8Array {
  const paramsField = objectAt(field.scrypt, 'secrets.scrypt', bad);
  const params = { N: paramsField.N, r: paramsField.r, p: paramsField.p } as ScryptParams;
  checkScrypt(params, (detail) => bad(`"secrets.scrypt": ${detail}`));
  const salt = hexAt(field, 'secrets.salt', 16, bad, 'salt');
  const nonce = hexAt(field, 'secrets.nonce', nacl.secretbox.nonceLength, bad, 'nonce');
  const ciphertext = hexAt(field, 'secrets.ciphertext', 64 + nacl.secretbox.overheadLength, bad, 'ciphertext');
  if (passphrase === undefined) {
    throw new CryptoError('PASSPHRASE_REQUIRED', `${where} is encrypted: a passphrase is needed`);
  }
  const key = deriveKey(passphrase, salt, params);
  try {
    const secrets = nacl.secretbox.open(ciphertext, nonce, key);
    if (secrets === null) {
      throw new CryptoError('WRONG_PASSPHRASE', `${where}: wrong passphrase, or the encrypted secrets were altered`);
    }
    return secrets;
  } finally {
    wipe(key);
  }
}

function deriveKey(passphrase: string, salt: Uint8Array, params: ScryptParams): Uint8Array {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new CryptoError('BAD_INPUT', 'the passphrase must be a non-empty string');
  }
  const secret = new TextEncoder().encode(passphrase.normalize('NFC'));
  try {
    return scrypt(secret, salt, { ...params, dkLen: 32, maxmem: MAX_SCRYPT_MEMORY + 1024 * 1024 });
  } catch (cause) {
    throw new CryptoError('BAD_INPUT', 'scrypt refused its parameters', { cause });
  } finally {
    wipe(secret);
  }
}

function checkScrypt(params: ScryptParams, fail: (detail: string) => CryptoError): void {
  const { N, r, p } = params;
  const isInt = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 1 && (x as number) <= 2 ** 30;
  if (!isInt(N) || N < 2 || (N & (N - 1)) !== 0) throw fail('N must be a power of two, at least 2');
  if (!isInt(r)) throw fail('r must be a positive integer');
  if (!isInt(p)) throw fail('p must be a positive integer');
  if (128 * N * r > MAX_SCRYPT_MEMORY) throw fail('128·N·r must be at most 256 MiB');
  if (N * r * p > MAX_SCRYPT_WORK) throw fail('N·r·p must be at most 2^21');
}

function objectAt(value: unknown, path: string, bad: (detail: string) => CryptoError): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`"${path}" must be an object`);
  return value as Record<string, unknown>;
}

function hexAt(
  object: Record<string, unknown>,
  path: string,
  length: number,
  bad: (detail: string, cause?: unknown) => CryptoError,
  key = path,
): Uint8Array {
  const value = object[key];
  if (typeof value !== 'string') throw bad(`"${path}" must be a hex string`);
  try {
    return fromHex(value, length);
  } catch (cause) {
    throw bad(`"${path}" must be ${length} bytes of lowercase hex`, cause);
  }
}
