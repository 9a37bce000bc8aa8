/**
 * `overlap tls trial` in a real process: the files it writes (0700 directory, 0600 files, never
 * into an existing directory), and that they work — a node:https server with its certificate is
 * trusted by a client given only the CA (as NODE_EXTRA_CA_CERTS does for labs), refused by one
 * without it, and refused for a host name the certificate does not name. The temporary directory it
 * writes in is its own: one planted in advance at the name an earlier version used
 * (`DIR.partial-PID`) is neither written into nor made DIR.
 */

import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { runCli, startCli } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'overlap-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function get(port: number, ca: string | undefined, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/', ...(ca !== undefined && { ca }), ...(servername && { servername }) },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('tls trial writes a CA and a relay certificate that a client trusts through the CA alone', async () => {
  const out = join(dir, 'tls');
  const made = await runCli(['tls', 'trial', '--out', out, '--json']);
  expect(made.code, made.stderr).toBe(0);
  const paths = JSON.parse(made.stdout) as { ca: string; cert: string; key: string };
  expect(statSync(out).mode & 0o777).toBe(0o700);
  for (const file of Object.values(paths)) expect(statSync(file).mode & 0o777).toBe(0o600);
  const ca = readFileSync(paths.ca, 'utf8');
  const cert = new X509Certificate(readFileSync(paths.cert));
  expect(cert.checkIssued(new X509Certificate(ca))).toBe(true);
  expect(cert.ca).toBe(false);
  expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');

  const server = createServer({ cert: readFileSync(paths.cert), key: readFileSync(paths.key) }, (_req, res) => {
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    expect(await get(port, ca)).toBe('ok');
    await expect(get(port, undefined)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    await expect(get(port, ca, 'relay.example')).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }

  // Never into an existing directory: nothing is written, exit 64.
  mkdirSync(join(dir, 'existing'));
  const again = await runCli(['tls', 'trial', '--out', join(dir, 'existing')]);
  expect(again.code).toBe(64);
  expect(again.stderr).toContain('exists; give a new directory');
});

test('a directory planted beside --out, at a name guessed from the pid, is neither written into nor taken as DIR', async () => {
  const parent = join(dir, 'planted');
  mkdirSync(parent);
  const out = join(parent, 'tls');
  const trial = startCli(['tls', 'trial', '--out', out, '--json']);
  // Another local user, knowing the pid (ps), makes the directory first, open to all, with a file in it.
  const guessed = `${out}.partial-${trial.child.pid}`;
  mkdirSync(guessed);
  chmodSync(guessed, 0o777);
  writeFileSync(join(guessed, 'planted'), 'theirs');
  const made = await trial.exited;
  expect(made.code, made.stderr).toBe(0);
  expect(statSync(out).mode & 0o777).toBe(0o700);
  expect(readdirSync(out).sort()).toEqual(['ca.pem', 'relay.key', 'relay.pem']);
  for (const file of readdirSync(out)) expect(statSync(join(out, file)).mode & 0o777).toBe(0o600);
  // The planted directory is left as it was; no temporary directory of the command's is left.
  expect(readdirSync(guessed)).toEqual(['planted']);
  expect(readdirSync(parent).sort()).toEqual(['tls', `tls.partial-${trial.child.pid}`]);
});
