/**
 * examples/data/ is generated (scripts/examples-data.ts) and the README's demo is checked against
 * its expected.json. So: the files must regenerate byte for byte, and expected.json must agree with
 * an independent recount, in which the files are parsed here by hand and every value is
 * canonicalized with `canonicalize` alone (not the importers the generator used).
 *
 * Prompts are matched as templates, not by value: expected.json's templates (computed by the
 * generator with the library's MinHash) must be the ground truth's, which decides which templates
 * are shared by which template each prompt was made from (scripts/examples-data/prompts.ts), and
 * never by a band.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalize, PROMPT_TEMPLATE_PARAMETERS, TemplateCollector } from '@overlap/indicators';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CAMPAIGN, planPrompts } from '../scripts/examples-data/prompts.js';
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
  id?: unknown;
  /** Its line in the file (JSONL and CSV; none of lab-a's cells spans lines). */
  line?: number;
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

/** Non-empty lines with their numbers (from 1). */
const numbered = (text: string) =>
  text
    .split('\n')
    .map((content, i) => ({ content, line: i + 1 }))
    .filter((l) => l.content !== '');

function csvRecords(text: string): Raw[] {
  const [head, ...rows] = numbered(text.replace(/^\ufeff/, ''));
  const columns = csvCells(head?.content ?? '').map((c) => c.trim().toLowerCase());
  return rows.map(({ content, line }) => {
    const cells = csvCells(content);
    if (cells.length !== columns.length) return { kind: undefined, value: undefined };
    const f = Object.fromEntries(columns.map((c, i) => [c, cells[i]]));
    const confidence =
      f.confidence === '' ? undefined : /^\d{1,3}$/.test(f.confidence ?? '') ? Number(f.confidence) : NaN;
    if (!confidenceOk(confidence)) return { kind: undefined, value: undefined };
    return { kind: f.kind || undefined, value: f.value, region: f.region || undefined, id: f.id || undefined, line };
  });
}

const JSONL_FIELDS = new Set(['kind', 'value', 'region', 'first_seen', 'confidence', 'label', 'id']);

