/**
 * Well-formed synthetic wallet addresses: Ethereum with its EIP-55 checksum (Keccak-256), Bitcoin
 * P2PKH in Base58Check (BIP 13 / the Bitcoin wiki's "Base58Check encoding") and P2WPKH in Bech32
 * (BIP 173). The address bytes come from the caller's seeded generator, so they belong to nobody.
 *
 * Written here rather than imported because the root package declares neither @noble/hashes nor
 * @scure/base; @overlap/indicators decodes the results with those libraries when the data is
 * regenerated, so a mistake in these encoders shows up as a rejected record, not as bad data.
 */
import { createHash } from 'node:crypto';

const MASK64 = (1n << 64n) - 1n;

function rotl64(x: bigint, n: number): bigint {
  const s = BigInt(n % 64);
  return s === 0n ? x : ((x << s) | (x >> (64n - s))) & MASK64;
}

/** Keccak-f[1600] on 25 lanes, lane (x, y) at index x + 5y (the Keccak team's compact reference). */
function keccakF1600(lanes: bigint[]): void {
  const at = (x: number, y: number) => lanes[x + 5 * y] as bigint;
  let r = 1;
  for (let round = 0; round < 24; round++) {
    const c = [0, 1, 2, 3, 4].map((x) => at(x, 0) ^ at(x, 1) ^ at(x, 2) ^ at(x, 3) ^ at(x, 4));
    for (let x = 0; x < 5; x++) {
      const d = (c[(x + 4) % 5] as bigint) ^ rotl64(c[(x + 1) % 5] as bigint, 1);
      for (let y = 0; y < 5; y++) lanes[x + 5 * y] = at(x, y) ^ d;
    }
    let [x, y] = [1, 0];
    let current = at(x, y);
    for (let t = 0; t < 24; t++) {
      [x, y] = [y, (2 * x + 3 * y) % 5];
      const next = at(x, y);
      lanes[x + 5 * y] = rotl64(current, ((t + 1) * (t + 2)) / 2);
      current = next;
    }
    for (let yy = 0; yy < 5; yy++) {
      const row = [0, 1, 2, 3, 4].map((xx) => at(xx, yy));
      for (let xx = 0; xx < 5; xx++) {
        const a = row[xx] as bigint;
        const b = row[(xx + 1) % 5] as bigint;
        const e = row[(xx + 2) % 5] as bigint;
        lanes[xx + 5 * yy] = a ^ (~b & MASK64 & e);
      }
    }
    for (let j = 0; j < 7; j++) {
      r = ((r << 1) ^ ((r >> 7) * 0x71)) % 256;
      if (r & 2) lanes[0] = (lanes[0] as bigint) ^ (1n << BigInt((1 << j) - 1));
    }
  }
}

/** Keccak-256 as Ethereum uses it (the original padding 0x01, not SHA3's 0x06); one block only. */
export function keccak256(message: Uint8Array): Uint8Array {
  const rate = 136;
  if (message.length >= rate) throw new Error('keccak256 here takes less than one block');
  const block = new Uint8Array(200);
  block.set(message);
  block[message.length] = (block[message.length] as number) ^ 0x01;
  block[rate - 1] = (block[rate - 1] as number) ^ 0x80;
  const lanes = Array.from({ length: 25 }, (_, i) => {
    let lane = 0n;
    for (let b = 7; b >= 0; b--) lane = (lane << 8n) | BigInt(block[8 * i + b] as number);
    return lane;
  });
  keccakF1600(lanes);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number(((lanes[i >> 3] as bigint) >> BigInt(8 * (i % 8))) & 0xffn);
  return out;
}

/** The EIP-55 mixed-case spelling of 40 lowercase hex digits (without `0x`). */
export function eip55(lowerHex: string): string {
  const hash = keccak256(new TextEncoder().encode(lowerHex));
  let out = '';
  for (let i = 0; i < 40; i++) {
    const nibble = ((hash[i >> 1] as number) >> (i % 2 === 0 ? 4 : 0)) & 0x0f;
    const c = lowerHex[i] as string;
    out += nibble >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

const sha256 = (data: Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest());

/** A mainnet P2PKH address (version byte 0x00) for a 20-byte key hash. */
export function p2pkhAddress(keyHash: Uint8Array): string {
  const payload = Uint8Array.from([0x00, ...keyHash]);
  const full = Uint8Array.from([...payload, ...sha256(sha256(payload)).slice(0, 4)]);
  let n = BigInt(`0x${Buffer.from(full).toString('hex')}`);
  let out = '';
  while (n > 0n) {
    out = BASE58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (let i = 0; i < full.length && full[i] === 0; i++) out = `1${out}`;
  return out;
}

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = (((chk & 0x1ffffff) << 5) ^ v) >>> 0;
    for (let i = 0; i < 5; i++) if ((top >> i) & 1) chk = (chk ^ (GENERATOR[i] as number)) >>> 0;
  }
  return chk;
}

/** A mainnet P2WPKH address (`bc1q…`, witness version 0) for a 20-byte key hash. */
export function p2wpkhAddress(keyHash: Uint8Array): string {
  const words = [0];
  let acc = 0;
  let bits = 0;
  for (const byte of keyHash) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      words.push((acc >> bits) & 31);
    }
  }
  if (bits > 0) words.push((acc << (5 - bits)) & 31);
  const hrp = [...'bc'].map((c) => c.charCodeAt(0));
  const expanded = [...hrp.map((c) => c >> 5), 0, ...hrp.map((c) => c & 31)];
  const mod = polymod([...expanded, ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = [0, 1, 2, 3, 4, 5].map((i) => (mod >>> (5 * (5 - i))) & 31);
  return `bc1${[...words, ...checksum].map((w) => BECH32[w]).join('')}`;
}
