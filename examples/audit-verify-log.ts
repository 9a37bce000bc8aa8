/**
 * Verify the relay's log over time: its signed checkpoints (C2SP signed notes of tlog-checkpoint
 * text) and the consistency proofs between them (RFC 9162), so that a log that rewrote, dropped or
 * forked its history is caught.
 *
 *   pnpm example examples/audit-verify-log.ts --transcript FILE
 *   pnpm example examples/audit-verify-log.ts --relay URL --log-key VKEY [--samples N] [--every MS]
 *                                              [--remember FILE]
 *
 * From a transcript: every checkpoint's signature, each consecutive pair's consistency proof, and
 * every receipt's inclusion proof. From a running relay: the latest checkpoint, N times, MS apart,
 * each verified against the log's verifier key (as the forum publishes it) and proven consistent
 * with the one before; with `--remember FILE`, the first also with the checkpoint a previous run
 * left in FILE (its signed note, 0600), and the last is left there for the next run, so that an
 * auditor who samples every day catches a log that went back or forked between runs. Exits 1 at
 * the first thing that does not verify. The transcript is read with
 * its one declaration (`decodeTranscript`, spec/relay-api.md §3); the rest is @overlap/log's
 * primitives, to show the log's public formats (the same checks, in full, are @overlap/audit's).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { RelayClient } from '@overlap/client';
import {
  type Checkpoint,
  ed25519NoteVerifier,
  type NoteVerifier,
  parseCheckpoint,
  parseVerifierKey,
  requireConsistent,
  verifyReceipt,
  verifySignedNote,
} from '@overlap/log';
import { decodeTranscript } from '@overlap/protocol';

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex').slice(0, 16);

/** Checks that `next` extends `previous` with `proof` (RFC 9162 consistency), and says so. */
function extend(previous: Checkpoint | undefined, next: Checkpoint, proof: Uint8Array[]): void {
  requireConsistent(previous, next, proof); // throws when the log went back, forked or was rewritten
  const tree = `size ${String(next.size).padStart(6)}  root ${hex(next.rootHash)}…`;
  console.log(`${tree}  signed${previous ? `, consistent with size ${previous.size}` : ' (first checkpoint)'}`);
}

function fromTranscript(file: string): void {
  const t = decodeTranscript(new Uint8Array(readFileSync(file)));
  const verifier: NoteVerifier = ed25519NoteVerifier(t.relay.origin, t.relay.log_key);
  console.log(`log ${t.relay.origin}: ${t.checkpoints.length} checkpoints`);
  let previous: Checkpoint | undefined;
  t.checkpoints.forEach(({ note }, i) => {
    const next = parseCheckpoint(verifySignedNote(note, [verifier]).text);
    const proof = i === 0 ? [] : (t.consistency[i - 1]?.proof ?? []);
    extend(previous, next, proof);
    previous = next;
  });
  const entries = [...t.membership, ...t.envelopes];
  for (const { envelope, receipt } of entries) verifyReceipt(envelope, receipt, [verifier]);
  console.log(`${entries.length} receipts: every inclusion proof holds in a signed checkpoint`);
}

async function fromRelay(url: string, vkey: string, samples: number, every: number, remember?: string): Promise<void> {
  const verifier = parseVerifierKey(vkey);
  const relay = new RelayClient({ url });
  console.log(`log ${verifier.name} at ${url}: ${samples} samples, ${every} ms apart`);
  let previous: Checkpoint | undefined;
  if (remember !== undefined && existsSync(remember)) {
    previous = parseCheckpoint(verifySignedNote(readFileSync(remember, 'utf8'), [verifier]).text);
    console.log(`remembered: size ${previous.size}, root ${hex(previous.rootHash)}… (${remember})`);
  }
  for (let i = 0; i < samples; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, every));
    const note = await relay.checkpoint();
    const next = parseCheckpoint(verifySignedNote(note, [verifier]).text);
    // A tree smaller than one seen before has no proof to give: requireConsistent refuses it.
    const proof =
      previous && previous.size > 0 && next.size > previous.size
        ? (await relay.consistency(previous.size, next.size)).proof
        : [];
    extend(previous, next, proof);
    previous = next;
    if (remember !== undefined) {
      // Written whole or not at all (a new file, then renamed), readable by this user only.
      writeFileSync(`${remember}.tmp`, note, { mode: 0o600 });
      renameSync(`${remember}.tmp`, remember);
    }
  }
}

try {
  const transcript = option('--transcript');
  const url = option('--relay');
  const vkey = option('--log-key');
  if (transcript) fromTranscript(transcript);
  else if (url && vkey)
    await fromRelay(
      url,
      vkey,
      Number(option('--samples') ?? 3),
      Number(option('--every') ?? 1000),
      option('--remember'),
    );
  else {
    console.error(
      'usage: audit-verify-log.ts --transcript FILE | --relay URL --log-key VKEY [--samples N] [--every MS] [--remember FILE]',
    );
    process.exitCode = 64;
  }
} catch (error) {
  console.error(`FAIL: ${(error as Error).message}`);
  process.exitCode = 1;
}
