/**
 * A lying witness as a process of its own: it answers C2SP tlog-witness `add-checkpoint` with a
 * cosignature for every checkpoint the log's key signed, whatever it cosigned before and whatever
 * the proof — the witness a split view needs. Its cosignatures are real (C2SP tlog-cosignature/v1
 * under its own Ed25519 key), so only a policy that also needs an honest witness stops them.
 *
 *   node --import tsx --conditions=@overlap/source test/support/lying-witness-process.ts NAME LOG_VKEY
 *
 * Prints one JSON line once listening on loopback: { url, vkey }.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateSigningKeyPair } from '@overlap/crypto';
import {
  ED25519_COSIGNATURE_TYPE,
  ed25519Cosigner,
  formatVerifierKey,
  parseAddCheckpointRequest,
  parseSignedNote,
  parseVerifierKey,
  signNote,
  verifyCheckpointNote,
} from '@overlap/log';

const [name, logVkey] = process.argv.slice(2) as [string, string];
const keys = generateSigningKeyPair();
const log = parseVerifierKey(logVkey);

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    try {
      const { checkpoint: note } = parseAddCheckpointRequest(Buffer.concat(chunks).toString('utf8'));
      verifyCheckpointNote(note, [log]); // the one check it makes: the log signed it
      const { text } = parseSignedNote(note);
      const cosigned = signNote(text, [ed25519Cosigner(name, keys.secretKey, Math.floor(Date.now() / 1000))]);
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(cosigned.slice(text.length + 1));
    } catch (error) {
      response.writeHead(403, { 'content-type': 'text/plain' }).end(`${(error as Error).message}\n`);
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  const vkey = formatVerifierKey(name, keys.publicKey, ED25519_COSIGNATURE_TYPE);
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, vkey })}\n`);
});
