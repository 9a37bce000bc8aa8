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

/** Fisher–Yates with the platform CSPRNG, in place: positions reveal nothing about input order. */
export function shuffleInPlace<T>(out: T[]): T[] {
  const random = new Uint32Array(1);
  for (let i = out.length - 1; i > 0; i--) {
    // Rejection sampling for an unbiased index in 0..i.
    const bound = 2 ** 32 - (2 ** 32 % (i + 1));
    let r: number;
    do {
      globalThis.crypto.getRandomValues(random);
      r = random[0] as number;
    } while (r >= bound);
    const j = r % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
