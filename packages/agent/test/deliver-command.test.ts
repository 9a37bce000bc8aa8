/**
 * deliverToCommand runs the lab's command with the session's results named in its environment,
 * and without the agent's secrets: the test command writes the environment it received to a file.
 * A failing or hung command is DELIVERY_FAILED, and its stderr (which may quote results) is not
 * quoted.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { deliverToCommand } from '../src/deliver-command.js';
import { AgentError } from '../src/errors.js';

const node = process.execPath;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'overlap-deliver-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The agent's environment as the test gives it: ordinary variables, secrets, and stale delivery ones. */
const agentEnv = {
  PATH: process.env.PATH,
  LAB_EXPORT_TARGET: 'siem.lab.example',
  OVERLAP_KEY_PASSPHRASE: 'correct horse',
  OVERLAP_WEBHOOK_SECRET: 'hook key',
  OVERLAP_WEBHOOK_URL: 'https://hooks.lab.example',
  EXPORTER_SECRET_TOKEN: 'token',
  OVERLAP_RESULTS_DOCUMENT: '/stale/other-session.json',
};

/** A command that writes the environment it received, as JSON, to `file`. */
const recordingEnv = (file: string) => [
  node,
  '-e',
  'require("fs").writeFileSync(process.argv[1], JSON.stringify(process.env))',
  file,
];

async function failure(run: Promise<unknown>): Promise<AgentError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgentError);
  return error as AgentError;
}

test('the command gets the session, the results file and count, and the agent’s environment without secrets', async () => {
  const seen = join(dir, 'env.json');
  await deliverToCommand(
    { argv: recordingEnv(seen), timeoutMs: 20_000, cwd: dir },
    { session: 'sess-1', resultsFile: join(dir, 'results.jsonl'), count: 3 },
    { env: agentEnv },
  );
  const env = JSON.parse(await readFile(seen, 'utf8')) as Record<string, string>;
  expect(env).toMatchObject({
    OVERLAP_SESSION: 'sess-1',
    OVERLAP_RESULTS_FILE: join(dir, 'results.jsonl'),
    OVERLAP_RESULTS_COUNT: '3',
    LAB_EXPORT_TARGET: 'siem.lab.example',
  });
  for (const name of [
    'OVERLAP_KEY_PASSPHRASE',
    'OVERLAP_WEBHOOK_SECRET',
    'OVERLAP_WEBHOOK_URL',
    'EXPORTER_SECRET_TOKEN',
    'OVERLAP_RESULTS_DOCUMENT', // stale: this delivery has no document
  ])
    expect(env).not.toHaveProperty(name);
  expect(JSON.stringify(env)).not.toContain('correct horse');
});

test('the results document is named when there is one', async () => {
  const seen = join(dir, 'env.json');
  await deliverToCommand(
    { argv: recordingEnv(seen), timeoutMs: 20_000 },
    { session: 'sess-2', resultsFile: join(dir, 'r.jsonl'), resultsDocument: join(dir, 'r.json'), count: 0 },
    { env: agentEnv },
  );
  const env = JSON.parse(await readFile(seen, 'utf8')) as Record<string, string>;
  expect(env).toMatchObject({ OVERLAP_RESULTS_DOCUMENT: join(dir, 'r.json'), OVERLAP_RESULTS_COUNT: '0' });
});

test('a failing command is DELIVERY_FAILED, its stderr not quoted', async () => {
  const error = await failure(
    deliverToCommand(
      {
        argv: [node, '-e', 'process.stderr.write("cannot export dave@example.org\\n"); process.exitCode = 4'],
        timeoutMs: 20_000,
      },
      { session: 'sess-3', resultsFile: join(dir, 'r.jsonl'), count: 1 },
      { env: agentEnv },
    ),
  );
  expect(error).toMatchObject({ code: 'DELIVERY_FAILED', details: { exitCode: 4 } });
  expect(error.message).not.toContain('dave@example.org');
});

test('a command that cannot start, or hangs, is DELIVERY_FAILED', async () => {
  const delivery = { session: 'sess-4', resultsFile: join(dir, 'r.jsonl'), count: 1 };
  const missing = await failure(
    deliverToCommand({ argv: ['overlap-test-no-such-exporter'], timeoutMs: 20_000 }, delivery, { env: agentEnv }),
  );
  expect(missing.code).toBe('DELIVERY_FAILED');
  const hung = await failure(
    deliverToCommand({ argv: [node, '-e', 'setInterval(() => {}, 1000)'], timeoutMs: 300 }, delivery, {
      env: agentEnv,
    }),
  );
  expect(hung).toMatchObject({ code: 'DELIVERY_FAILED', details: { timedOut: true } });
});
