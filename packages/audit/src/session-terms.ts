/**
 * The `session terms` check (spec/audit.md check 9, spec/protocol.md §4–5): one proposal, first,
 * by one of its labs; one join per lab committing a size for exactly the session's kinds, within
 * its bound; only the labs and the relay speak, each only its own messages. Every message of the
 * proof round (§5.2) is read here, once, for the checks after it.
 *
 * Threat: a relay or lab that changes who takes part, or what they committed to, after the fact;
 * and a session whose labs never all joined presented as complete.
 */
import {
  type Abort,
  type Challenge,
  type HopProofMessage,
  type MessageType,
  type SessionDeadlines,
  type SessionProposal,
  sessionDeadlines,
} from '@overlap/protocol';
import { AuditError } from './errors.js';
import { type LoggedEnvelope, payloadOf, type SessionView } from './logged-envelope.js';
import { type AuditVerdict, runValueCheck } from './verdict.js';

/** A message of the session as the log holds it: its log index, its sender, its payload. */
export interface Logged<T> {
  index: number;
  sender: string;
  /** The sender's clock, from the envelope header (the relay's, for its own messages). */
  created: number;
  body: T;
}

/** A lab's join: what it committed to before any tags were visible. */
export interface JoinFacts {
  index: number;
  sizes: Record<string, number>;
  /** The key commitment K. */
  key: Uint8Array;
  /** The commitment to the lab's coin. */
  coin: Uint8Array;
}

/** What the later checks need of the session's terms. */
export interface SessionFacts {
  proposal: SessionProposal;
  /** Its join deadline and deadline, from the proposal and its `created` (spec/protocol.md §5). */
  deadlines: SessionDeadlines;
  /** The session id (16 bytes), from the proposal's header: coins, σ and proofs are bound to it. */
  sessionId: Uint8Array;
  /** Committed sizes: lab → kind → size. */
  sizes: Map<string, Record<string, number>>;
  /** Each lab's join, in log order. */
  joins: Map<string, JoinFacts>;
  /** The messages of the proof round and the aborts, each in log order (spec/protocol.md §5.2). */
  round: {
    proofRequests: Logged<{ chunks: number }>[];
    reveals: Logged<{ coin: Uint8Array }>[];
    challenges: Logged<Challenge>[];
    proofs: Logged<HopProofMessage>[];
    /** The log index of every result_rows envelope. */
    results: number[];
    aborts: Logged<Abort>[];
  };
  /** The first abort, when the session was aborted. */
  abort?: { by: string; reason: string; index: number };
}

const LAB_TYPES: ReadonlySet<MessageType> = new Set([
  'join',
  'tag_chunk',
  'blind_result',
  'reveal',
  'hop_proof',
  'abort',
]);
const RELAY_TYPES: ReadonlySet<MessageType> = new Set(['proof_request', 'challenge', 'result_rows', 'abort']);

export function checkSessionTerms(view: SessionView): { verdict: AuditVerdict; session?: SessionFacts } {
  const { verdict, value } = runValueCheck('session terms', 'MESSAGE_INVALID', () => readTerms(view), summary);
  return value === undefined ? { verdict } : { verdict, session: value };
}

function summary({ proposal, abort }: SessionFacts): string {
  const ended = abort ? `aborted at log index ${abort.index} by ${abort.by}: ${abort.reason}` : 'every lab joined';
  return `${proposal.labs.length} labs, kinds ${proposal.kinds.join(', ')}; ${ended}`;
}

