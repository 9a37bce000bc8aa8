import { isErrorRecord, parseStixPattern, readStix } from '@overlap/indicators';
import { describe, expect, test } from 'vitest';
import { ClientError } from '../src/errors.js';
import { csvField, formatResults, RESULT_FORMATS, type SessionResults } from '../src/index.js';

const SESSION = '0123456789abcdef0123456789abcdef';
const base = {
  session: SESSION,
  lab: 'lab-a',
  relay: 'overlap-relay/0123abcd',
  finished: '2025-03-01T12:00:00Z',
};

const labsDoc: SessionResults = {
  ...base,
  policy: { kind: 'labs' },
  results: [
    { kind: 'ip', value: '192.0.2.1', labs: ['lab-c', 'lab-b'] },
    { kind: 'email', value: "o'neil@example.com", labs: ['lab-b'] },
  ],
};
const countDoc: SessionResults = {
  ...base,
  policy: { kind: 'count' },
  results: [
    { kind: 'ip', value: '192.0.2.1', count: 2 },
    { kind: 'email', value: "o'neil@example.com", count: 1 },
  ],
};
const thresholdDoc: SessionResults = {
  ...base,
  policy: { kind: 'threshold', t: 3 },
  results: [
    { kind: 'ip', value: '192.0.2.1' },
    { kind: 'email', value: "o'neil@example.com" },
  ],
};

/** One result of every kind, to cover every pattern. */
const everyKind: SessionResults = {
  ...base,
  policy: { kind: 'threshold', t: 2 },
  results: [
    { kind: 'email', value: "o'neil@example.com" },
    { kind: 'phone', value: '+14155552671' },
    { kind: 'ip', value: '2001:db8::1' },
    { kind: 'ip_prefix', value: '192.0.2.0/24' },
    { kind: 'domain', value: 'www.example.com' },
    { kind: 'registrable_domain', value: 'example.com' },
    { kind: 'url', value: "https://example.com/a\\b?q='x'" },
    { kind: 'account', value: 'telegram:o\\neil' },
    { kind: 'payment_fingerprint', value: 'visa:abc123' },
    { kind: 'crypto_wallet', value: 'btc:1BoatSLRHtKNngkdXEeobR76b53LETtpyT' },
    { kind: 'asn', value: 'AS64500' },
    { kind: 'ja4', value: 't13d1516h2_8daaf6152771_b186095e22b6' },
    { kind: 'ja4h', value: 'po10nn060000_cdb958d032b0_000000000000_000000000000' },
  ],
};

interface StixObject {
  type: string;
  id: string;
  [property: string]: unknown;
}
interface StixBundle {
  type: string;
  id: string;
  objects: StixObject[];
}

const stix = (doc: SessionResults, idSeed?: string): StixBundle =>
  JSON.parse(formatResults(doc, 'stix', idSeed === undefined ? {} : { idSeed })) as StixBundle;
const ofType = (bundle: StixBundle, type: string) => bundle.objects.filter((o) => o.type === type);
const patternOf = (bundle: StixBundle, name: string) =>
  ofType(bundle, 'indicator').find((o) => o.name === name)?.pattern;

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function dataError(run: () => unknown): ClientError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe('BAD_RESULTS');
    return error as ClientError;
  }
  throw new Error('expected a ClientError');
}

