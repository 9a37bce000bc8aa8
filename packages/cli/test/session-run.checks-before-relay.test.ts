/**
 * What `overlap session run` settles before it contacts the relay, as a lab meets it in a real
 * process run from some folder:
 *
 *   - an input it cannot open is 66, naming the file and the OS's reason, even when the file is
 *     there (a file without read permission; as root, which reads any file, one the kernel still
 *     refuses to open for reading: /proc/sys/vm/drop_caches, mode 0200);
 *   - with a config file in use (`--config`, `$OVERLAP_CONFIG`) that sets no state_dir, the default
 *     state folder is beside the file, as every path in it is, whichever folder the command runs in.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { runCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-before-relay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A relay URL nothing answers on (and fetch refuses at once): contacting it fails as something else than 66. */
const NO_RELAY = 'http://127.0.0.1:9';

test('an input that is there and cannot be opened for reading: 66, named, with the OS reason, before the relay', async () => {
  let input = '/proc/sys/vm/drop_caches';
  if (process.getuid?.() !== 0) {
    input = join(dir, 'locked.txt');
    writeFileSync(input, 'a@locked.example\n');
    chmodSync(input, 0o000);
  }
  const result = await runCli(
    ['session', 'run', '--relay', NO_RELAY, '--key', 'lab.key', '--session', 'ab'.repeat(16), '--input', input],
    { cwd: dir },
  );
  expect(result.code, result.stderr).toBe(66);
  expect(result.stderr).toContain(`cannot read the indicator file ${input}: permission denied`);
}, 60_000);

test('--config elsewhere with no state_dir: the default state folder is beside the config file', async () => {
  const lab = join(dir, 'lab');
  const elsewhere = join(dir, 'elsewhere');
  mkdirSync(lab);
  mkdirSync(elsewhere);
  const config = join(lab, 'overlap.toml');
  writeFileSync(config, 'relay = "https://relay.example"\nkey = "lab.key"\n');
  writeFileSync(join(lab, 'lab.key'), '{}');

  const byFlag = await runCli(['config', 'check', '--config', config, '--json'], { cwd: elsewhere });
  expect(byFlag.code, byFlag.stderr).toBe(0);
  const settings = JSON.parse(byFlag.stdout).settings;
  expect(settings.key.value).toBe(join(lab, 'lab.key'));
  expect(settings.state_dir).toEqual({ value: join(lab, '.overlap/lab'), source: 'default' });

  const byEnv = await runCli(['config', 'check', '--json'], { cwd: elsewhere, env: { OVERLAP_CONFIG: config } });
  expect(JSON.parse(byEnv.stdout).settings.state_dir.value).toBe(join(lab, '.overlap/lab'));

  // What a run does with it: a session done for this lab is found in the lab's folder, not the cwd's.
  const session = 'cd'.repeat(16);
  mkdirSync(join(lab, '.overlap', 'lab'), { recursive: true });
  writeFileSync(join(lab, '.overlap', 'lab', `${session}.json`), `{"session":"${session}"}`);
  const done = await runCli(
    ['session', 'run', '--config', config, '--relay', NO_RELAY, '--session', session, '--input', 'none.txt'],
    { cwd: elsewhere },
  );
  expect(done.code, done.stderr).toBe(0);
  expect(done.stderr).toContain(`is already done for this lab; see \`overlap results --session ${session}`);
  expect(done.stderr).toContain(join(lab, '.overlap', 'lab', `${session}.json`));

  // Without a config file, the working directory's folder, as before.
  const none = await runCli(['config', 'check', '--json'], { cwd: elsewhere });
  expect(JSON.parse(none.stdout).settings.state_dir.value).toBe(join(elsewhere, '.overlap/lab'));
}, 60_000);
