/**
 * The seeded pseudo-random generator behind the synthetic suspect lists: mulberry32 (a 32-bit
 * state, good enough to scatter test data, not for anything secret). Every stream is named
 * (`new Prng('items:email')`), so changing how one kind is generated leaves the others' data as it was.
 */

/** FNV-1a over the UTF-16 code units of `name`: turns a stream name into a 32-bit seed. */
function seedOf(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

export class Prng {
  private state: number;

  constructor(name: string) {
    this.state = seedOf(name);
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [low, high]. */
  between(low: number, high: number): number {
    return low + this.int(high - low + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(list: readonly T[]): T {
    if (list.length === 0) throw new Error('pick from an empty list');
    return list[this.int(list.length)] as T;
  }

  /** Fisher–Yates, in place; returns the list. */
  shuffle<T>(list: T[]): T[] {
    for (let i = list.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [list[i], list[j]] = [list[j] as T, list[i] as T];
    }
    return list;
  }

  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }

  hex(digits: number): string {
    let out = '';
    for (let i = 0; i < digits; i++) out += this.int(16).toString(16);
    return out;
  }

  /** Digits of a decimal number, zero-padded to `width`. */
  digits(width: number): string {
    return String(this.int(10 ** width)).padStart(width, '0');
  }

  /** A random (version 4 shaped) UUID, as STIX identifiers carry. */
  uuid(): string {
    const h = this.hex(32).split('');
    h[12] = '4';
    h[16] = '89ab'[this.int(4)] as string;
    const s = h.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }
}
