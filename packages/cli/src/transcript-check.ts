/**
 * A first auditor's check of a session transcript (spec/relay-api.md §3), needing nothing but the
 * transcript and, optionally, the admin key: every membership envelope opens under the admin key;
 * every session envelope opens under its sender's enrolled key (or the relay's) and each sender's
 * chain has no gap or fork; every receipt proves its envelope in a checkpoint signed by the log's
 * key; the checkpoints are consistent in order. The full audit (hops, recomputed matching) is
 * `overlap audit verify`.
 */
import { equalBytes, keyId, toHex } from '@overlap/crypto';
import {
  ed25519NoteVerifier,
  parseCheckpoint,
  type Receipt,
  verifyConsistency,
  verifyReceipt,
  verifySignedNote,
} from '@overlap/log';
import { type ChainState, checkChain, decodeDeterministic, openEnvelope, parseMessage } from '@overlap/protocol';

export interface TranscriptCheck {
  name: string;
  ok: boolean;
  detail: string;
}

interface Transcript {
  relay: { origin: string; log_key: Uint8Array; relay_key_id: string; admin_key: Uint8Array };
  session: Uint8Array;
  membership: { index: number; envelope: Uint8Array }[];
  envelopes: { index: number; envelope: Uint8Array; receipt: Receipt }[];
  checkpoints: { size: number; note: string }[];
  consistency: { from: number; to: number; proof: Uint8Array[] }[];
}

export function checkTranscript(bytes: Uint8Array, pinnedAdminKey?: Uint8Array): TranscriptCheck[] {
  const checks: TranscriptCheck[] = [];
  const check = (name: string, run: () => string) => {
    try {
      checks.push({ name, ok: true, detail: run() });
    } catch (error) {
      checks.push({ name, ok: false, detail: (error as Error).message });
    }
  };
  const t = decodeDeterministic(bytes) as unknown as Transcript;
  const adminKey = pinnedAdminKey ?? t.relay.admin_key;
  const keys = new Map<string, Uint8Array>([[t.relay.relay_key_id, t.relay.log_key]]);
  check('admin key', () => {
    if (pinnedAdminKey && !equalBytes(pinnedAdminKey, t.relay.admin_key))
      throw new Error('the transcript names another admin key');
    return pinnedAdminKey ? 'the pinned admin key' : 'taken from the transcript (pin it with --admin-key)';
  });
  check('membership signatures', () => {
    for (const { index, envelope } of t.membership) {
      const opened = openEnvelope(envelope, () => adminKey);
      if (opened.header.type === 'enrollment') {
        const e = parseMessage('enrollment', opened.payload);
        keys.set(keyId(e.signing_key), e.signing_key);
      } else if (opened.header.type !== 'revocation') throw new Error(`entry ${index} is a ${opened.header.type}`);
    }
    return `${t.membership.length} admin-signed envelopes`;
  });
  check('envelope signatures and sender chains', () => {
    const chains = new Map<string, ChainState>();
    const senders = new Set<string>();
    for (const { index, envelope } of t.envelopes) {
      let opened: ReturnType<typeof openEnvelope>;
      try {
        opened = openEnvelope(envelope, (id) => keys.get(id));
      } catch (error) {
        throw new Error(`entry ${index}: ${(error as Error).message}`);
      }
      if (!equalBytes(opened.header.session, t.session)) throw new Error(`entry ${index} is of another session`);
      try {
        chains.set(opened.header.sender, checkChain(chains.get(opened.header.sender), opened));
      } catch (error) {
        throw new Error(`entry ${index}: ${(error as Error).message}`);
      }
      senders.add(opened.header.sender);
    }
    return `${t.envelopes.length} envelopes from ${senders.size} signers, every chain unbroken`;
  });
  const verifier = ed25519NoteVerifier(t.relay.origin, t.relay.log_key);
  check('receipts', () => {
    for (const { index, envelope, receipt } of t.envelopes) {
      if (receipt.index !== index) throw new Error(`entry ${index} has the receipt of entry ${receipt.index}`);
      verifyReceipt(envelope, receipt, [verifier]);
    }
    return `${t.envelopes.length} inclusion proofs hold in checkpoints signed by ${t.relay.origin}`;
  });
  check('checkpoint consistency', () => {
    const parsed = t.checkpoints.map((c) => parseCheckpoint(verifySignedNote(c.note, [verifier]).text));
    if (t.consistency.length !== Math.max(0, parsed.length - 1)) throw new Error('a consistency proof is missing');
    t.consistency.forEach((c, i) => {
      const from = parsed[i];
      const to = parsed[i + 1];
      if (!from || !to || from.size !== c.from || to.size !== c.to)
        throw new Error(`proof ${i} is not between consecutive checkpoints`);
      if (from.size > 0 && !verifyConsistency(c.from, c.to, c.proof, from.rootHash, to.rootHash)) {
        throw new Error(`checkpoint ${c.to} is not consistent with checkpoint ${c.from}`);
      }
    });
    return `${parsed.length} checkpoints, each consistent with the one before`;
  });
  checks.push({ name: 'session', ok: true, detail: toHex(t.session) });
  return checks;
}
