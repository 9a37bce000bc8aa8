/**
 * examples/data/ is generated (scripts/examples-data.ts) and the README's demo is checked against
 * its expected.json. So: the files must regenerate byte for byte, and expected.json must agree with
 * an independent recount, in which the files are parsed here by hand and every value is
 * canonicalized with `canonicalize` alone (not the importers the generator used).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalize } from '@overlap/indicators';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXAMPLE_DATA_FILES, type Expected, writeExampleData } from '../scripts/examples-data.js';

const dataDir = new URL('../examples/data/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dataDir), 'utf8');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('examples/data regenerates byte for byte', () => {
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'overlap-examples-data-'));
    await writeExampleData(dir);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.each(EXAMPLE_DATA_FILES)('%s', (name) => {
    const fresh = readFileSync(join(dir, name));
    const committed = readFileSync(new URL(name, dataDir));
    expect(sha256(fresh), `${name} differs: run scripts/examples-data.ts`).toBe(sha256(committed));
  });
});

/** A record as a lab's file states it; `undefined` kind or value means the importer must reject it. */
interface Raw {
  kind: unknown;
  value: unknown;
  region?: unknown;
}

function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (quoted && c === '"' && line.charAt(i + 1) === '"') {
      cell += '"';
      i++;
    } else if (c === '"' && (quoted || cell === '')) quoted = !quoted;
    else if (c === ',' && !quoted) {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  return [...cells, cell];
}

const confidenceOk = (c: unknown) =>
  c === undefined || (Number.isInteger(c) && (c as number) >= 0 && (c as number) <= 100);

function csvRecords(text: string): Raw[] {
  const [head = '', ...rows] = text
    .replace(/^\ufeff/, '')
    .split('\n')
    .filter(Boolean);
  const columns = csvCells(head).map((c) => c.trim().toLowerCase());
  return rows.map((row) => {
    const cells = csvCells(row);
    if (cells.length !== columns.length) return { kind: undefined, value: undefined };
    const f = Object.fromEntries(columns.map((c, i) => [c, cells[i]]));
    const confidence =
      f.confidence === '' ? undefined : /^\d{1,3}$/.test(f.confidence ?? '') ? Number(f.confidence) : NaN;
    if (!confidenceOk(confidence)) return { kind: undefined, value: undefined };
    return { kind: f.kind || undefined, value: f.value, region: f.region || undefined };
  });
}

const JSONL_FIELDS = new Set(['kind', 'value', 'region', 'first_seen', 'confidence', 'label']);

function jsonlRecords(text: string): Raw[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      let o: unknown;
      try {
        o = JSON.parse(line);
      } catch {
        return { kind: undefined, value: undefined };
      }
      const f = o as Record<string, unknown>;
      const plainObject = typeof o === 'object' && o !== null && !Array.isArray(o);
      if (!plainObject || Object.keys(f).some((k) => !JSONL_FIELDS.has(k)) || !confidenceOk(f.confidence))
        return { kind: undefined, value: undefined };
      return { kind: f.kind, value: f.value, region: f.region };
    });
}

