/**
 * Verify every signature of a session transcript, using only @overlap/crypto and @overlap/protocol.
 *
 *   pnpm example examples/audit-verify-signatures.ts TRANSCRIPT [--admin-key HEX]
 *
 * The membership entries must open under the forum admin's key (pin it with --admin-key; otherwise
 * the one the transcript names is used, and said so); each enrollment gives a lab's signing key.
 * Every session envelope must then open under its sender's enrolled key, or the relay's. Prints
 * one line per envelope — log index, signer, type, verdict — and exits 1 if any does not verify.
 */
import { readFileSync } from 'node:fs';
import { fromHex, keyId } from '@overlap/crypto';
import { decodeDeterministic, openEnvelope, parseMessage } from '@overlap/protocol';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const pinned = args.includes('--admin-key') ? args[args.indexOf('--admin-key') + 1] : undefined;
if (!file) {
  console.error('usage: audit-verify-signatures.ts TRANSCRIPT [--admin-key HEX]');
  process.exit(64);
}

type Logged = { index: number; envelope: Uint8Array };
const transcript = decodeDeterministic(new Uint8Array(readFileSync(file))) as unknown as {
  relay: { log_key: Uint8Array; relay_key_id: string; admin_key: Uint8Array };
  membership: Logged[];
  envelopes: Logged[];
};
const adminKey = pinned ? fromHex(pinned) : transcript.relay.admin_key;
console.log(`admin key: ${pinned ? 'pinned' : "the transcript's own (pin it with --admin-key)"}`);

// Who may sign: the relay, and every lab the admin enrolled.
const keys = new Map<string, { name: string; key: Uint8Array }>([
  [transcript.relay.relay_key_id, { name: 'relay', key: transcript.relay.log_key }],
]);
let failures = 0;
const line = (index: number, signer: string, type: string, verdict: string) =>
  console.log(`${String(index).padStart(6)}  ${signer.padEnd(12)}  ${type.padEnd(16)}  ${verdict}`);

console.log(' index  signer        type              verdict');
for (const { index, envelope } of transcript.membership) {
  try {
    const opened = openEnvelope(envelope, () => adminKey);
    if (opened.header.type === 'enrollment') {
      const enrollment = parseMessage('enrollment', opened.payload);
      keys.set(keyId(enrollment.signing_key), { name: enrollment.lab, key: enrollment.signing_key });
    }
    line(index, 'admin', opened.header.type, 'ok');
  } catch (error) {
    failures++;
    line(index, 'admin?', '?', `FAIL: ${(error as Error).message}`);
  }
}
for (const { index, envelope } of transcript.envelopes) {
  try {
    const opened = openEnvelope(envelope, (id) => keys.get(id)?.key);
    line(index, keys.get(opened.header.sender)?.name ?? opened.header.sender, opened.header.type, 'ok');
  } catch (error) {
    failures++;
    line(index, '?', '?', `FAIL: ${(error as Error).message}`);
  }
}
const total = transcript.membership.length + transcript.envelopes.length;
console.log(failures === 0 ? `all ${total} signatures verify` : `${failures} of ${total} signatures do NOT verify`);
process.exitCode = failures === 0 ? 0 : 1;
