/**
 * `overlap tls trial` in a real process: the files it writes (0700 directory, 0600 files, never
 * into an existing directory), and that they work — a node:https server with its certificate is
 * trusted by a client given only the CA (as NODE_EXTRA_CA_CERTS does for labs), refused by one
 * without it, and refused for a host name the certificate does not name.
 */

import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { runCli } from './support/cli-process.js';

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
