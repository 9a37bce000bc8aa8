/**
 * Shared by the session tests: lab identities and the plaintext truth, computed directly. Importing
 * it installs @overlap/crypto's Node.js platform, so the session tests run on the native backend
 * (and name both backends where they compare them), as a lab's process does.
 */
import '@overlap/crypto/node';
import type { RevealPolicy } from '../src/index.js';

export const labIds = (n: number) => Array.from({ length: n }, (_, i) => (i + 1).toString(16).padStart(32, '0'));

export interface TruthRow {
  value: string;
  labs?: string[];
  count?: number;
}

/** What each lab should learn, straight from the plaintext sets (no crypto, no engine). */
export function plaintextTruth(
  labs: readonly { keyId: string; sets: Record<string, readonly string[]> }[],
  kinds: readonly string[],
  policy: RevealPolicy,
): Map<string, Map<string, TruthRow[]>> {
  const truth = new Map<string, Map<string, TruthRow[]>>();
  for (const lab of labs) {
    const perKind = new Map<string, TruthRow[]>();
    for (const kind of kinds) {
      const rows: TruthRow[] = [];
      for (const value of new Set(lab.sets[kind] ?? [])) {
        const others = labs
          .filter((o) => o.keyId !== lab.keyId && (o.sets[kind] ?? []).includes(value))
          .map((o) => o.keyId)
          .sort();
        if (policy.kind === 'threshold') {
          if (others.length + 1 >= policy.t) rows.push({ value });
        } else if (others.length > 0) {
          rows.push(policy.kind === 'labs' ? { value, labs: others } : { value, count: others.length });
        }
      }
      perKind.set(
        kind,
        rows.sort((a, b) => a.value.localeCompare(b.value)),
      );
    }
    truth.set(lab.keyId, perKind);
  }
  return truth;
}

export function sortedResults(results: ReadonlyMap<string, readonly TruthRow[]>): Map<string, TruthRow[]> {
  return new Map([...results].map(([kind, rows]) => [kind, [...rows].sort((a, b) => a.value.localeCompare(b.value))]));
}
