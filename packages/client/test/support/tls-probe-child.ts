/**
 * Run in a child process (so that NODE_EXTRA_CA_CERTS, read once at start-up, can differ per
 * test): reads the checkpoint of the relay at argv[2] once, and prints the outcome as one JSON line,
 * `{ ok: true, body }` or `{ ok: false, code, message }`.
 */
import { ClientError, RelayClient } from '../../src/index.js';

const url = process.argv[2] as string;
try {
  const body = await new RelayClient({ url, retry: { attempts: 1 } }).checkpoint();
  process.stdout.write(`${JSON.stringify({ ok: true, body })}\n`);
} catch (error) {
  const code = error instanceof ClientError ? error.code : 'NOT_A_CLIENT_ERROR';
  process.stdout.write(`${JSON.stringify({ ok: false, code, message: (error as Error).message })}\n`);
}