function readTerms(view: SessionView): SessionFacts {
  const [first, ...rest] = view.envelopes;
  const proposal = proposalOf(first);
  const sizes = new Map<string, Record<string, number>>();
  const joins = new Map<string, JoinFacts>();
  const round: SessionFacts['round'] = {
    proofRequests: [],
    reveals: [],
    challenges: [],
    proofs: [],
    results: [],
    aborts: [],
  };
  for (const entry of rest) {
    const { sender, type } = entry.envelope.header;
    senderMaySend(view, proposal, entry);
    const logged = <T>(body: T): Logged<T> => ({
      index: entry.index,
      sender,
      created: entry.envelope.header.created,
      body,
    });
    if (type === 'join') {
      if (sizes.has(sender))
        throw new AuditError('JOIN_INVALID', `log index ${entry.index}: ${sender} joined twice`, {
          details: { index: entry.index },
        });
      const { key, coin } = payloadOf('join', entry);
      const committed = committedSizes(proposal, entry);
      sizes.set(sender, committed);
      joins.set(sender, { index: entry.index, sizes: committed, key, coin });
    }
    if (type === 'proof_request') round.proofRequests.push(logged(payloadOf('proof_request', entry)));
    if (type === 'reveal') round.reveals.push(logged(payloadOf('reveal', entry)));
    if (type === 'challenge') round.challenges.push(logged(payloadOf('challenge', entry)));
    if (type === 'hop_proof') round.proofs.push(logged(payloadOf('hop_proof', entry)));
    if (type === 'result_rows') round.results.push(entry.index);
    if (type === 'abort') {
      const body = payloadOf('abort', entry);
      // Only the relay's abort of a refused envelope carries one (spec/protocol.md §5).
      if (body.evidence !== undefined && sender !== view.relayKeyId) {
        throw new AuditError(
          'MESSAGE_INVALID',
          `log index ${entry.index}: ${sender}'s abort carries evidence, which only the relay's aborts do`,
          { details: { index: entry.index } },
        );
      }
      round.aborts.push(logged(body));
    }
  }
  const [firstAbort] = round.aborts;
  const abort = firstAbort && { by: firstAbort.sender, reason: firstAbort.body.reason, index: firstAbort.index };
  const missing = proposal.labs.filter((lab) => !sizes.has(lab));
  if (missing.length > 0 && abort === undefined) {
    throw new AuditError('LAB_NEVER_JOINED', `${missing.join(', ')} never joined`);
  }
  const sessionId = (first as LoggedEnvelope).envelope.header.session;
  const deadlines = sessionDeadlines(proposal, (first as LoggedEnvelope).envelope.header.created);
  const facts: SessionFacts = { proposal, deadlines, sessionId, sizes, joins, round };
  return abort ? { ...facts, abort } : facts;
}

/** The first envelope must be the proposal, signed by one of the labs it names. */
function proposalOf(first: LoggedEnvelope | undefined): SessionProposal {
  if (first?.envelope.header.type !== 'session_proposal') {
    throw new AuditError('PROPOSAL_INVALID', 'the first envelope is not the session proposal', {
      ...(first && { details: { index: first.index } }),
    });
  }
  const proposal = payloadOf('session_proposal', first);
  const { sender } = first.envelope.header;
  if (!proposal.labs.includes(sender)) {
    throw new AuditError('PROPOSAL_INVALID', `the proposal is signed by ${sender}, not one of its labs`, {
      details: { index: first.index },
    });
  }
  return proposal;
}

/** Only the session's labs and the relay send, each only the message types it may. */
function senderMaySend(view: SessionView, proposal: SessionProposal, entry: LoggedEnvelope): void {
  const { index } = entry;
  const { sender, type } = entry.envelope.header;
  const isRelay = sender === view.relayKeyId;
  const allowed = isRelay ? RELAY_TYPES : proposal.labs.includes(sender) ? LAB_TYPES : undefined;
  if (allowed === undefined) {
    throw new AuditError('SENDER_NOT_IN_SESSION', `log index ${index}: ${sender} is not a lab of the session`, {
      details: { index },
    });
  }
  if (!allowed.has(type)) {
    throw new AuditError(
      'MESSAGE_NOT_ALLOWED',
      `log index ${index}: a ${type} from ${isRelay ? 'the relay' : sender}`,
      {
        details: { index },
      },
    );
  }
}

/** A join's committed sizes: for exactly the session's kinds, none over `maxItemsPerKind`. */
function committedSizes(proposal: SessionProposal, entry: LoggedEnvelope): Record<string, number> {
  const { index } = entry;
  const { sender } = entry.envelope.header;
  const sizes = payloadOf('join', entry).sizes;
  const kinds = Object.keys(sizes).sort();
  if (kinds.join() !== [...proposal.kinds].sort().join()) {
    throw new AuditError(
      'JOIN_INVALID',
      `log index ${index}: ${sender} committed sizes for ${kinds.join(', ') || 'no kind'}`,
      {
        details: { index },
      },
    );
  }
  for (const [kind, size] of Object.entries(sizes)) {
    if (size > proposal.maxItemsPerKind) {
      throw new AuditError(
        'JOIN_INVALID',
        `log index ${index}: ${sender} committed ${size} ${kind}, over ${proposal.maxItemsPerKind}`,
        { details: { index } },
      );
    }
  }
  return sizes;
}