describe('golden outputs', () => {
  test('jsonl under each policy: sorted by kind then value, keys in order, labs sorted', () => {
    expect(formatResults(labsDoc, 'jsonl')).toBe(
      '{"kind":"email","value":"o\'neil@example.com","labs":["lab-b"]}\n' +
        '{"kind":"ip","value":"192.0.2.1","labs":["lab-b","lab-c"]}\n',
    );
    expect(formatResults(countDoc, 'jsonl')).toBe(
      '{"kind":"email","value":"o\'neil@example.com","count":1}\n{"kind":"ip","value":"192.0.2.1","count":2}\n',
    );
    expect(formatResults(thresholdDoc, 'jsonl')).toBe(
      '{"kind":"email","value":"o\'neil@example.com"}\n{"kind":"ip","value":"192.0.2.1"}\n',
    );
  });

  test('csv under each policy: header, CRLF, labs joined with ;', () => {
    expect(formatResults(labsDoc, 'csv')).toBe(
      "kind,value,labs,count\r\nemail,o'neil@example.com,lab-b,\r\nip,192.0.2.1,lab-b;lab-c,\r\n",
    );
    expect(formatResults(countDoc, 'csv')).toBe(
      "kind,value,labs,count\r\nemail,o'neil@example.com,,1\r\nip,192.0.2.1,,2\r\n",
    );
    expect(formatResults(thresholdDoc, 'csv')).toBe(
      "kind,value,labs,count\r\nemail,o'neil@example.com,,\r\nip,192.0.2.1,,\r\n",
    );
  });

  test('no results: an empty jsonl, a csv header, a bundle with the identity only', () => {
    const empty: SessionResults = { ...labsDoc, results: [] };
    expect(formatResults(empty, 'jsonl')).toBe('');
    expect(formatResults(empty, 'csv')).toBe('kind,value,labs,count\r\n');
    expect(ofType(stix(empty), 'identity')).toHaveLength(1);
    expect(stix(empty).objects).toHaveLength(1);
  });

  test('stix: a bundle of identity, indicator, sighting with stable ids', () => {
    const doc: SessionResults = { ...labsDoc, results: [{ kind: 'ip', value: '192.0.2.1', labs: ['lab-c', 'lab-b'] }] };
    expect(formatResults(doc, 'stix')).toBe(`{
  "type": "bundle",
  "id": "bundle--42cc4d96-a4c1-5db8-89f8-931af95f1e2f",
  "objects": [
    {
      "type": "identity",
      "spec_version": "2.1",
      "id": "identity--02d239d3-53ae-5d40-9726-78cdd7271c2e",
      "created": "2025-03-01T12:00:00.000Z",
      "modified": "2025-03-01T12:00:00.000Z",
      "name": "Overlap session 0123456789abcdef0123456789abcdef",
      "description": "Overlap private set intersection session 0123456789abcdef0123456789abcdef, recorded in the relay log overlap-relay/0123abcd. Policy: labs (each indicator comes with the other labs that hold it).",
      "identity_class": "system"
    },
    {
      "type": "indicator",
      "spec_version": "2.1",
      "id": "indicator--b6bded74-0dd6-56c1-9405-1aff2610467f",
      "created": "2025-03-01T12:00:00.000Z",
      "modified": "2025-03-01T12:00:00.000Z",
      "created_by_ref": "identity--02d239d3-53ae-5d40-9726-78cdd7271c2e",
      "name": "ip 192.0.2.1",
      "description": "An indicator of lab-a, also held by lab-b, lab-c (Overlap session 0123456789abcdef0123456789abcdef).",
      "indicator_types": [
        "malicious-activity"
      ],
      "pattern": "[ipv4-addr:value = '192.0.2.1']",
      "pattern_type": "stix",
      "valid_from": "2025-03-01T12:00:00.000Z"
    },
    {
      "type": "sighting",
      "spec_version": "2.1",
      "id": "sighting--e95c7eab-0636-560a-9300-667d5bae20ca",
      "created": "2025-03-01T12:00:00.000Z",
      "modified": "2025-03-01T12:00:00.000Z",
      "created_by_ref": "identity--02d239d3-53ae-5d40-9726-78cdd7271c2e",
      "description": "lab-a holds this indicator; it is also held by lab-b, lab-c.",
      "first_seen": "2025-03-01T12:00:00.000Z",
      "last_seen": "2025-03-01T12:00:00.000Z",
      "count": 2,
      "sighting_of_ref": "indicator--b6bded74-0dd6-56c1-9405-1aff2610467f",
      "where_sighted_refs": [
        "identity--02d239d3-53ae-5d40-9726-78cdd7271c2e"
      ]
    }
  ]
}
`);
  });

  test('the input order does not change any output', () => {
    const reversed: SessionResults = { ...labsDoc, results: [...labsDoc.results].reverse() };
    for (const format of RESULT_FORMATS) expect(formatResults(reversed, format)).toBe(formatResults(labsDoc, format));
  });
});

