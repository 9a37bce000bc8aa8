/**
 * `crypto_wallet`: a cryptocurrency address, `chain:address`, with its checksum verified.
 *
 * Rules (version 1): trim; the chain id before the first `:` is lowercased and must be `eth` or
 * `btc`.
 * - `eth`: `0x` and 40 hex digits. If the digits mix upper and lower case they must carry a valid
 *   EIP-55 checksum (else `BAD_CHECKSUM`); all one case carries none. Written as `eth:0x` + lowercase.
 * - `btc`: Base58Check (P2PKH `1…`, P2SH `3…`, testnet `m…`/`n…`/`2…`) with its double-SHA-256
 *   checksum verified, kept as written (Base58 is case-sensitive); or SegWit Bech32 (witness
 *   version 0) / Bech32m (versions 1–16) per BIP 173 / BIP 350 with `bc` or `tb`, checksum
 *   verified, mixed case rejected, written lowercase.
 * Decoding uses @scure/base and Keccak-256 from @noble/hashes, not hand-written parsers.
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bech32, bech32m, createBase58check } from '@scure/base';
import { z } from 'zod';
import { IndicatorError } from '../errors.js';
import { defineKind, quote } from '../kind.js';
import { trimWhiteSpace } from '../text.js';

const base58check = createBase58check(sha256);
const BASE58_VERSIONS = new Set([0x00, 0x05, 0x6f, 0xc4]);

function canonicalEth(address: string, raw: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) {
    throw new IndicatorError('INVALID_WALLET', `${quote(raw)} is not 0x and 40 hex digits`);
  }
  const digits = address.slice(2);
  const lower = digits.toLowerCase();
  if (digits !== lower && digits !== digits.toUpperCase()) {
    const hash = keccak_256(new TextEncoder().encode(lower));
    for (let i = 0; i < 40; i++) {
      const nibble = ((hash[i >> 1] as number) >> (i % 2 === 0 ? 4 : 0)) & 0x0f;
      const c = digits[i] as string;
      const shouldBeUpper = nibble >= 8;
      if (/[a-fA-F]/.test(c) && (c === c.toUpperCase()) !== shouldBeUpper) {
        throw new IndicatorError('BAD_CHECKSUM', `${quote(raw)} fails its EIP-55 checksum`);
      }
    }
  }
  return `eth:0x${lower}`;
}

function canonicalBtc(address: string, raw: string): string {
  const lower = address.toLowerCase();
  if (lower.startsWith('bc1') || lower.startsWith('tb1')) {
    if (address !== lower && address !== address.toUpperCase()) {
      throw new IndicatorError('INVALID_WALLET', `${quote(raw)} mixes upper and lower case (BIP 173)`);
    }
    let decoded: { prefix: string; words: number[] };
    let checksumOk = true;
    try {
      decoded = bech32.decode(lower as `${string}1${string}`);
      if (decoded.words[0] !== 0) checksumOk = false;
    } catch {
      checksumOk = false;
      decoded = { prefix: '', words: [] };
    }
    if (!checksumOk) {
      try {
        decoded = bech32m.decode(lower as `${string}1${string}`);
      } catch (cause) {
        throw new IndicatorError('BAD_CHECKSUM', `${quote(raw)} is not valid Bech32 or Bech32m`, { cause });
      }
      if (decoded.words[0] === 0) throw new IndicatorError('BAD_CHECKSUM', `${quote(raw)}: version 0 must use Bech32`);
    }
    if (decoded.prefix !== 'bc' && decoded.prefix !== 'tb') {
      throw new IndicatorError('INVALID_WALLET', `${quote(raw)}: the human-readable part must be bc or tb`);
    }
    const version = decoded.words[0] as number;
    const program = bech32.fromWordsUnsafe(decoded.words.slice(1));
    if (!program) throw new IndicatorError('INVALID_WALLET', `${quote(raw)} has invalid padding`);
    const lengthOk =
      version === 0 ? program.length === 20 || program.length === 32 : program.length >= 2 && program.length <= 40;
    if (version > 16 || !lengthOk)
      throw new IndicatorError('INVALID_WALLET', `${quote(raw)} has an invalid witness program`);
    return `btc:${lower}`;
  }
  let payload: Uint8Array;
  try {
    payload = base58check.decode(address);
  } catch (cause) {
    const code = /checksum/i.test(String(cause)) ? 'BAD_CHECKSUM' : 'INVALID_WALLET';
    throw new IndicatorError(code, `${quote(raw)} is not a valid Base58Check address`, { cause });
  }
  if (payload.length !== 21 || !BASE58_VERSIONS.has(payload[0] as number)) {
    throw new IndicatorError('INVALID_WALLET', `${quote(raw)} is not a P2PKH or P2SH address`);
  }
  return `btc:${address}`;
}

export const cryptoWalletKind = defineKind({
  name: 'crypto_wallet',
  rulesVersion: 1,
  summary: 'eth:0x + 40 lowercase hex (EIP-55 checked), or btc: Base58Check / Bech32(m) (checksum checked)',
  schema: z
    .string()
    .regex(/^(?:eth:0x[0-9a-f]{40}|btc:[1-9A-HJ-NP-Za-km-z]{25,40}|btc:(?:bc|tb)1[02-9ac-hj-np-z]{8,87})$/),
  maxLength: 128,
  canonicalize(raw) {
    const text = trimWhiteSpace(raw);
    const colon = text.indexOf(':');
    const chain = colon < 0 ? '' : text.slice(0, colon).toLowerCase();
    const address = text.slice(colon + 1);
    if (chain === 'eth') return canonicalEth(address, raw);
    if (chain === 'btc') return canonicalBtc(address, raw);
    throw new IndicatorError('INVALID_WALLET', `${quote(raw)} does not start with eth: or btc:`);
  },
  examples: [
    {
      raw: 'eth:0x52908400098527886E0F7030069857D2E4169EE7',
      canonical: 'eth:0x52908400098527886e0f7030069857d2e4169ee7',
      note: 'all upper case: no checksum',
    },
    {
      raw: 'ETH:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      canonical: 'eth:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed',
      note: 'EIP-55 checksum verified',
    },
    { raw: 'btc:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', canonical: 'btc:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2' },
    { raw: 'btc:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy', canonical: 'btc:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy' },
    {
      raw: 'btc:BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4',
      canonical: 'btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4',
      note: 'BIP 173 vector',
    },
    {
      raw: 'btc:bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0',
      canonical: 'btc:bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0',
      note: 'BIP 350 Bech32m vector',
    },
  ],
  counterExamples: [
    { raw: 'eth:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD', code: 'BAD_CHECKSUM', note: 'one letter case flipped' },
    { raw: 'eth:0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea', code: 'INVALID_WALLET', note: '38 digits' },
    { raw: 'btc:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3', code: 'BAD_CHECKSUM' },
    { raw: 'btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5', code: 'BAD_CHECKSUM' },
    { raw: 'btc:bc1Qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', code: 'INVALID_WALLET', note: 'mixed case' },
    {
      raw: 'doge:DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L',
      code: 'INVALID_WALLET',
      note: 'chain not supported in version 1',
    },
    { raw: '0x52908400098527886e0f7030069857d2e4169ee7', code: 'INVALID_WALLET', note: 'no chain' },
    { raw: 'btc:bc1ql63959z', code: 'INVALID_WALLET', note: 'valid checksum, invalid padding' },
  ],
});
