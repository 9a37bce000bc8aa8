/**
 * `overlap results` on a result document of the test's own (no relay: the command reads only the
 * state directory): the CSV guard as the flag, the environment and the config file set it, and a
 * document that is not one refused with the file named.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { runCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-results-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const session = 'ab'.repeat(16);
const stateDir = join(dir, '.overlap', 'lab');
mkdirSync(stateDir, { recursive: true, mode: 0o700 });
// A value a spreadsheet would run as a formula (values come from suspects' data: attacker text).
const formula = '=HYPERLINK("http://x.example")';
writeFileSync(
  join(stateDir, `${session}.json`),
  JSON.stringify({
    session,
    lab: 'north',
    relay: 'overlap-relay/test',
    policy: { kind: 'count' },
    finished: '2026-12-02T10:00:00.000Z',
    results: [{ kind: 'account', value: formula, count: 2, line: 7, id: 'u-1' }],
  }),
);

const csvRow = (stdout: string) => stdout.split('\r\n')[1];

test('formulas are guarded by default; --csv-guard none, $OVERLAP_CSV_GUARD and [results] csv_guard leave them', async () => {
  const guarded = await runCli(['results', '--session', session, '--format', 'csv'], { cwd: dir });
  expect(guarded.code, guarded.stderr).toBe(0);
  expect(csvRow(guarded.stdout)).toBe(`account,"'=HYPERLINK(""http://x.example"")",,2,7,u-1,`);
  const none = await runCli(['results', '--session', session, '--format', 'csv', '--csv-guard', 'none'], { cwd: dir });
  expect(csvRow(none.stdout)).toBe('account,"=HYPERLINK(""http://x.example"")",,2,7,u-1,');
  const env = await runCli(['results', '--session', session, '--format', 'csv'], {
    cwd: dir,
    env: { OVERLAP_CSV_GUARD: 'none' },
  });
  expect(csvRow(env.stdout)).toBe(csvRow(none.stdout));
  writeFileSync(join(dir, 'overlap.toml'), '[results]\ncsv_guard = "none"\n');
  const config = await runCli(['results', '--session', session, '--format', 'csv'], { cwd: dir });
  rmSync(join(dir, 'overlap.toml'));
  expect(csvRow(config.stdout)).toBe(csvRow(none.stdout));
  // JSON lines are data: never guarded, whatever the setting.
  const jsonl = await runCli(['results', '--session', session, '--format', 'jsonl'], { cwd: dir });
  expect(JSON.parse(jsonl.stdout)).toEqual({ kind: 'account', value: formula, count: 2, line: 7, id: 'u-1' });
}, 120_000);

test('no results here is 66; a document that is not JSON is 65, naming the file', async () => {
  const missing = await runCli(['results', '--session', 'cd'.repeat(16), '--format', 'csv'], { cwd: dir });
  expect(missing.code).toBe(66);
  expect(missing.stderr).toMatch(/no results for session/);
  const other = 'ef'.repeat(16);
  writeFileSync(join(stateDir, `${other}.json`), '{"session":');
  const broken = await runCli(['results', '--session', other, '--format', 'csv'], { cwd: dir });
  expect(broken.code, broken.stderr).toBe(65);
  expect(broken.stderr).toContain(join(stateDir, `${other}.json`));
}, 60_000);