describe('csv quoting and formula injection', () => {
  test.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rhere', '"cr\rhere"'],
    ['', ''],
  ])('RFC 4180: %j is written %j', (text, cell) => {
    expect(csvField(text)).toBe(cell);
  });

  test.each([
    ['=HYPERLINK("http://evil.example","x")', '"\'=HYPERLINK(""http://evil.example"",""x"")"'],
    ['+14155552671', '+14155552671'], // a signed integer: a number to a spreadsheet (csv-guard.test.ts)
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
    ['\r=1', '"\'\r=1"'],
    ['a=1', 'a=1'],
  ])('a formula %j is neutralised as %j', (text, cell) => {
    expect(csvField(text)).toBe(cell);
  });

  test('lab names from other labs are guarded in the table, phone numbers are not', () => {
    const doc: SessionResults = {
      ...labsDoc,
      results: [
        { kind: 'phone', value: '+14155552671', labs: ['=cmd|"/c calc"!A1'] },
        { kind: 'account', value: 'x:a,b', labs: ['lab-b'] },
      ],
    };
    expect(formatResults(doc, 'csv')).toBe(
      'kind,value,labs,count\r\naccount,"x:a,b",lab-b,\r\nphone,+14155552671,"\'=cmd|""/c calc""!A1",\r\n',
    );
  });
});

