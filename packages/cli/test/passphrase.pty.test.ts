/**
 * The passphrase prompt (passphrase.ts) as a person at a terminal meets it, `overlap keygen` on a
 * pseudo-terminal (support/cli-terminal.ts): Ctrl-C is an interrupt (130, nothing written); Ctrl-D
 * with nothing typed ends the input (64), after text it ends the line; Backspace erases a whole
 * character; characters cut between two reads of the terminal (typed in pieces by a driver that
 * waits for each to be read) arrive whole, and the key is encrypted with what was typed; and a
 * terminal that goes away at the prompt is an error saying so, not a wait (a terminal that is not
 * the command's controlling one, closed under it).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeKeyFile } from '@overlap/crypto';
import { afterAll, expect, test } from 'vitest';
import { EXIT } from '../src/exit-codes.js';
import { cliArgs, cliEnv } from './support/cli-process.js';
import { type CliOnTerminal, startCliOnTerminal } from './support/cli-terminal.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-passphrase-'));
const terminals: CliOnTerminal[] = [];
afterAll(async () => {
  // A command still at its prompt (a test that failed) is interrupted, so that none is left behind.
  await Promise.all(
    terminals.map(async (terminal) => {
      const still = await Promise.race([terminal.exited.then(() => false), Promise.resolve(true)]);
      if (still) terminal.type('\u0003');
      await terminal.exited;
    }),
  );
  rmSync(dir, { recursive: true, force: true });
});

function keygenOnTerminal(key: string): CliOnTerminal {
  const terminal = startCliOnTerminal(['keygen', '--out', key], { cwd: dir });
  terminals.push(terminal);
  return terminal;
}
const at = (name: string) => join(dir, name);
const PROMPT = /passphrase for the new key file .*: $/;

/** The key file opens with `passphrase`, and only with it. */
function opensWith(path: string, passphrase: string): boolean {
  try {
    decodeKeyFile(readFileSync(path, 'utf8'), { passphrase }).dispose();
    return true;
  } catch {
    return false;
  }
}

test('Ctrl-C at the prompt: interrupted, exit 130, no key file', async () => {
  const key = at('interrupted.key');
  const keygen = keygenOnTerminal(key);
  await keygen.waitFor(PROMPT);
  keygen.type('half typ\u0003');
  const made = await keygen.exited;
  expect(made.code, made.screen).toBe(EXIT.INTERRUPTED);
  expect(made.screen).toContain('interrupted (Ctrl-C) at the passphrase prompt');
  expect(existsSync(key)).toBe(false);
}, 60_000);

test('Ctrl-D with nothing typed ends the input: exit 64 saying so, no key file', async () => {
  const key = at('ended.key');
  const keygen = keygenOnTerminal(key);
  await keygen.waitFor(PROMPT);
  keygen.type('\u0004');
  const made = await keygen.exited;
  expect(made.code, made.screen).toBe(EXIT.USAGE);
  expect(made.screen).toMatch(/the input ended \(Ctrl-D\) before a passphrase was typed/);
  expect(existsSync(key)).toBe(false);
}, 60_000);

test('Ctrl-D after text ends the line; Backspace erases a whole character', async () => {
  const key = at('ctrl-d.key');
  const keygen = keygenOnTerminal(key);
  await keygen.waitFor(PROMPT);
  keygen.type('mot de passe 😀\u007f\u007fé\u0004');
  const second = keygen.screen().length;
  await keygen.waitFor(/again: $/, second);
  keygen.type('mot de passeé\r');
  const made = await keygen.exited;
  expect(made.code, made.screen).toBe(0);
  expect(opensWith(key, 'mot de passeé')).toBe(true);
}, 60_000);

/**
 * The command on a pseudo-terminal (its stdin and stderr; not its controlling one), typed into in
 * pieces: each piece is written once the command has read every byte before it (its read count,
 * /proc/PID/io `rchar`, has grown and the terminal holds nothing unread), so that a piece ending
 * inside a character reaches the command in a read of its own. Steps (JSON, argv[1]):
 * `{"wait": REGEX}` (on what the terminal shows since the last wait) or `{"type": [HEX, …]}`.
 * Prints what the terminal showed; exits with the command's code (124 after 60 s).
 */
