/**
 * A real HTTPS webhook receiver on 127.0.0.1 (port 0) for the delivery tests: it keeps every
 * request (headers, the raw body's bytes) and answers each with what the test scripted, or not
 * at all (a hung receiver). Its certificate comes from a trial CA made in the test
 * (@overlap/cli's trial-certificates.ts, on @peculiar/x509), written to a file for `caFile`.
 * Also: driving a ManualClock through an agent's retries without fixed sleeps.
 */
import { writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { makeTrialCertificates, type TrialCertificates } from '../../../cli/src/trial-certificates.js';
import type { ManualClock } from '../../src/clock.js';

export interface ReceivedRequest {
  method: string;
  /** The path and query as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An answer: a status and headers; `hang` never answers. */
export type Answer = { status: number; headers?: Record<string, string> } | 'hang';

export interface Receiver {
  /** `https://127.0.0.1:<port>` */
  origin: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

export interface TestCa extends TrialCertificates {
  /** The CA certificate's PEM file. */
  caFile: string;
}

/** A CA and a certificate for 127.0.0.1 and localhost, the CA written to `dir`/`name`. */
export async function makeCa(dir: string, name = 'ca.pem'): Promise<TestCa> {
  const certificates = await makeTrialCertificates({ hosts: ['127.0.0.1', 'localhost'] });
  const caFile = join(dir, name);
  await writeFile(caFile, certificates.caCert);
  return { ...certificates, caFile };
}

/** A receiver answering the n-th request (from 0) with `answer(n)`. */
export async function startReceiver(ca: TrialCertificates, answer: (n: number) => Answer): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer({ cert: ca.cert, key: ca.key }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const n = requests.length;
      requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks),
      });
      const reply = answer(n);
      if (reply === 'hang') return;
      response.writeHead(reply.status, reply.headers ?? {});
      response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Settles `work`, moving `clock` to its next sleeper's wake time whenever something sleeps on it:
 * the retries' waits pass at once, and nothing waits for a fixed time.
 */
export async function driveClock<T>(clock: ManualClock, work: Promise<T>): Promise<T> {
  let settled = false;
  const done = work.finally(() => {
    settled = true;
  });
  done.catch(() => {});
  while (!settled) {
    const wake = clock.nextWake;
    if (wake !== undefined) clock.set(wake);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return done;
}
