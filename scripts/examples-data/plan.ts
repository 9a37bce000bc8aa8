/**
 * The planted truth of the example data: how many distinct identifiers of each kind sit in each
 * region of the three labs' Venn diagram (all three, exactly two, one), and which spelling each lab
 * writes for each of them. A shared identifier gets a different spelling in every lab that holds it
 * (as far as its spellings go), so only canonicalization can find the overlap. Each lab also repeats
 * a few of its own identifiers in another spelling, to show duplicates being found.
 */
import { canonicalize } from '@overlap/indicators';
import { DRAWS, PLANTED_KINDS, type PlantedKind, type Spelling } from './identifiers.js';
import { Prng } from './prng.js';

export const LABS = ['lab-a', 'lab-b', 'lab-c'] as const;
export type LabName = (typeof LABS)[number];

/** Which labs hold an identifier: `ab` is lab-a and lab-b and not lab-c. */
export const REGIONS = ['abc', 'ab', 'ac', 'bc', 'a', 'b', 'c'] as const;
export type Region = (typeof REGIONS)[number];

export const regionLabs = (region: Region): LabName[] => [...region].map((letter) => `lab-${letter}` as LabName);

/** The kinds a STIX 2.1 bundle can carry (stix.ts): lab-c holds only these. */
export const STIX_KINDS: ReadonlySet<PlantedKind> = new Set(['email', 'ip', 'domain', 'url']);

/** Distinct identifiers per kind and region. Kinds STIX cannot carry are shared by lab-a and lab-b only. */
export const PLAN: Record<PlantedKind, Partial<Record<Region, number>>> = {
  email: { abc: 250, ab: 400, ac: 350, bc: 300, a: 2800, b: 2900, c: 4600 },
  phone: { ab: 400, a: 2400, b: 2500 },
  ip: { abc: 200, ab: 300, ac: 250, bc: 220, a: 2000, b: 2100, c: 4500 },
  domain: { abc: 200, ab: 350, ac: 300, bc: 250, a: 2400, b: 2500, c: 4600 },
  url: { abc: 180, ab: 300, ac: 280, bc: 240, a: 2300, b: 2400, c: 4500 },
  crypto_wallet: { ab: 250, a: 1400, b: 1450 },
  ja4: { ab: 150, a: 750, b: 800 },
  payment_fingerprint: { ab: 200, a: 1150, b: 1200 },
  account: { ab: 300, a: 1600, b: 1650 },
};

/** Records per lab that repeat one of the lab's identifiers in another spelling. */
export const DUPLICATES_PER_LAB = 40;

export interface PlantedRecord {
  kind: PlantedKind;
  spelling: Spelling;
}

export interface Planted {
  /** Each lab's well-formed records, duplicates included, in file order. */
  records: Record<LabName, PlantedRecord[]>;
  /** Canonical values per kind and region: what the overlaps must come out as. */
  canonical: Record<PlantedKind, Record<Region, string[]>>;
}

function canonicalOf(kind: PlantedKind, spelling: Spelling): string {
  try {
    return canonicalize(kind, spelling.value, spelling.region === undefined ? {} : { region: spelling.region });
  } catch (cause) {
    throw new Error(`${kind} spelling ${JSON.stringify(spelling)} is rejected: ${String(cause)}`, { cause });
  }
}

interface Held {
  kind: PlantedKind;
  canonical: string;
  spellings: Spelling[];
  used: number;
}

export function plant(): Planted {
  const held: Record<LabName, Held[]> = { 'lab-a': [], 'lab-b': [], 'lab-c': [] };
  const canonical = {} as Record<PlantedKind, Record<Region, string[]>>;
  for (const kind of PLANTED_KINDS) {
    const sizes = PLAN[kind];
    const total = REGIONS.reduce((sum, region) => sum + (sizes[region] ?? 0), 0);
    const rng = new Prng(`items:${kind}`);
    const seen = new Set<string>();
    const items: { canonical: string; spellings: Spelling[] }[] = [];
    for (let tries = 0; items.length < total; tries++) {
      if (tries > total * 20) throw new Error(`${kind}: cannot draw ${total} distinct identifiers`);
      const drawn = DRAWS[kind](rng);
      // Two spellings of a draw can coincide (an IPv6 address without zero groups); keep each once.
      const spellings = drawn.filter(
        (s, i) => drawn.findIndex((t) => t.value === s.value && t.region === s.region) === i,
      );
      const value = canonicalOf(kind, spellings[0] as Spelling);
      if (seen.has(value)) continue;
      seen.add(value);
      items.push({ canonical: value, spellings });
    }
    const spellingRng = new Prng(`spellings:${kind}`);
    canonical[kind] = {} as Record<Region, string[]>;
    let next = 0;
    for (const region of REGIONS) {
      const slice = items.slice(next, next + (sizes[region] ?? 0));
      next += slice.length;
      canonical[kind][region] = slice.map((item) => item.canonical);
      const labs = regionLabs(region);
      if (labs.includes('lab-c') && slice.length > 0 && !STIX_KINDS.has(kind))
        throw new Error(`${kind} cannot go to lab-c: STIX does not carry it`);
      for (const item of slice) {
        const order = spellingRng.shuffle(item.spellings.map((_, i) => i));
        labs.forEach((lab, i) => {
          const used = order[i % order.length] as number;
          held[lab].push({ kind, canonical: item.canonical, spellings: item.spellings, used });
        });
      }
    }
  }
  const records = {} as Record<LabName, PlantedRecord[]>;
  for (const lab of LABS) {
    const rng = new Prng(`duplicates:${lab}`);
    const own = held[lab];
    const repeats = rng.shuffle([...own]).slice(0, DUPLICATES_PER_LAB);
    const list = [
      ...own.map((h) => ({ ...h, spelling: h.spellings[h.used] as Spelling })),
      ...repeats.map((h) => ({ ...h, spelling: h.spellings[(h.used + 1) % h.spellings.length] as Spelling })),
    ];
    for (const r of list) {
      const got = canonicalOf(r.kind, r.spelling);
      if (got !== r.canonical)
        throw new Error(`${r.kind} spelling ${JSON.stringify(r.spelling)} gives ${got}, not ${r.canonical}`);
    }
    records[lab] = new Prng(`order:${lab}`).shuffle(list).map(({ kind, spelling }) => ({ kind, spelling }));
  }
  return { records, canonical };
}
