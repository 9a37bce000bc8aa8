/**
 * Invalid UTF-8 is named exactly: the line and byte offset of the first ill-formed byte, however
 * the input is cut into chunks (a character or a bad sequence may straddle two chunks). The truth
 * is computed here from where the test put the bad bytes.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { firstInvalidUtf8, incompleteTailStart } from '../src/import/utf8-scan.js';
import { readPlainLines, utf8Strings } from '../src/index.js';

async function* inChunks(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let start = 0;
  for (const cut of [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)) {
    yield bytes.subarray(start, cut);
    start = cut;
  }
  yield bytes.subarray(start);
}

async function failure(
  source: AsyncIterable<Uint8Array>,
): Promise<{ code: string; details: unknown; message: string }> {
  try {
    for await (const _ of utf8Strings(source));
  } catch (error) {
    return error as { code: string; details: unknown; message: string };
  }
  throw new Error('decoding did not fail');
}

const encode = (text: string) => new TextEncoder().encode(text);

/** Ill-formed sequences of Unicode §3.9 Table 3-7, each right after a well-formed prefix. */
const BAD_SEQUENCES: [string, number[]][] = [
  ['a lone continuation byte', [0x80]],
  ['an overlong two-byte form', [0xc0, 0xaf]],
  ['a lead byte F5', [0xf5, 0x80, 0x80, 0x80]],
  ['a surrogate (ED A0 80)', [0xed, 0xa0, 0x80]],
  ['an overlong three-byte form (E0 80 AF)', [0xe0, 0x80, 0xaf]],
  ['a code point over U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
  ['a three-byte lead cut by ASCII', [0xe2, 0x82, 0x41]],
  ['Latin-1 é', [0xe9, 0x74, 0xe9]],
];

describe('the first ill-formed byte', () => {
  test.each(BAD_SEQUENCES)('%s is found at its first byte', (_label, bad) => {
    const prefix = encode('ok\nzoë@bücher.example\n€ ');
    const bytes = Uint8Array.from([...prefix, ...bad, ...encode('\nmore\n')]);
    expect(firstInvalidUtf8(bytes, true)).toBe(prefix.length);
  });

  test('a character cut by the end is ill-formed only at the very end', () => {
    const cut = encode('a€').subarray(0, 3); // 61 E2 82
    expect(firstInvalidUtf8(cut, false)).toBe(-1);
    expect(firstInvalidUtf8(cut, true)).toBe(1);
    expect(incompleteTailStart(cut)).toBe(1);
    expect(incompleteTailStart(encode('a€'))).toBe(4);
    expect(incompleteTailStart(encode('a'))).toBe(1);
  });

  test('well-formed text of any code points has none', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        const bytes = encode(text);
        expect(firstInvalidUtf8(bytes, true)).toBe(-1);
        expect(incompleteTailStart(bytes)).toBe(bytes.length);
      }),
    );
  });
});

describe('utf8Strings names the line and byte of invalid UTF-8', () => {
  test('property: a bad sequence anywhere, chunks cut anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        fc.constantFrom(...BAD_SEQUENCES.map(([, bad]) => bad)),
        fc.array(fc.nat({ max: 200 }), { maxLength: 6 }),
        async (lines, where, bad, cuts) => {
          const text = lines.join('\n');
          // Insert at a character boundary: between two code points of the text.
          const codePoints = [...text];
          const at = where % (codePoints.length + 1);
          const before = encode(codePoints.slice(0, at).join(''));
          const bytes = Uint8Array.from([...before, ...bad, ...encode(codePoints.slice(at).join(''))]);
          const error = await failure(inChunks(bytes, cuts));
          const line = codePoints.slice(0, at).filter((c) => c === '\n').length + 1;
          expect(error).toMatchObject({ code: 'BAD_FILE', details: { line, byte: before.length } });
          expect(error.message).toContain(`line ${line}: invalid UTF-8 at byte ${before.length}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a file that ends inside a character names where the character starts', async () => {
    const bytes = Uint8Array.from([...encode('a@b.example\nx'), 0xe2, 0x82]);
    const error = await failure(inChunks(bytes, [13, 14]));
    expect(error).toMatchObject({ code: 'BAD_FILE', details: { line: 2, byte: 13 } });
    expect(error.message).toContain('ends inside a UTF-8 character');
  });

  test('a byte-order mark counts as bytes of the file, not as a line', async () => {
    const bytes = Uint8Array.from([0xef, 0xbb, 0xbf, ...encode('a\nb'), 0xff]);
    const error = await failure(inChunks(bytes, [1, 2]));
    expect(error).toMatchObject({ details: { line: 2, byte: 6 } });
  });

  test('the importers let the error through unchanged', async () => {
    const bytes = Uint8Array.from([...encode('one\ntwo\n'), 0xff]);
    await expect(
      (async () => {
        for await (const _ of readPlainLines(inChunks(bytes, [3])));
      })(),
    ).rejects.toMatchObject({ code: 'BAD_FILE', details: { line: 3, byte: 8 } });
  });
});
