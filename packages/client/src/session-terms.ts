/**
 * A session's terms as a lab may rely on them: read from the proposal envelope the relay keeps
 * (spec/relay-api.md §3, `GET /v1/sessions/{id}`), its signature checked against the proposer's
 * enrolled key, the proposer one of the session's labs, every lab enrolled. The relay's own fields
 * (state, who joined, whom it waits on) are its word, and are shown as such.
 *
 * Threat: a relay that lists a session under terms other than the proposer signed (another policy,
 * another lab in it) is caught here, before a lab runs or aborts anything in it (BAD_RESPONSE).
 */
import { toHex } from '@overlap/crypto';
import {
  DEFAULT_CHUNK_SIZE,
  openEnvelope,
  parseMessage,
  type RevealPolicy,
  type SessionProposal,
  type SessionStatus,
  sessionDeadlines,
} from '@overlap/protocol';
import { ClientError } from './errors.js';

/** A proposal's proof mode (spec/protocol.md §5.2). */
export type ProofMode = NonNullable<SessionProposal['proofs']>;

export interface Member {
  keyId: string;
  lab: string;
  name: string;
  signingKey: Uint8Array;
  revoked: boolean;
  validUntil: number;
}

export interface SessionTerms {
  session: string;
  proposer: string;
  labs: Member[];
  kinds: string[];
  policy: RevealPolicy;
  maxItemsPerKind: number;
  /** By when every lab must have joined, ms since the epoch: from the signed proposal (spec/protocol.md §5). */
  joinBy: number;
  /** By when the session must be done, ms since the epoch: from the signed proposal (its `deadline`, or the default). */
  deadline: number;
  /** Which positions each hop proves (spec/protocol.md §5.2): `spot` unless the proposal says `full`. */
  proofs: ProofMode;
  /** Tags per chunk, for every lab and hop (spec/protocol.md §5.1). */
  chunkSize: number;
  status: SessionStatus;
}

/** One session of `OverlapClient.sessions()`: its checked terms and its state, labs by name. */
export interface SessionSummary {
  session: string;
  state: SessionStatus['state'];
  /** The lab name of the proposer. */
  proposer: string;
  /** Lab names, in the proposal's order. */
  labs: string[];
  kinds: string[];
  policy: RevealPolicy;
  /** By when every lab must have joined, ms since the epoch (from the signed proposal). */
  joinBy: number;
  /** By when the session must be done, ms since the epoch (from the signed proposal). */
  deadline: number;
  /** The labs that joined, in the order their joins arrived. */
  joined: string[];
  /** The labs the session waits on now. */
  waiting_on: string[];
  /** Why it was aborted, as the relay reports it. */
  abortReason?: string;
}

/** The terms of `session` from its status, the proposal opened under `members`' keys. */
export function termsFromStatus(
  session: string,
  status: SessionStatus,
  members: ReadonlyMap<string, Member>,
): SessionTerms {
  if (toHex(status.session) !== session) {
    throw new ClientError(
      'BAD_RESPONSE',
      `the relay answered the status of session ${toHex(status.session)}, not ${session}`,
    );
  }
  let opened: ReturnType<typeof openEnvelope>;
  try {
    opened = openEnvelope(status.proposal_envelope, (id) => members.get(id)?.signingKey);
  } catch (cause) {
    throw new ClientError(
      'BAD_RESPONSE',
      `session ${session}: the proposal does not open under its proposer's enrolled key: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (opened.header.type !== 'session_proposal' || toHex(opened.header.session) !== session) {
    throw new ClientError('BAD_RESPONSE', `the relay's proposal envelope is not session ${session}'s`);
  }
  let proposal: SessionProposal;
  try {
    proposal = parseMessage('session_proposal', opened.payload);
  } catch (cause) {
    throw new ClientError('BAD_RESPONSE', `session ${session}: the proposal is malformed`, { cause });
  }
  if (!proposal.labs.includes(opened.header.sender)) {
    throw new ClientError('BAD_RESPONSE', `session ${session}: the proposal is not signed by one of its labs`);
  }
  return {
    session,
    proposer: opened.header.sender,
    labs: proposal.labs.map((id) => memberOf(members, id, session)),
    kinds: proposal.kinds,
    policy: proposal.policy,
    maxItemsPerKind: proposal.maxItemsPerKind,
    ...sessionDeadlines(proposal, opened.header.created),
    proofs: proposal.proofs ?? 'spot',
    chunkSize: proposal.chunkSize ?? DEFAULT_CHUNK_SIZE,
    status,
  };
}

/** The summary `sessions()` lists: the terms' labs, and the relay's state of them, by name. */
export function summaryOf(terms: SessionTerms, members: ReadonlyMap<string, Member>): SessionSummary {
  const { status } = terms;
  // The relay's word on who joined and whom it waits on: named when they are members.
  const name = (id: string) => members.get(id)?.lab ?? id;
  return {
    session: terms.session,
    state: status.state,
    proposer: name(terms.proposer),
    labs: terms.labs.map((lab) => lab.lab),
    kinds: terms.kinds,
    policy: terms.policy,
    joinBy: terms.joinBy,
    deadline: terms.deadline,
    joined: status.joined.map(name),
    waiting_on: status.waiting_on.map(name),
    ...(status.abort !== undefined && { abortReason: status.abort.reason }),
  };
}

function memberOf(members: ReadonlyMap<string, Member>, id: string, session: string): Member {
  const member = members.get(id);
  if (!member) throw new ClientError('BAD_RESPONSE', `lab ${id} of session ${session} is not enrolled`);
  return member;
}
