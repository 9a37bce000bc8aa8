/** A lab's secret order of its values: distinct, then shuffled with the platform CSPRNG. */

/**
 * The distinct values, in a new array (in sorted order: the shuffle that follows makes any order
 * uniform). Sorting a copy and dropping neighbours that repeat leaves a few MB of garbage for a
 * million values where a Set would leave its tables (~40 MB) to the next full collection.
 */
export function distinct(values: readonly string[]): string[] {
  const sorted = values.slice().sort();
  let kept = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[kept - 1]) sorted[kept++] = sorted[i] as string;
  }
  sorted.length = kept;
  return sorted;
}

/** 32-bit words drawn from the CSPRNG at once: one call per 4 KiB instead of one per value. */
const RANDOM_WORDS = 1024;

/**
 * Fisher–Yates with the platform CSPRNG, in place: positions reveal nothing about input order.
 * Each index takes the next 32-bit word of a buffer filled RANDOM_WORDS at a time (a million values
 * cost ~1,000 calls to the CSPRNG instead of a million), with rejection sampling for an unbiased
 * index in 0..i; the words used are exactly those one call per word would give.
 */
export function shuffleInPlace<T>(out: T[]): T[] {
  const random = new Uint32Array(RANDOM_WORDS);
  let next = RANDOM_WORDS;
  const word = (): number => {
    if (next === RANDOM_WORDS) {
      globalThis.crypto.getRandomValues(random);
      next = 0;
    }
    return random[next++] as number;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const bound = 2 ** 32 - (2 ** 32 % (i + 1));
    let r: number;
    do r = word();
    while (r >= bound);
    const j = r % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  random.fill(0);
  return out;
}