function jsonlRecords(text: string): Raw[] {
  return numbered(text).map(({ content, line }) => {
    let o: unknown;
    try {
      o = JSON.parse(content);
    } catch {
      return { kind: undefined, value: undefined };
    }
    const f = o as Record<string, unknown>;
    const plainObject = typeof o === 'object' && o !== null && !Array.isArray(o);
    if (!plainObject || Object.keys(f).some((k) => !JSONL_FIELDS.has(k)) || !confidenceOk(f.confidence))
      return { kind: undefined, value: undefined };
    return { kind: f.kind, value: f.value, region: f.region, id: f.id, line };
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

const PROMPT_KIND = 'prompt_template';

/** An accepted prompt record: as written, normalized, with its line and id. */
interface Prompt {
  line: number;
  id: string;
  written: string;
  normalized: string;
}

interface Recount {
  accepted: number;
  /** Every kind but prompt_template (whose values are matched as templates, not as values). */
  sets: Map<string, Set<string>>;
  /** Raw value as written → canonical value, per kind: to see how much canonicalization matters. */
  raw: Map<string, Set<string>>;
  prompts: Prompt[];
}

function recount(records: Raw[]): Recount {
  const out: Recount = { accepted: 0, sets: new Map(), raw: new Map(), prompts: [] };
  for (const r of records) {
    if (typeof r.kind !== 'string' || typeof r.value !== 'string') continue;
    let value: string;
    try {
      value = canonicalize(r.kind, r.value, typeof r.region === 'string' ? { region: r.region } : {});
    } catch {
      continue;
    }
    out.accepted++;
    if (r.kind === PROMPT_KIND) {
      if (typeof r.id !== 'string' || r.line === undefined)
        throw new Error(`a prompt without its id or line: ${r.value}`);
      out.prompts.push({ line: r.line, id: r.id, written: r.value, normalized: value });
      continue;
    }
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
    // Each prompt normalizes to a text of its own (the prompt templates' tests below): none is a duplicate.
    const distinct =
      [...labs[lab].sets.values()].reduce((n, s) => n + s.size, 0) +
      new Set(labs[lab].prompts.map((p) => p.normalized)).size;
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

describe('the prompt templates agree with the ground truth', () => {
  const expected = JSON.parse(read('expected.json')) as Expected;
  const prompts = {
    'lab-a': recount(csvRecords(read('lab-a.csv'))).prompts,
    'lab-b': recount(jsonlRecords(read('lab-b.jsonl'))).prompts,
    'lab-c': recount(stixRecords(read('lab-c.json'))).prompts,
  };
  const names = Object.keys(prompts) as (keyof typeof prompts)[];
  // The ground truth: which template each planned prompt was made from, by its id.
  const plan = planPrompts();
  const planned = (lab: keyof typeof prompts) => (lab === 'lab-c' ? [] : plan[lab]);
  const templateOf = new Map<string, string>(
    names.flatMap((lab) => planned(lab).map((p) => [`${lab} ${p.id}`, p.template] as const)),
  );
  const truthOf = (lab: string, p: Prompt) => templateOf.get(`${lab} ${p.id}`) as string;
  const heldBy = (template: string) => names.filter((lab) => prompts[lab].some((p) => truthOf(lab, p) === template));

  test('each file holds exactly its planned prompts, as planned', () => {
    for (const lab of names) {
      const want = planned(lab).map((p) => [p.id, p.text]);
      expect(prompts[lab].map((p) => [p.id, p.written]).sort(), lab).toEqual(want.sort());
    }
    expect(prompts['lab-c'], 'STIX carries no prompts').toEqual([]);
  });

  test('the campaign has templates shared between labs, templates of one lab, and everyday prompts', () => {
    const templates = new Set(names.flatMap((lab) => prompts[lab].map((p) => truthOf(lab, p))));
    const shared = [...templates].filter((t) => heldBy(t).length > 1);
    expect(shared.length).toBeGreaterThanOrEqual(3);
    expect(shared.every((t) => CAMPAIGN.some((c) => c.name === t))).toBe(true);
    for (const lab of ['lab-a', 'lab-b'] as const) {
      const own = [...templates].filter((t) => heldBy(t).join() === lab);
      expect(own.filter((t) => CAMPAIGN.some((c) => c.name === t)).length, lab).toBeGreaterThanOrEqual(2);
      expect(own.filter((t) => t.startsWith('ordinary-')).length, lab).toBeGreaterThanOrEqual(5);
      // Several prompts of each campaign template, each in other words than the others.
      for (const t of CAMPAIGN.filter((c) => heldBy(c.name).includes(lab))) {
        expect(prompts[lab].filter((p) => truthOf(lab, p) === t.name).length, `${lab} ${t.name}`).toBeGreaterThan(3);
      }
    }
  });

  test('no two prompts normalize to the same text, not even across labs: exact matching finds nothing', () => {
    const all = names.flatMap((lab) => prompts[lab].map((p) => p.normalized));
    expect(new Set(all).size).toBe(all.length);
    const ids = names.flatMap((lab) => prompts[lab].map((p) => p.id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("expected.json's templates are the ground truth's: a template is shared when another lab's prompts were made from it", () => {
    for (const lab of names) {
      const own = [...prompts[lab]].sort((x, y) => x.line - y.line);
      const templates = [...new Set(own.map((p) => truthOf(lab, p)))];
      const shared = templates.flatMap((template) => {
        const others = heldBy(template).filter((other) => other !== lab);
        if (others.length === 0) return [];
        const made = own.filter((p) => truthOf(lab, p) === template);
        const first = made[0] as Prompt;
        return [{ id: first.id, line: first.line, prompts: made.length, labs: others }];
      });
      expect(expected.prompt_templates.labs[lab], lab).toEqual({
        prompts: own.length,
        templates: templates.length,
        shared,
      });
    }
  });

  test("the library's MinHash, with its own parameters, finds the ground truth's shared templates", () => {
    const collectors = Object.fromEntries(
      names.map((lab) => {
        const collector = new TemplateCollector(PROMPT_TEMPLATE_PARAMETERS);
        for (const p of prompts[lab]) collector.add(p.normalized, p.line, p.id);
        return [lab, collector];
      }),
    );
    const bands = Object.fromEntries(
      names.map((lab) => [lab, new Set(collectors[lab]?.templates.flatMap((t) => t.bands))]),
    );
    for (const lab of names) {
      const found = (collectors[lab]?.templates ?? []).flatMap((t) => {
        const labs = names.filter(
          (other) =>
            other !== lab &&
            t.bands.filter((band) => bands[other]?.has(band)).length >= PROMPT_TEMPLATE_PARAMETERS.minBands,
        );
        return labs.length === 0 ? [] : [{ id: t.id, line: t.line, prompts: t.prompts, labs }];
      });
      expect(found, lab).toEqual(expected.prompt_templates.labs[lab].shared);
    }
  });
});
