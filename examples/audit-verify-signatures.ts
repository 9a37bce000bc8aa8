/**
 * Who signed what in a session transcript, one line per envelope, with @overlap/audit's own checks.
 *
 *   pnpm example examples/audit-verify-signatures.ts TRANSCRIPT [--admin-key HEX]
 *
 * The membership entries must open under the forum admin's key (pin it with --admin-key; otherwise
 * the one the transcript names is used, and said so), form one chain and be proven in the log; each
 * enrollment gives a lab's signing key from its log index until a revocation. Every session
 * envelope must then open under the relay's key or a lab key enrolled and not revoked at its index,
 * and be of the transcript's session. Prints one line per envelope — log index, signer, type,
 * verdict (with the audit's code when it fails) — and exits 1 if any does not verify. The complete
 * audit (chains, receipts, hops, results) is `verifyTranscript`, or `overlap audit verify`.
 */
import { readFileSync } from 'node:fs';
import { AuditError, checkCheckpoints, checkMembership, openSessionEnvelope, readTranscript } from '@overlap/audit';
import { fromHex } from '@overlap/crypto';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const pinned = args.includes('--admin-key') ? args[args.indexOf('--admin-key') + 1] : undefined;
if (!file) {
  console.error('usage: audit-verify-signatures.ts TRANSCRIPT [--admin-key HEX]');
  process.exit(64);
}

const transcript = readTranscript(new Uint8Array(readFileSync(file)));
const adminKey = pinned ? fromHex(pinned) : transcript.relay.admin_key;
console.log(`admin key: ${pinned ? 'pinned' : "the transcript's own (pin it with --admin-key)"}`);

let failures = 0;
const line = (index: number, signer: string, type: string, verdict: string) =>
  console.log(`${String(index).padStart(6)}  ${signer.padEnd(12)}  ${type.padEnd(16)}  ${verdict}`);
const failed = (error: unknown) =>
  error instanceof AuditError ? `FAIL: ${error.code}: ${error.message}` : `FAIL: ${(error as Error).message}`;
console.log(' index  signer        type              verdict');

// The membership check stops at the first entry that fails: the entries before it verified.
const { anchor } = checkCheckpoints(transcript);
const membership = checkMembership(transcript, adminKey, anchor);
const verified = new Map(membership.opened.map(({ index, envelope }) => [index, envelope.header.type]));
for (const { index } of transcript.membership) {
  const type = verified.get(index);
  if (type !== undefined) {
    line(index, 'admin', type, 'ok');
    continue;
  }
  failures++;
  const { verdict } = membership;
  const caught = verdict.ok === false && verdict.index === index;
  line(index, 'admin?', '?', caught ? `FAIL: ${verdict.code}: ${verdict.detail}` : 'FAIL: after an entry that failed');
}

// Each session envelope under the key allowed at its index: the relay's, or an enrolled lab's.
for (const entry of transcript.envelopes) {
  try {
    const { header } = openSessionEnvelope(transcript, membership.members, entry);
    const signer =
      header.sender === transcript.relay.relay_key_id ? 'relay' : membership.members.get(header.sender)?.lab;
    line(entry.index, signer ?? header.sender, header.type, 'ok');
  } catch (error) {
    failures++;
    line(entry.index, '?', '?', failed(error));
  }
}
const total = transcript.membership.length + transcript.envelopes.length;
console.log(failures === 0 ? `all ${total} signatures verify` : `${failures} of ${total} signatures do NOT verify`);
process.exitCode = failures === 0 ? 0 : 1;
