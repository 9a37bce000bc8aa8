/**
 * `overlap session run` against a relay URL that answers, but not with the relay's service: an
 * HTTP status is an answer, and is never said as "does not answer". The server here stands where
 * a reverse proxy answers 503 for a relay that is down (the real relay is not needed for that),
 * and, in the second case, goes away after three answers, so that the attempts meet both.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeDeterministic } from '@overlap/protocol';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-answers-'));
const servers: Server[] = [];
beforeAll(async () => {
  const made = await runCli(['keygen', '--out', 'lab.key', '--no-passphrase'], { cwd: dir });
  expect(made.code, made.stderr).toBe(0);
  writeFileSync(join(dir, 'suspects.txt'), 'a@answers.example\n');
}, 60_000);
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Answers 503 UNAVAILABLE (the relay's CBOR error body) to the first `answers` requests, then stops listening. */
async function unavailable(answers = Number.POSITIVE_INFINITY): Promise<string> {
  let requests = 0;
  const server = createServer((_, res) => {
    requests++;
    res.writeHead(503, { 'content-type': 'application/cbor', connection: 'close' });
    res.end(encodeDeterministic({ error: { code: 'UNAVAILABLE', message: 'the relay is down' } }));
    if (requests >= answers) server.close();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const address = server.address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

const run = (relay: string) =>
  runCli(
    ['session', 'run', '--relay', relay, '--key', 'lab.key', '--session', 'ab'.repeat(16), '--input', 'suspects.txt'],
    { cwd: dir },
  );

test('a relay URL that answers 503 on every attempt: said as answered, with the status, on all 8 (1)', async () => {
  const relay = await unavailable();
  const result = await run(relay);
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr).toContain(`the relay at ${relay} answered HTTP 503 UNAVAILABLE; 8 attempts before giving up`);
  expect(result.stderr).toContain(
    `the relay at ${relay} answered HTTP 503 UNAVAILABLE on all 8 attempts (GET /v1/relay)`,
  );
  expect(result.stderr).not.toMatch(/does not answer|no answer|cannot reach/);
}, 120_000);

test('503 three times, then nothing listening: both counted, and the answers are not called "no answer" (1)', async () => {
  const relay = await unavailable(3);
  const result = await run(relay);
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr).toContain(`the relay at ${relay} answered HTTP 503 UNAVAILABLE; 8 attempts before giving up`);
  const counted = new RegExp(
    `the relay at ${relay.replaceAll('.', '\\.')} did not serve GET /v1/relay in 8 attempts: 3 answered HTTP 503 UNAVAILABLE, (.+)$`,
    'm',
  ).exec(result.stderr);
  expect(counted, result.stderr).not.toBeNull();
  // The rest got no answer: refused (or, once, a hang-up as the server closed), 5 in all.
  const rest = [...(counted?.[1] ?? '').matchAll(/(\d+) got no answer \(([^()]+ \([A-Z_]+\))\)/g)];
  expect(rest.map((m) => m[2])).toContain('connection refused (ECONNREFUSED)');
  expect(rest.reduce((n, m) => n + Number(m[1]), 0)).toBe(5);
}, 120_000);
