/**
 * `overlap audit verify`: checks a session transcript without trusting the relay or any lab — who
 * signed what, that the log holds every envelope in the order given and never rewrote itself, and
 * that the results the relay handed out follow from what the labs logged.
 *
 * Each check is one line of the report. The log checks come first (checkpoints, membership, log
 * order, signatures, sender chains, receipts), then the session's (terms, hops, results:
 * session-checks.ts). A check that fails says what it caught and where (the log index); later
 * checks run on what did verify, so one tampering may fail more than one check, and the first to
 * fail is the one that caught it.
 */
import { equalBytes, keyId as keyIdOf, toHex } from '@overlap/crypto';
import {
  type Checkpoint,
  ed25519NoteVerifier,
  type NoteVerifier,
  parseCheckpoint,
  requireConsistent,
  verifyReceipt,
  verifySignedNote,
} from '@overlap/log';
import { type ChainState, checkChain, type OpenedEnvelope, openEnvelope, parseMessage } from '@overlap/protocol';
import { checkHops, checkResults, checkTerms, type SessionView } from './session-checks.js';
import { readTranscript, type Transcript } from './transcript.js';

export const AUDIT_CHECKS = [
  'transcript',
  'admin key',
  'checkpoints',
  'membership',
  'log order',
  'signatures',
  'sender chains',
  'receipts',
  'session terms',
  'hops',
  'results',
] as const;
export type AuditCheckName = (typeof AUDIT_CHECKS)[number];

export interface AuditCheck {
  name: AuditCheckName;
  /** True when it holds; false when it failed; undefined when it could not run (an earlier check failed first). */
  ok: boolean | undefined;
  detail: string;
}

export interface AuditReport {
  ok: boolean;
  session?: string;
  checks: AuditCheck[];
  /** The first check that failed: the one that caught the problem. */
  failed?: AuditCheckName;
}

/** A lab key and the log index ranges in which it may sign: from each enrollment to the next revocation. */
interface MemberKey {
  key: Uint8Array;
  lab: string;
  periods: { from: number; until?: number }[];
}

