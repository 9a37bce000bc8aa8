/**
 * The prompt_template kind (spec/indicators.md §2): its normalization (idempotent, the masks), its
 * MinHash (agreement per band is J^r on sets of known Jaccard similarity; near-duplicate prompts
 * share at least t bands, unrelated ones far fewer) and the local collapse of prompts into
 * templates. The byte-level computation is checked against an independent one in
 * test/spec-vectors.test.ts.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  COLLAPSE_OPTIONS,
  canonicalize,
  IndicatorError,
  impliedJaccard,
  MINHASH_PRIME,
  minHashRows,
  PROMPT_TEMPLATE_PARAMETERS,
  promptBands,
  promptShingles,
  promptSignature,
  sharedBands,
  shingleHash,
  TemplateCollector,
} from '../src/index.js';

const normalize = (raw: string) => canonicalize('prompt_template', raw);

describe('normalization', () => {
  test.prop([fc.string({ unit: 'grapheme', maxLength: 200 })], { numRuns: 500 })(
    'idempotent, or a typed error',
    (raw) => {
      let once: string;
      try {
        once = normalize(raw);
      } catch (error) {
        expect(error).toBeInstanceOf(IndicatorError);
        return;
      }
      expect(normalize(once)).toBe(once);
      expect(once).not.toMatch(/\s{2}|^\s|\s$/u);
    },
  );

  test.prop(
    [
      fc.array(fc.constantFrom('explain', 'the', 'reasoning', 'step', 'answer', 'rubric', 'grade'), {
        minLength: 1,
        maxLength: 12,
      }),
      fc.array(fc.constantFrom(' ', '  ', '\t', '\n', ', ', '! ', ' - ', '... '), { minLength: 12, maxLength: 12 }),
      fc.boolean(),
    ],
    { numRuns: 200 },
  )('white space, punctuation and case do not change the text', (words, gaps, upper) => {
    const spelled = words.map((word, i) => `${upper && i % 2 === 0 ? word.toUpperCase() : word}${gaps[i]}`).join('');
    expect(normalize(spelled)).toBe(words.join(' '));
  });

  test('each mask, and what is not masked', () => {
    expect(normalize('use 3 steps, or 3.5 or 1,000 or 12:30')).toBe('use <num> steps or <num> or <num> or <num>');
    expect(normalize('gpt4 and 4o stay words')).toBe('gpt4 and 4o stay words');
    expect(normalize('see www.example.com/x and ftp://host/file')).toBe('see <url> and <url>');
    expect(normalize('mail a.b+c@sub.example.co.uk now')).toBe('mail <email> now');
    expect(normalize('id 550E8400-E29B-41D4-A716-446655440000.')).toBe('id <uuid>');
    expect(normalize('say "one two" and «trois» and 「四」')).toBe('say <quote> and <quote> and <quote>');
    expect(normalize('a "quote that\nspans lines" b')).toBe('a quote that spans lines b');
    expect(normalize('explain ```\nunclosed code')).toBe('explain <code>');
  });

  test('a prompt of only placeholders or punctuation is INVALID_PROMPT', () => {
    expect(() => normalize('42 https://x.example "q"')).toThrow(expect.objectContaining({ code: 'INVALID_PROMPT' }));
  });
});

describe('MinHash', () => {
  const p = PROMPT_TEMPLATE_PARAMETERS;

  test('shingles: runs of words, distinct; a short prompt is one shingle', () => {
    expect(p.shingleSize).toBe(1);
    expect(promptShingles('a b c a b')).toEqual(['a', 'b', 'c']);
    const pairs = { ...p, shingleSize: 2 };
    expect(promptShingles('a b c a b', pairs)).toEqual(['a b', 'b c', 'c a']);
    expect(promptShingles('alone', pairs)).toEqual(['alone']);
  });

  test.prop([fc.array(fc.stringMatching(/^[a-z0-9]{1,12}$/), { minLength: 1, maxLength: 40 })], { numRuns: 200 })(
    'the signature equals (a·x + b) mod p computed in BigInt, row by row',
    (words) => {
      const text = words.join(' ');
      const { a, b } = minHashRows(p.bands * p.rows);
      const prime = BigInt(MINHASH_PRIME);
      const xs = promptShingles(text).map((shingle) => BigInt(shingleHash(shingle)));
      const expected = Array.from(a, (ai, i) =>
        xs.reduce((least, x) => {
          const h = (BigInt(ai) * x + BigInt(b[i] as number)) % prime;
          return h < least ? h : least;
        }, prime),
      );
      expect([...promptSignature(text)].map(BigInt)).toEqual(expected);
    },
  );

  test('the signature has b·r rows and the bands are b values of the documented shape', () => {
    const text = normalize('Articulate your internal reasoning step by step');
    expect(promptSignature(text)).toHaveLength(p.bands * p.rows);
    const bands = promptBands(text);
    expect(bands).toHaveLength(p.bands);
    bands.forEach((band, j) => {
      expect(band).toMatch(new RegExp(`^${String(j).padStart(2, '0')}:[0-9a-f]{${8 * p.rows}}$`));
    });
  });

  test('a band agrees with probability J^r: measured over sets of known Jaccard similarity', () => {
    // 100 pairs of 60-shingle sets sharing 40 of 80 distinct shingles: J = 0.5, J^r = 0.25.
    let agreeing = 0;
    let bands = 0;
    for (let pair = 0; pair < 100; pair++) {
      const common = Array.from({ length: 40 }, (_, i) => `c${pair}x${i}`);
      const x = [...common, ...Array.from({ length: 20 }, (_, i) => `x${pair}x${i}`)];
      const y = [...common, ...Array.from({ length: 20 }, (_, i) => `y${pair}x${i}`)];
      const parameters = { ...p, shingleSize: 1 };
      agreeing += sharedBands(promptSignature(x.join(' '), parameters), promptSignature(y.join(' '), parameters));
      bands += p.bands;
    }
    const rate = agreeing / bands;
    // 6,400 bands: a standard deviation of about 0.0054 around 0.25.
    expect(rate).toBeGreaterThan(0.23);
    expect(rate).toBeLessThan(0.27);
  });

  test('near-duplicates share at least t bands; unrelated prompts far fewer', () => {
    const a = normalize(
      'Articulate your internal reasoning step by step before answering the following question about cell biology. Number each step, and finally give a short answer of at most 3 sentences.',
    );
    const b = normalize(
      '1) Articulate  your internal reasoning, step by step, before answering the following question about quantum tunnelling!! Number each step and then give a short answer of at most 5 sentences.',
    );
    const c = normalize('What is a good recipe for a vegetarian lasagna with spinach and ricotta for four people?');
    expect(sharedBands(promptSignature(a), promptSignature(b))).toBeGreaterThanOrEqual(p.minBands);
    expect(sharedBands(promptSignature(a), promptSignature(c))).toBeLessThan(3);
    expect(sharedBands(promptSignature(a), promptSignature(a))).toBe(p.bands);
  });

  test('implied Jaccard: (shared / b)^(1/r)', () => {
    expect(impliedJaccard(p.bands)).toBe(1);
    expect(impliedJaccard(0)).toBe(0);
    expect(impliedJaccard(16)).toBe(Math.round(0.25 ** (1 / p.rows) * 1000) / 1000);
  });
});

describe('TemplateCollector', () => {
  const campaign = (topic: string, n: number) =>
    normalize(
      `Articulate your internal reasoning step by step before answering this question about ${topic}. Give ${n} steps, then a one-line answer.`,
    );

  test('near-duplicates join the first template; an unrelated prompt starts its own; exact repeats count', () => {
    const collector = new TemplateCollector();
    expect(collector.add(campaign('cell biology', 3), 1, 'p-1')).toBe(0);
    expect(collector.add(campaign('the french revolution', 5), 2, 'p-2')).toBe(0);
    expect(collector.add(normalize('Plan a three day trip to Lisbon with a small budget'), 3)).toBe(1);
    expect(collector.add(campaign('cell biology', 3), 4)).toBe(0);
    expect(collector.templates.map(({ text, line, id, prompts }) => ({ text, line, id, prompts }))).toEqual([
      { text: campaign('cell biology', 3), line: 1, id: 'p-1', prompts: 3 },
      { text: normalize('Plan a three day trip to Lisbon with a small budget'), line: 3, prompts: 1 },
    ]);
    expect(collector.templates[0]?.bands).toEqual(promptBands(campaign('cell biology', 3)));
  });

  test('a prompt joins the template it shares the most bands with, not merely the first over t', () => {
    const collector = new TemplateCollector(PROMPT_TEMPLATE_PARAMETERS, { minBands: 1, members: 1 });
    const first = normalize('alpha beta gamma delta epsilon zeta eta theta iota kappa');
    const second = normalize('lambda mu nu xi omicron pi rho sigma tau upsilon');
    collector.add(first, 1);
    collector.add(second, 2);
    expect(collector.templates).toHaveLength(2);
    const nearSecond = normalize('lambda mu nu xi omicron pi rho sigma tau phi');
    expect(collector.add(nearSecond, 3)).toBe(1);
  });

  test('a prompt is compared with the first members of a template, not its first prompt alone', () => {
    // Word sets of known overlap: A = w0…w39, B = w10…w49 (J(A, B) = 0.6), C = w20…w59
    // (J(A, C) = 1/3, J(B, C) = 0.6). B joins A; C is too far from A but close to B.
    const words = (from: number) => Array.from({ length: 40 }, (_, i) => `w${from + i}`).join(' ');
    const [a, b, c] = [words(0), words(10), words(20)];
    const { minBands } = COLLAPSE_OPTIONS;
    expect(sharedBands(promptSignature(a), promptSignature(b))).toBeGreaterThanOrEqual(minBands);
    expect(sharedBands(promptSignature(a), promptSignature(c))).toBeLessThan(minBands);
    expect(sharedBands(promptSignature(b), promptSignature(c))).toBeGreaterThanOrEqual(minBands);
    const collect = (members: number) => {
      const collector = new TemplateCollector(PROMPT_TEMPLATE_PARAMETERS, { minBands, members });
      return [a, b, c].map((text, i) => collector.add(text, i + 1));
    };
    expect(collect(COLLAPSE_OPTIONS.members)).toEqual([0, 0, 0]);
    expect(collect(1)).toEqual([0, 0, 1]);
  });

  test('the collapse is stricter than the match, and bad options are refused', () => {
    expect(COLLAPSE_OPTIONS.minBands).toBeGreaterThan(PROMPT_TEMPLATE_PARAMETERS.minBands);
    for (const bad of [
      { minBands: 0, members: 4 },
      { minBands: 65, members: 4 },
      { minBands: 16, members: 0 },
      { minBands: 1.5, members: 4 },
    ])
      expect(() => new TemplateCollector(PROMPT_TEMPLATE_PARAMETERS, bad), JSON.stringify(bad)).toThrow(RangeError);
  });
});
