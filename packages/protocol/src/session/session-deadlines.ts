/**
 * When a session must be joined and done (spec/protocol.md §5, "Deadlines"): the proposal's `joinBy` and
 * `deadline`, or, where it sets none, fixed times after its envelope's `created`. The relay and an
 * auditor compute them the same way from the signed proposal alone, so that an abort at either
 * deadline can be checked from the transcript (audit.md check 20).
 */
import type { SessionProposal } from './messages.js';

/** A session whose proposal sets no `deadline` must be done 24 hours after the proposal's `created`. */
export const DEFAULT_SESSION_MS = 24 * 60 * 60 * 1000;

/** A session whose proposal sets no `joinBy` must be joined by every lab 1 hour after its `created`. */
export const DEFAULT_JOIN_MS = 60 * 60 * 1000;

export interface SessionDeadlines {
  /** By when every lab must have joined (never after `deadline`), ms since the epoch. */
  joinBy: number;
  /** By when the session must be done, ms since the epoch. */
  deadline: number;
}

/** The deadlines of a session, from its proposal and the proposal envelope's `created`. */
export function sessionDeadlines(
  proposal: Pick<SessionProposal, 'deadline' | 'joinBy'>,
  created: number,
): SessionDeadlines {
  const deadline = proposal.deadline ?? created + DEFAULT_SESSION_MS;
  const joinBy = Math.min(proposal.joinBy ?? created + DEFAULT_JOIN_MS, deadline);
  return { joinBy, deadline };
}
