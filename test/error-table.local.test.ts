/**
 * spec/errors.md §5 lists the reference implementation's own failure codes: this test reads its
 * tables and checks them against the code unions of the SDK's and the relay's error classes and
 * the CLI's exit codes — no code missing, none extra. (§2–§4, the wire codes, are checked by
 * packages/relay/test/relay.error-table.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { EXIT } from '@overlap/cli';
import { expect, test } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const SPEC = read('spec/errors.md');

/** The first column of the table under the heading that starts with `heading`. */
function firstColumn(heading: string): string[] {
  const start = SPEC.indexOf(`\n### ${heading}`);
  expect(start, `spec/errors.md has a section "${heading}"`).toBeGreaterThan(0);
  const next = SPEC.slice(start + 1).search(/\n#{2,3} /);
  const section = SPEC.slice(start, next < 0 ? undefined : start + 1 + next);
  return section
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s-|]+\|$/.test(line))
    .slice(1)
    .map((line) => (line.slice(1).split('|')[0] ?? '').trim().replaceAll('`', ''));
}

/** The string literals of a `type Name = | 'A' | 'B' …;` union in a source file. */
function unionCodes(source: string, typeName: string): string[] {
  const start = source.indexOf(`export type ${typeName} =`);
  expect(start, `${typeName} is declared`).toBeGreaterThanOrEqual(0);
  const body = source.slice(start, source.indexOf(';', start));
  return [...body.matchAll(/\|\s*'([A-Z_]+)'/g)].map((m) => m[1] as string);
}

test('§5.1 lists exactly the SDK ClientError codes', () => {
  const codes = unionCodes(read('packages/client/src/errors.ts'), 'ClientErrorCode');
  expect(codes.length).toBeGreaterThan(10);
  expect(firstColumn('5.1').sort()).toEqual([...codes].sort());
});

test("§5.2 lists exactly the relay's operator codes", () => {
  const codes = unionCodes(read('packages/relay/src/errors.ts'), 'RelayOperatorErrorCode');
  expect(codes).toContain('BACKUP_EXISTS');
  expect(firstColumn('5.2').sort()).toEqual([...codes].sort());
});

test("§5.3 lists exactly the CLI's exit codes", () => {
  const exits = Object.values(EXIT).map(String);
  expect(exits).toContain('130');
  expect(firstColumn('5.3').sort()).toEqual([...exits].sort());
});

test("§5.4 lists exactly the witness's codes", () => {
  const codes = unionCodes(read('packages/witness/src/errors.ts'), 'WitnessErrorCode');
  expect(codes).toContain('STATE_DAMAGED');
  expect(firstColumn('5.4').sort()).toEqual([...codes].sort());
});
