/**
 * The synthetic campaign's only source of randomness (scripts/prompt-campaign.ts): mulberry32, a
 * small 32-bit PRNG, seeded per purpose through FNV-1a, so that the logs are a pure function of
 * their options and one stream's draws never shift another's. Not for anything secret.
 */

/** Small seeded PRNG (mulberry32) with the few draws the generator needs. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T;
  }

  /** `count` distinct items (all of them if fewer), in random order. */
  sample<T>(items: readonly T[], count: number): T[] {
    return this.shuffle([...items]).slice(0, Math.min(count, items.length));
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }
}

/** The seed of one stream: FNV-1a of the seed and a label, so streams do not depend on each other's use. */
export function streamSeed(seed: number, label: string): number {
  let hash = 0x811c9dc5;
  for (const char of `${seed}/${label}`) hash = Math.imul(hash ^ (char.codePointAt(0) as number), 0x01000193) >>> 0;
  return hash;
}