describe('stix structure', () => {
  test.each([
    ['labs', labsDoc],
    ['count', countDoc],
    ['threshold', thresholdDoc],
    ['threshold, every kind', everyKind],
  ])('%s: every indicator has one sighting and every ref resolves', (_name, doc) => {
    const bundle = stix(doc);
    expect(bundle.type).toBe('bundle');
    expect(bundle.id).toMatch(/^bundle--/);
    const ids = new Set(bundle.objects.map((o) => o.id));
    expect(ids.size).toBe(bundle.objects.length);
    for (const o of [bundle, ...bundle.objects]) {
      const [type, uuid] = o.id.split('--');
      expect(type).toBe(o.type);
      expect(uuid).toMatch(UUID_V5);
    }
    const [identity, ...others] = ofType(bundle, 'identity');
    expect(others).toEqual([]);
    expect(identity).toMatchObject({ name: `Overlap session ${SESSION}`, identity_class: 'system' });
    expect(identity?.description).toContain('overlap-relay/0123abcd');
    const indicators = ofType(bundle, 'indicator');
    const sightings = ofType(bundle, 'sighting');
    expect(indicators).toHaveLength(doc.results.length);
    expect(sightings).toHaveLength(doc.results.length);
    for (const indicator of indicators) {
      expect(indicator).toMatchObject({
        spec_version: '2.1',
        pattern_type: 'stix',
        indicator_types: ['malicious-activity'],
        created_by_ref: identity?.id,
        valid_from: '2025-03-01T12:00:00.000Z',
        created: '2025-03-01T12:00:00.000Z',
        modified: '2025-03-01T12:00:00.000Z',
      });
      expect(sightings.filter((s) => s.sighting_of_ref === indicator.id)).toHaveLength(1);
    }
    for (const sighting of sightings) {
      expect(ids.has(sighting.sighting_of_ref as string)).toBe(true);
      expect(sighting.where_sighted_refs).toEqual([identity?.id]);
      expect(sighting).toMatchObject({ first_seen: '2025-03-01T12:00:00.000Z', last_seen: '2025-03-01T12:00:00.000Z' });
    }
  });

  test('each policy: what the descriptions and sighting counts reveal', () => {
    const described = (doc: SessionResults) =>
      ofType(stix(doc), 'sighting').map((s) => [s.count, s.description, 'count' in s]);
    expect(described(labsDoc)).toEqual([
      [1, 'lab-a holds this indicator; it is also held by lab-b.', true],
      [2, 'lab-a holds this indicator; it is also held by lab-b, lab-c.', true],
    ]);
    expect(described(countDoc)).toEqual([
      [1, 'lab-a holds this indicator; it is held by 1 other lab.', true],
      [2, 'lab-a holds this indicator; it is held by 2 other labs.', true],
    ]);
    expect(described(thresholdDoc)).toEqual([
      [undefined, 'lab-a holds this indicator; it is held by at least 3 labs.', false],
      [undefined, 'lab-a holds this indicator; it is held by at least 3 labs.', false],
    ]);
    expect(ofType(stix(thresholdDoc), 'identity')[0]?.description).toContain('threshold 3');
  });

  test('patterns for every kind, with quotes and backslashes escaped', () => {
    const bundle = stix(everyKind);
    expect(ofType(bundle, 'indicator').map((o) => o.pattern)).toEqual([
      "[x-overlap-indicator:kind = 'account' AND x-overlap-indicator:value = 'telegram:o\\\\neil']",
      '[autonomous-system:number = 64500]',
      "[x-overlap-indicator:kind = 'crypto_wallet' AND x-overlap-indicator:value = 'btc:1BoatSLRHtKNngkdXEeobR76b53LETtpyT']",
      "[domain-name:value = 'www.example.com']",
      "[email-addr:value = 'o\\'neil@example.com']",
      "[ipv6-addr:value = '2001:db8::1']",
      "[ipv4-addr:value = '192.0.2.0/24']",
      "[x-overlap-indicator:kind = 'ja4' AND x-overlap-indicator:value = 't13d1516h2_8daaf6152771_b186095e22b6']",
      "[x-overlap-indicator:kind = 'ja4h' AND x-overlap-indicator:value = 'po10nn060000_cdb958d032b0_000000000000_000000000000']",
      "[x-overlap-indicator:kind = 'payment_fingerprint' AND x-overlap-indicator:value = 'visa:abc123']",
      "[x-overlap-indicator:kind = 'phone' AND x-overlap-indicator:value = '+14155552671']",
      "[domain-name:value = 'example.com']",
      "[url:value = 'https://example.com/a\\\\b?q=\\'x\\'']",
    ]);
    // Overlap's own STIX pattern reader gets back the exact values.
    expect(parseStixPattern(patternOf(bundle, "email o'neil@example.com") as string)).toEqual([
      { objectType: 'email-addr', value: "o'neil@example.com" },
    ]);
    expect(parseStixPattern(patternOf(bundle, "url https://example.com/a\\b?q='x'") as string)).toEqual([
      { objectType: 'url', value: "https://example.com/a\\b?q='x'" },
    ]);
  });

  test('Overlap imports its own export: standard-object values come back, the rest is reported', async () => {
    const text = formatResults(everyKind, 'stix');
    const records = [];
    for await (const record of readStix(
      (async function* () {
        yield text;
      })(),
    ))
      records.push(record);
    const values = records.filter((r) => !isErrorRecord(r)).map((r) => ('kind' in r ? [r.kind, r.value] : []));
    expect(values).toEqual([
      ['domain', 'www.example.com'],
      ['email', "o'neil@example.com"],
      ['ip', '2001:db8::1'],
      ['ip_prefix', '192.0.2.0/24'],
      ['domain', 'example.com'],
      ['url', "https://example.com/a\\b?q='x'"],
    ]);
  });

  test('ids are stable across runs, and change with the seed, the lab, the session and the value', () => {
    const ids = (doc: SessionResults, seed?: string) => stix(doc, seed).objects.map((o) => o.id);
    expect(ids(labsDoc)).toEqual(ids(structuredClone(labsDoc)));
    expect(ids(labsDoc, 'seed')).toEqual(ids(labsDoc, 'seed'));
    const indicatorIds = (doc: SessionResults, seed?: string) => ofType(stix(doc, seed), 'indicator').map((o) => o.id);
    const original = indicatorIds(labsDoc);
    expect(indicatorIds(labsDoc, 'seed')).not.toEqual(expect.arrayContaining([original[0]]));
    expect(indicatorIds({ ...labsDoc, lab: 'lab-z' })).not.toEqual(expect.arrayContaining([original[0]]));
    expect(indicatorIds({ ...labsDoc, session: 'f'.repeat(32) })).not.toEqual(expect.arrayContaining([original[0]]));
    expect(stix(labsDoc).id).not.toBe(stix(labsDoc, 'seed').id);
  });

  test('created and modified are to the millisecond, in UTC', () => {
    const bundle = stix({ ...labsDoc, finished: '2025-03-01T12:00:00.123456Z' });
    for (const o of bundle.objects) expect(o.created).toBe('2025-03-01T12:00:00.123Z');
  });
});

