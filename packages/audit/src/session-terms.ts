/**
 * The `session terms` check (spec/audit.md check 9, spec/protocol.md §4–5): one proposal, first,
 * by one of its labs; one join per lab committing a size for exactly the session's kinds, within
 * its bound; only the labs and the relay speak, each only its own messages.
 *
 * Threat: a relay or lab that changes who takes part, or what they committed to, after the fact;
 * and a session whose labs never all joined presented as complete.
 */
import type { MessageType, SessionProposal } from '@overlap/protocol';
import { AuditError } from './errors.js';
import { type LoggedEnvelope, payloadOf, type SessionView } from './logged-envelope.js';
import { type AuditVerdict, runValueCheck } from './verdict.js';

/** What the later checks need of the session's terms. */
export interface SessionFacts {
  proposal: SessionProposal;
  /** Committed sizes: lab → kind → size. */
  sizes: Map<string, Record<string, number>>;
  /** The first abort, when the session was aborted. */
  abort?: { by: string; reason: string; index: number };
}

const LAB_TYPES: ReadonlySet<MessageType> = new Set(['join', 'tag_chunk', 'blind_result', 'abort']);
const RELAY_TYPES: ReadonlySet<MessageType> = new Set(['result_rows', 'abort']);

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
  let abort: SessionFacts['abort'];
  for (const entry of rest) {
    const { sender, type } = entry.envelope.header;
    senderMaySend(view, proposal, entry);
    if (type === 'join') {
      if (sizes.has(sender))
        throw new AuditError('JOIN_INVALID', `log index ${entry.index}: ${sender} joined twice`, {
          details: { index: entry.index },
        });
      sizes.set(sender, committedSizes(proposal, entry));
    }
    if (type === 'abort' && abort === undefined) {
      abort = { by: sender, reason: payloadOf('abort', entry).reason, index: entry.index };
    }
  }
  const missing = proposal.labs.filter((lab) => !sizes.has(lab));
  if (missing.length > 0 && abort === undefined) {
    throw new AuditError('LAB_NEVER_JOINED', `${missing.join(', ')} never joined`);
  }
  return abort ? { proposal, sizes, abort } : { proposal, sizes };
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