const COMPARISON = String.raw`(email-addr|ipv4-addr|ipv6-addr|domain-name|url):value = '((?:[^'\\]|\\.)*)'`;
const OBSERVATION = String.raw`\[${COMPARISON}(?: OR ${COMPARISON})*\]`.replace(/\((?!\?)/g, '(?:');
const PATTERN = new RegExp(`^${OBSERVATION}(?: OR ${OBSERVATION})*$`);
const STIX_KIND: Record<string, string> = { 'email-addr': 'email', 'domain-name': 'domain', url: 'url' };

function stixRecords(text: string): Raw[] {
  const bundle = JSON.parse(text) as { objects: Record<string, unknown>[] };
  return bundle.objects.flatMap((o): Raw[] => {
    const pattern = typeof o.pattern === 'string' ? o.pattern : '';
    const readable = o.type === 'indicator' && o.pattern_type === 'stix' && o.revoked !== true;
    if (!readable || !confidenceOk(o.confidence) || !PATTERN.test(pattern))
      return [{ kind: undefined, value: undefined }];
    return [...pattern.matchAll(new RegExp(COMPARISON, 'g'))].map(([, type = '', quoted = '']) => {
      const value = quoted.replace(/\\(.)/g, '$1');
      const ipMismatch = (type === 'ipv4-addr') === value.includes(':');
      if (type.startsWith('ipv')) return ipMismatch ? { kind: undefined, value: undefined } : { kind: 'ip', value };
      return { kind: STIX_KIND[type], value };
    });
  });
}

interface Recount {
  accepted: number;
  sets: Map<string, Set<string>>;
  /** Raw value as written → canonical value, per kind: to see how much canonicalization matters. */
  raw: Map<string, Set<string>>;
}

function recount(records: Raw[]): Recount {
  const out: Recount = { accepted: 0, sets: new Map(), raw: new Map() };
  for (const r of records) {
    if (typeof r.kind !== 'string' || typeof r.value !== 'string') continue;
    let value: string;
    try {
      value = canonicalize(r.kind, r.value, typeof r.region === 'string' ? { region: r.region } : {});
    } catch {
      continue;
    }
    out.accepted++;
    if (!out.sets.has(r.kind)) out.sets.set(r.kind, new Set());
    if (!out.raw.has(r.kind)) out.raw.set(r.kind, new Set());
    out.sets.get(r.kind)?.add(value);
    out.raw.get(r.kind)?.add(r.value);
  }
  return out;
}

describe('expected.json agrees with an independent plaintext recount', () => {
  const expected = JSON.parse(read('expected.json')) as Expected;
  const labs = {
    'lab-a': recount(csvRecords(read('lab-a.csv'))),
    'lab-b': recount(jsonlRecords(read('lab-b.jsonl'))),
    'lab-c': recount(stixRecords(read('lab-c.json'))),
  };
  const names = Object.keys(labs) as (keyof typeof labs)[];
  const kinds = [...new Set(names.flatMap((lab) => [...labs[lab].sets.keys()]))];
  const holders = (kind: string, value: string, pick: (r: Recount) => Map<string, Set<string>> = (r) => r.sets) =>
    names.filter((lab) => pick(labs[lab]).get(kind)?.has(value));

  test('each lab holds 20,000 to 25,000 records and at least three kinds', () => {
    for (const lab of names) {
      expect(expected.labs[lab].records).toBeGreaterThanOrEqual(20_000);
      expect(expected.labs[lab].records).toBeLessThanOrEqual(25_000);
      expect(labs[lab].sets.size).toBeGreaterThanOrEqual(3);
    }
  });

  test.each(names)('%s: accepted records and duplicates', (lab) => {
    const distinct = [...labs[lab].sets.values()].reduce((n, s) => n + s.size, 0);
    expect(labs[lab].accepted).toBe(expected.labs[lab].accepted);
    expect(labs[lab].accepted - distinct).toBe(expected.labs[lab].duplicates);
  });

  test('the per-kind overlap sizes', () => {
    expect(Object.keys(expected.overlaps).sort()).toEqual([...kinds].sort());
    for (const kind of kinds) {
      const counts: Record<string, number> = {};
      for (const key of Object.keys(expected.overlaps[kind] ?? {})) counts[key] = 0;
      const union = new Set(names.flatMap((lab) => [...(labs[lab].sets.get(kind) ?? [])]));
      for (const value of union) {
        const key = holders(kind, value).join('+');
        counts[key] = (counts[key] ?? 0) + 1;
      }
      expect(counts, kind).toEqual(expected.overlaps[kind]);
    }
  });

  test('what each policy reveals to each lab', () => {
    for (const lab of names) {
      const got: Expected['labs'][typeof lab]['kinds'] = {};
      for (const [kind, own] of labs[lab].sets) {
        const held = [...own].map((value) => holders(kind, value).length);
        got[kind] = {
          distinct: own.size,
          held_by_another_lab: held.filter((n) => n > 1).length,
          held_by_all_three: held.filter((n) => n === 3).length,
        };
      }
      expect(got, lab).toEqual(expected.labs[lab].kinds);
    }
  });

  test('the overlaps are only found after canonicalization', () => {
    for (const kind of kinds) {
      const shared = Object.entries(expected.overlaps[kind] ?? {})
        .filter(([key]) => key.includes('+'))
        .reduce((n, [, count]) => n + count, 0);
      const union = new Set(names.flatMap((lab) => [...(labs[lab].raw.get(kind) ?? [])]));
      const sharedAsWritten = [...union].filter((raw) => holders(kind, raw, (r) => r.raw).length > 1).length;
      expect(sharedAsWritten, kind).toBeLessThan(shared * 0.5);
    }
  });
});