describe('bad input is a DATA error naming the field', () => {
  const one = (result: SessionResults['results'][number], policy: SessionResults['policy'] = { kind: 'labs' }) =>
    ({ ...base, policy, results: [result] }) as SessionResults;
  const cases: [string, unknown, string][] = [
    ['session not hex', { ...labsDoc, session: 'X'.repeat(32) }, 'session'],
    ['session too short', { ...labsDoc, session: 'abc' }, 'session'],
    ['no lab', { ...labsDoc, lab: '' }, 'lab'],
    ['no relay', { ...labsDoc, relay: undefined }, 'relay'],
    ['finished not UTC', { ...labsDoc, finished: '2025-03-01T12:00:00+01:00' }, 'finished'],
    ['finished not a date', { ...labsDoc, finished: '2025-02-30T12:00:00Z' }, 'finished'],
    ['unknown policy', { ...labsDoc, policy: { kind: 'all' } }, 'policy.kind'],
    ['threshold below 2', { ...thresholdDoc, policy: { kind: 'threshold', t: 1 } }, 'policy.t'],
    ['results not an array', { ...labsDoc, results: {} }, 'results'],
    ['unknown kind', one({ kind: 'mac', value: 'x', labs: ['lab-b'] }), 'results[0].kind'],
    ['empty value', one({ kind: 'ip', value: '', labs: ['lab-b'] }), 'results[0].value'],
    ['asn not canonical', one({ kind: 'asn', value: '64500', labs: ['lab-b'] }), 'results[0].value'],
    ['labs missing', one({ kind: 'ip', value: '192.0.2.1' }), 'results[0].labs'],
    ['labs empty', one({ kind: 'ip', value: '192.0.2.1', labs: [] }), 'results[0].labs'],
    ['labs names this lab', one({ kind: 'ip', value: '192.0.2.1', labs: ['lab-a'] }), 'results[0].labs[0]'],
    ['labs with ;', one({ kind: 'ip', value: '192.0.2.1', labs: ['b;c'] }), 'results[0].labs[0]'],
    ['labs twice', one({ kind: 'ip', value: '192.0.2.1', labs: ['lab-b', 'lab-b'] }), 'results[0].labs'],
    ['labs under count', one({ kind: 'ip', value: '192.0.2.1', labs: ['b'], count: 1 }, { kind: 'count' }), 'labs'],
    ['count under labs', one({ kind: 'ip', value: '192.0.2.1', labs: ['lab-b'], count: 1 }), 'results[0].count'],
    ['count zero', one({ kind: 'ip', value: '192.0.2.1', count: 0 }, { kind: 'count' }), 'results[0].count'],
    ['count under threshold', one({ kind: 'ip', value: '1.2.3.4', count: 1 }, { kind: 'threshold', t: 2 }), 'count'],
    [
      'a repeated result',
      { ...thresholdDoc, results: [...thresholdDoc.results, { kind: 'ip', value: '192.0.2.1' }] },
      'results[2]',
    ],
  ];
  test.each(cases)('%s', (_name, doc, field) => {
    for (const format of RESULT_FORMATS) {
      expect(dataError(() => formatResults(doc as SessionResults, format)).message).toContain(field);
    }
  });

  test('every problem is reported, not only the first', () => {
    const doc = { ...labsDoc, session: 'nope', results: [{ kind: 'mac', value: '' }] } as SessionResults;
    const { message } = dataError(() => formatResults(doc, 'jsonl'));
    for (const field of ['session', 'results[0].kind', 'results[0].value', 'results[0].labs']) {
      expect(message).toContain(field);
    }
  });

  test('an unknown format is a USAGE error', () => {
    expect(() => formatResults(labsDoc, 'xml' as 'csv')).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});