const TYPE_IN_PIECES = `
import fcntl, json, os, pty, re, select, struct, subprocess, sys, termios, time
master, slave = pty.openpty()
child = subprocess.Popen(sys.argv[2:], stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
deadline = time.monotonic() + 60
shown, since = b'', 0
def rchar():
    with open('/proc/%d/io' % child.pid) as io:
        return int(next(line for line in io if line.startswith('rchar:')).split()[1])
def unread():
    return struct.unpack('i', fcntl.ioctl(slave, termios.FIONREAD, b'\\0' * 4))[0]
def pump(timeout):
    global shown
    ready, _, _ = select.select([master], [], [], timeout)
    if not ready:
        return True
    try:
        data = os.read(master, 65536)
    except OSError:  # EIO: every end of the terminal is closed (the command exited)
        return False
    shown += data
    return len(data) > 0
def give_up():
    sys.stdout.buffer.write(shown)
    child.kill()
    sys.exit(124)
for step in json.loads(sys.argv[1]):
    if 'wait' in step:
        while not re.search(step['wait'].encode(), shown[since:]):
            if time.monotonic() > deadline or child.poll() is not None:
                give_up()
            pump(0.2)
        since = len(shown)
    for piece in step.get('type', []):
        before = rchar()
        os.write(master, bytes.fromhex(piece))
        while rchar() == before or unread() > 0:
            if time.monotonic() > deadline or child.poll() is not None:
                give_up()
            pump(0.01)
os.close(slave)
while time.monotonic() < deadline and pump(0.1):
    pass
sys.stdout.buffer.write(shown)
try:
    child.wait(timeout=max(0, deadline - time.monotonic()))
except subprocess.TimeoutExpired:
    child.kill()
    sys.exit(124)
sys.exit(child.returncode if child.returncode >= 0 else 128 - child.returncode)
`;

/** Runs `args` on a terminal driven by TYPE_IN_PIECES. */
function typedInPieces(args: string[], steps: ({ wait: string } | { type: Buffer[] })[]) {
  const json = JSON.stringify(
    steps.map((step) => ('wait' in step ? step : { type: step.type.map((b) => b.toString('hex')) })),
  );
  const child = spawn('python3', ['-c', TYPE_IN_PIECES, json, process.execPath, ...cliArgs(args)], {
    cwd: dir,
    env: cliEnv(),
  });
  let shown = '';
  child.stdout.on('data', (data: Buffer) => {
    shown += data.toString();
  });
  child.stderr.on('data', (data: Buffer) => {
    shown += data.toString(); // the driver's own failure, if any
  });
  return new Promise<{ code: number | null; shown: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, shown })),
  );
}

test('a character split between two reads of the terminal arrives whole: the key is encrypted with what was typed', async () => {
  const key = at('split.key');
  const typed = 'prix 5 €, 😀 inclus';
  const bytes = Buffer.from(`${typed}\r`);
  const euro = bytes.indexOf(Buffer.from('€'));
  const smile = bytes.indexOf(Buffer.from('😀'));
  // Cut inside € (3 bytes) and inside 😀 (4 bytes): three reads, two of them ending mid-character.
  const pieces = [bytes.subarray(0, euro + 1), bytes.subarray(euro + 1, smile + 2), bytes.subarray(smile + 2)];
  const made = await typedInPieces(
    ['keygen', '--out', key],
    [{ wait: 'passphrase for the new key file .*: $' }, { type: pieces }, { wait: 'again: $' }, { type: pieces }],
  );
  expect(made.code, made.shown).toBe(0);
  expect(opensWith(key, typed)).toBe(true);
}, 90_000);

/**
 * The command with stdin on one pseudo-terminal and stdout and stderr on another, neither its
 * controlling terminal (a new session, the fds inherited), so that closing the first sends no
 * SIGHUP: the command's reads of it end instead. The first is closed once the prompt shows on the
 * second, which is kept open to show what the command says then. Prints it; exits with the
 * command's code, or 124 when it has not ended 60 s later (it is then killed).
 */
const CLOSE_AT_PROMPT = `
import os, pty, re, select, subprocess, sys, time
keyboard, keyboard_end = pty.openpty()
screen, screen_end = pty.openpty()
child = subprocess.Popen(sys.argv[2:], stdin=keyboard_end, stdout=screen_end, stderr=screen_end, start_new_session=True)
os.close(keyboard_end)
os.close(screen_end)
seen, closed, deadline = b'', False, time.monotonic() + 60
while time.monotonic() < deadline:
    if not closed and re.search(sys.argv[1].encode(), seen):
        os.close(keyboard)
        closed = True
    ready, _, _ = select.select([screen], [], [], 0.2)
    if ready:
        try:
            data = os.read(screen, 65536)
        except OSError:
            data = b''
        if not data:
            break
        seen += data
sys.stdout.buffer.write(seen)
sys.stdout.flush()
try:
    code = child.wait(timeout=max(0, deadline - time.monotonic()))
except subprocess.TimeoutExpired:
    child.kill()
    sys.exit(124)
sys.exit(code if code >= 0 else 128 - code)
`;

test('the terminal closing at the prompt: an error saying so, not a wait', async () => {
  const key = at('closed.key');
  const child = spawn(
    'python3',
    ['-c', CLOSE_AT_PROMPT, 'passphrase for the new key file', process.execPath, ...cliArgs(['keygen', '--out', key])],
    { cwd: dir, env: cliEnv() },
  );
  let shown = '';
  child.stdout.on('data', (data: Buffer) => {
    shown += data.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(shown).toContain('overlap: the terminal closed at the passphrase prompt');
  // 1, or SIGABRT (134): node 20 aborts on its way out when it cannot restore the vanished
  // terminal's mode (src/node.cc ResetStdio), after the command has said what happened.
  expect([EXIT.FAILURE, 134]).toContain(code);
  expect(existsSync(key)).toBe(false);
}, 90_000);