export function verifyTranscript(bytes: Uint8Array, options: { adminKey?: Uint8Array } = {}): AuditReport {
  const checks: AuditCheck[] = [];
  const run = (name: AuditCheckName, body: () => string): boolean => {
    try {
      checks.push({ name, ok: true, detail: body() });
      return true;
    } catch (error) {
      checks.push({ name, ok: false, detail: (error as Error).message });
      return false;
    }
  };
  let t: Transcript | undefined;
  run('transcript', () => {
    t = readTranscript(bytes);
    return `${bytes.length.toLocaleString('en-US')} bytes: ${t.membership.length} membership entries, ${t.envelopes.length} session envelopes, ${t.checkpoints.length} checkpoints`;
  });
  if (t === undefined) return report(checks);
  const transcript: Transcript = t;
  const session = toHex(transcript.session);
  const adminKey = options.adminKey ?? transcript.relay.admin_key;
  run('admin key', () => {
    if (options.adminKey && !equalBytes(options.adminKey, transcript.relay.admin_key)) {
      throw new Error('the transcript names another admin key than the one pinned');
    }
    return options.adminKey ? 'the pinned admin key' : 'taken from the transcript (pin it with --admin-key)';
  });

  let verifier: NoteVerifier | undefined;
  const checkpointSizes = new Map<number, string>();
  run('checkpoints', () => {
    const logVerifier = ed25519NoteVerifier(transcript.relay.origin, transcript.relay.log_key);
    verifier = logVerifier;
    let previous: Checkpoint | undefined;
    if (transcript.checkpoints.length === 0) throw new Error('the transcript holds no checkpoint');
    if (transcript.consistency.length !== transcript.checkpoints.length - 1) {
      throw new Error(
        `${transcript.checkpoints.length} checkpoints need ${transcript.checkpoints.length - 1} consistency proofs, not ${transcript.consistency.length}`,
      );
    }
    for (const [i, { size, note }] of transcript.checkpoints.entries()) {
      let checkpoint: Checkpoint;
      try {
        checkpoint = parseCheckpoint(verifySignedNote(note, [logVerifier]).text);
      } catch (error) {
        throw new Error(`checkpoint ${i} (size ${size}): ${(error as Error).message}`);
      }
      if (checkpoint.origin !== transcript.relay.origin) throw new Error(`checkpoint ${i} is of ${checkpoint.origin}`);
      if (checkpoint.size !== size) throw new Error(`checkpoint ${i} says size ${checkpoint.size}, listed as ${size}`);
      if (previous !== undefined) {
        if (checkpoint.size <= previous.size) {
          throw new Error(`checkpoint ${i} (size ${checkpoint.size}) does not come after size ${previous.size}`);
        }
        const proof = transcript.consistency[i - 1] as Transcript['consistency'][number];
        if (proof.from !== previous.size || proof.to !== checkpoint.size) {
          throw new Error(
            `consistency proof ${i - 1} is for ${proof.from} → ${proof.to}, not ${previous.size} → ${size}`,
          );
        }
        requireConsistent(previous, checkpoint, proof.proof);
      }
      checkpointSizes.set(size, note);
      previous = checkpoint;
    }
    return `${transcript.checkpoints.length} checkpoints signed by ${transcript.relay.origin}, each consistent with the one before (sizes ${transcript.checkpoints[0]?.size}…${previous?.size})`;
  });

  /** Verifies an entry's receipt and that its checkpoint is one of the transcript's. */
  const proveLogged = (what: string, entry: Transcript['envelopes'][number]): void => {
    if (entry.receipt.index !== entry.index) {
      throw new Error(`${what} at ${entry.index} carries the receipt of entry ${entry.receipt.index}`);
    }
    if (verifier === undefined) throw new Error("the log's key does not verify (see checkpoints)");
    let checkpoint: Checkpoint;
    try {
      checkpoint = verifyReceipt(entry.envelope, entry.receipt, [verifier]);
    } catch (error) {
      throw new Error(`${what} at ${entry.index}: ${(error as Error).message}`);
    }
    if (checkpointSizes.get(checkpoint.size) !== entry.receipt.checkpoint) {
      throw new Error(
        `${what} at ${entry.index}: its checkpoint (size ${checkpoint.size}) is not among the transcript's`,
      );
    }
  };

  const members = new Map<string, MemberKey>();
  run('membership', () => {
    let chain: ChainState | undefined;
    let last = -1;
    let enrolled = 0;
    let revoked = 0;
    for (const entry of transcript.membership) {
      if (entry.index <= last) throw new Error(`membership entry ${entry.index} comes after entry ${last}`);
      last = entry.index;
      let opened: OpenedEnvelope;
      try {
        opened = openEnvelope(entry.envelope, () => adminKey);
        chain = checkChain(chain, opened);
      } catch (error) {
        throw new Error(`membership entry ${entry.index}: ${(error as Error).message}`);
      }
      proveLogged('membership entry', entry);
      if (opened.header.type === 'enrollment') {
        const e = parseMessage('enrollment', opened.payload);
        const id = keyIdOf(e.signing_key);
        const member = members.get(id) ?? { key: e.signing_key, lab: e.lab, periods: [] };
        if (member.periods.at(-1)?.until === undefined && member.periods.length > 0) {
          throw new Error(`membership entry ${entry.index} enrolls ${id}, which is enrolled already`);
        }
        member.periods.push({ from: entry.index });
        members.set(id, member);
        enrolled++;
      } else if (opened.header.type === 'revocation') {
        const member = members.get(parseMessage('revocation', opened.payload).key);
        const open = member?.periods.at(-1);
        if (open && open.until === undefined) open.until = entry.index;
        revoked++;
      } else throw new Error(`membership entry ${entry.index} is a ${opened.header.type}`);
    }
    return `${transcript.membership.length} admin-signed entries in one unbroken chain (${enrolled} enrollments, ${revoked} revocations), each proven in the log`;
  });

  run('log order', () => {
    const membershipIndexes = new Set(transcript.membership.map((m) => m.index));
    let last = -1;
    for (const entry of transcript.envelopes) {
      if (entry.index <= last) {
        throw new Error(
          `the envelope at log index ${entry.index} comes after index ${last}: ${entry.index === last ? 'duplicated' : 'reordered'}`,
        );
      }
      if (membershipIndexes.has(entry.index)) throw new Error(`log index ${entry.index} is also a membership entry`);
      last = entry.index;
    }
    return `${transcript.envelopes.length} envelopes in strictly increasing log order`;
  });

  /** Envelopes that opened under a key allowed to sign at their index, in transcript order. */
  const opened: { index: number; envelope: OpenedEnvelope }[] = [];
  const relayKeyId = transcript.relay.relay_key_id;
  run('signatures', () => {
    if (keyIdOf(transcript.relay.log_key) !== relayKeyId) throw new Error("relay_key_id is not the log key's id");
    const problems: string[] = [];
    const signers = new Set<string>();
    for (const entry of transcript.envelopes) {
      try {
        const envelope = openEnvelope(entry.envelope, (id) => {
          if (id === relayKeyId) return transcript.relay.log_key;
          const member = members.get(id);
          const period = member?.periods.findLast((p) => p.from < entry.index);
          if (!member || !period) throw new Error(`${id} was not enrolled`);
          if (period.until !== undefined && period.until < entry.index) {
            throw new Error(`${id} (${member.lab}) was revoked at log index ${period.until}`);
          }
          return member.key;
        });
        if (!equalBytes(envelope.header.session, transcript.session)) throw new Error('an envelope of another session');
        signers.add(envelope.header.sender);
        opened.push({ index: entry.index, envelope });
      } catch (error) {
        problems.push(`log index ${entry.index}: ${(error as Error).message}`);
      }
    }
    if (problems.length > 0) throw new Error(problems.slice(0, 5).join('; '));
    return `${opened.length} envelopes from ${signers.size} signers, each under a key enrolled and not revoked at its index`;
  });

  run('sender chains', () => {
    const chains = new Map<string, ChainState>();
    for (const { index, envelope } of opened) {
      try {
        chains.set(envelope.header.sender, checkChain(chains.get(envelope.header.sender), envelope));
      } catch (error) {
        throw new Error(`log index ${index}: ${(error as Error).message}`);
      }
    }
    return `${chains.size} chains, no gap and no fork`;
  });

  run('receipts', () => {
    for (const entry of transcript.envelopes) proveLogged('the envelope', entry);
    return `${transcript.envelopes.length} inclusion proofs hold in checkpoints of the transcript`;
  });

  const view: SessionView = { relayKeyId, envelopes: opened };
  const terms = checkTerms(view);
  checks.push({ name: 'session terms', ...terms.check });
  if (terms.session === undefined) {
    checks.push({ name: 'hops', ok: undefined, detail: 'not checked: the session terms did not verify' });
    checks.push({ name: 'results', ok: undefined, detail: 'not checked: the session terms did not verify' });
  } else {
    const hops = checkHops(view, terms.session);
    checks.push({ name: 'hops', ...hops.check });
    checks.push({
      name: 'results',
      ...(hops.finals === undefined
        ? { ok: undefined, detail: 'not checked: the hops did not verify' }
        : checkResults(view, terms.session, hops.finals)),
    });
  }
  return { ...report(checks), session };
}

function report(checks: AuditCheck[]): AuditReport {
  const failed = checks.find((c) => c.ok === false)?.name;
  const ok = checks.length === AUDIT_CHECKS.length && checks.every((c) => c.ok === true);
  return failed === undefined ? { ok, checks } : { ok, checks, failed };
}
