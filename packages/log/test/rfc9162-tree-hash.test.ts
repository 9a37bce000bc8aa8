import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { LogError, leafHash, nodeHash, rootFromLeafHashes, rootHash, splitPoint } from '../src/index.js';

const testdata = fileURLToPath(new URL('./vectors/transparency-dev-merkle/testdata/', import.meta.url));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

// The reference leaves the transparency-dev vectors are built from (RFC 6962 test tree).
const referenceLeaves = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => Uint8Array.from(Buffer.from(h, 'hex')));

interface RootFact {
  file: string;
  size: number;
  root: string;
}

function happyPathRoots(): RootFact[] {
  const facts: RootFact[] = [];
  for (const dir of ['inclusion', 'consistency']) {
    for (const sub of readdirSync(`${testdata}${dir}`).filter((name) => /^\d+$/.test(name))) {
      const file = `${dir}/${sub}/happy-path.json`;
      const v = JSON.parse(readFileSync(`${testdata}${file}`, 'utf8')) as Record<string, unknown>;
      if (dir === 'inclusion') facts.push({ file, size: v.treeSize as number, root: v.root as string });
      else {
        facts.push({ file, size: v.size1 as number, root: v.root1 as string });
        facts.push({ file, size: v.size2 as number, root: v.root2 as string });
      }
    }
  }
  return facts;
}

describe('RFC 9162 tree hash against the transparency-dev vectors', () => {
  const facts = happyPathRoots();

  test('the vectors were found', () => {
    expect(facts.length).toBeGreaterThanOrEqual(10);
  });

  describe.each(facts)('$file: root of the first $size reference leaves', ({ size, root }) => {
    test('matches', () => {
      expect(b64(rootHash(referenceLeaves.slice(0, size)))).toBe(root);
    });
  });

  test('the empty tree hashes to SHA-256 of the empty string', () => {
    expect(hex(rootHash([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  test('a leaf hash is SHA-256(0x00 || leaf)', () => {
    expect(hex(leafHash(new Uint8Array(0)))).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  });
});

describe('tree hash laws', () => {
  const leaves = fc.array(fc.uint8Array({ maxLength: 16 }), { minLength: 1, maxLength: 40 });

  test.prop([leaves])('the root of n leaves is node(root(first k), root(rest))', (ls) => {
    if (ls.length === 1) {
      expect(rootHash(ls)).toEqual(leafHash(ls[0] as Uint8Array));
      return;
    }
    const k = splitPoint(ls.length);
    expect(rootHash(ls)).toEqual(nodeHash(rootHash(ls.slice(0, k)), rootHash(ls.slice(k))));
  });

  test.prop([leaves, fc.nat()])('changing any leaf changes the root', (ls, at) => {
    const i = at % ls.length;
    const changed = ls.slice();
    changed[i] = Uint8Array.of(...(ls[i] as Uint8Array), 0);
    expect(hex(rootHash(changed))).not.toBe(hex(rootHash(ls)));
  });

  test.each([2, 3, 4, 5, 8, 9, 1000])('splitPoint(%i) is the largest power of two below it', (n) => {
    const k = splitPoint(n);
    expect(k).toBeLessThan(n);
    expect(k * 2).toBeGreaterThanOrEqual(n);
    expect(Number.isInteger(Math.log2(k))).toBe(true);
  });

  test.each([0, 1, -3, 2.5, Number.NaN])('splitPoint(%s) is a BAD_INDEX error', (n) => {
    expect(() => splitPoint(n)).toThrow(expect.objectContaining({ code: 'BAD_INDEX' }));
  });

  test('hashes of the wrong length are BAD_HASH errors naming the input', () => {
    expect(() => nodeHash(new Uint8Array(31), new Uint8Array(32))).toThrow(LogError);
    expect(() => rootFromLeafHashes([new Uint8Array(32), new Uint8Array(33)])).toThrow(
      expect.objectContaining({ code: 'BAD_HASH', message: expect.stringContaining('leaf hash 1') }),
    );
  });
});
