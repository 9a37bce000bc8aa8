/**
 * The bounds spec/protocol.md §4 writes into the CDDL, each at its limit and one past it, in the
 * unit the text names (text lengths in code points, not UTF-16 units or bytes), and the nesting depth of §2 as counted
 * there (every item a level, the top level 1).
 */
import { describe, expect, test } from 'vitest';
import { decodeDeterministic, parseMessage } from '../src/index.js';

const key = new Uint8Array(32).fill(3);
const id = 'a'.repeat(32);
const enrollment = { lab: 'lab-a', name: 'Lab A', signing_key: key, sealing_key: key, valid_from: 1, valid_until: 2 };
const proposal = { labs: [id, 'b'.repeat(32)], kinds: ['email'], policy: { kind: 'labs' }, maxItemsPerKind: 10 };
const astral = '😀'; // one code point: two UTF-16 code units, four UTF-8 bytes

type Case = [string, Parameters<typeof parseMessage>[0], Record<string, unknown>, Record<string, unknown>];
const cases: Case[] = [
  [
    'lab id: 63 characters',
    'enrollment',
    { ...enrollment, lab: `a${'-'.repeat(62)}` },
    { ...enrollment, lab: `a${'b'.repeat(63)}` },
  ],
  ['lab id: lowercase', 'enrollment', { ...enrollment, lab: '0lab' }, { ...enrollment, lab: 'Lab A' }],
  ['lab id: no leading hyphen', 'enrollment', { ...enrollment, lab: 'a-' }, { ...enrollment, lab: '-a' }],
  ['name: 1 to 200', 'enrollment', { ...enrollment, name: 'n'.repeat(200) }, { ...enrollment, name: 'n'.repeat(201) }],
  ['name: empty', 'enrollment', { ...enrollment, name: 'n' }, { ...enrollment, name: '' }],
  [
    'name: code points',
    'enrollment',
    { ...enrollment, name: astral.repeat(200) },
    { ...enrollment, name: astral.repeat(201) },
  ],
  [
    'revocation reason: 1024',
    'revocation',
    { key: id, reason: 'r'.repeat(1024), effective: 1 },
    { key: id, reason: 'r'.repeat(1025), effective: 1 },
  ],
  [
    'abort reason: 1024 code points',
    'abort',
    { reason: `${astral.repeat(1023)}r` },
    { reason: `${astral.repeat(1024)}r` },
  ],
  [
    'threshold t: at most the number of labs',
    'session_proposal',
    { ...proposal, labs: [id, 'b'.repeat(32), 'c'.repeat(32)], policy: { kind: 'threshold', t: 3 } },
    { ...proposal, labs: [id, 'b'.repeat(32), 'c'.repeat(32)], policy: { kind: 'threshold', t: 4 } },
  ],
  [
    'threshold t: at least 2',
    'session_proposal',
    { ...proposal, policy: { kind: 'threshold', t: 2 } },
    { ...proposal, policy: { kind: 'threshold', t: 1 } },
  ],
  [
    'maxItemsPerKind: 1 to 100,000,000',
    'session_proposal',
    { ...proposal, maxItemsPerKind: 100_000_000 },
    { ...proposal, maxItemsPerKind: 100_000_001 },
  ],
  [
    'kind name: 32 characters',
    'session_proposal',
    { ...proposal, kinds: [`a${'_'.repeat(31)}`] },
    { ...proposal, kinds: [`a${'b'.repeat(32)}`] },
  ],
  [
    'kind name: starts with a letter',
    'session_proposal',
    { ...proposal, kinds: ['a0'] },
    { ...proposal, kinds: ['0a'] },
  ],
  [
    'kinds: distinct',
    'session_proposal',
    { ...proposal, kinds: ['email', 'ip'] },
    { ...proposal, kinds: ['ip', 'ip'] },
  ],
  ['labs: at most 64', 'session_proposal', { ...proposal, labs: labIds(64) }, { ...proposal, labs: labIds(65) }],
];

function labIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => i.toString(16).padStart(32, '0'));
}

describe('message bounds (spec/protocol.md §4)', () => {
  test.each(cases)('%s', (_name, type, inside, outside) => {
    expect(() => parseMessage(type, inside)).not.toThrow();
    expect(() => parseMessage(type, outside)).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
  });
});

describe('CBOR nesting depth (spec/protocol.md §2)', () => {
  // n nested one-element arrays around the integer 0: 0x81 n times, then 0x00.
  const nested = (n: number) => Uint8Array.from([...new Array<number>(n).fill(0x81), 0x00]);

  test('a scalar inside 15 arrays is at level 16: accepted', () => {
    expect(() => decodeDeterministic(nested(15))).not.toThrow();
  });

  test('a scalar inside 16 arrays is at level 17: refused', () => {
    expect(() => decodeDeterministic(nested(16))).toThrow(expect.objectContaining({ code: 'BAD_ENCODING' }));
  });

  test('an empty array is a level of its own: 16 nested empty-ended arrays pass, 17 do not', () => {
    const empties = (n: number) => Uint8Array.from([...new Array<number>(n - 1).fill(0x81), 0x80]);
    expect(() => decodeDeterministic(empties(16))).not.toThrow();
    expect(() => decodeDeterministic(empties(17))).toThrow(expect.objectContaining({ code: 'BAD_ENCODING' }));
  });

  test('a map key counts as a level: {"a": …} nesting reaches the limit one level sooner than its value', () => {
    // 15 maps {"a": {"a": … 0}}: the innermost 0 is at level 16.
    const maps = (n: number) => Uint8Array.from([...Array.from({ length: n }, () => [0xa1, 0x61, 0x61]).flat(), 0x00]);
    expect(() => decodeDeterministic(maps(15))).not.toThrow();
    expect(() => decodeDeterministic(maps(16))).toThrow(expect.objectContaining({ code: 'BAD_ENCODING' }));
  });
});
