/**
 * What a lab may ask of the relay before its session is taken on, or its chunk held (spec/relay-api.md
 * §5): deadlines the relay will keep, and a lab's quotas — open sessions it proposed, and bytes of
 * chunks waiting for their sessions' last join. Each refusal says what was asked, what the relay
 * allows, and where it announces that (`GET /v1/relay`'s limits); a quota is final (403
 * QUOTA_EXCEEDED: the client does not retry it).
 */
import { type SessionDeadlines, type SessionProposal, sessionDeadlines, TAG_LENGTH } from '@overlap/protocol';
import { RelayError } from './errors.js';
import type { HostedSession } from './hosted-session.js';
import type { RelayLimits } from './limits.js';

/**
 * The session's deadlines (the proposal's, or fixed times after its `created`: protocol.md §5),
 * refused (422 PROTOCOL_VIOLATION) when one has passed or is later than this relay allows.
 */
export function checkDeadlines(
  proposal: SessionProposal,
  created: number,
  now: number,
  limits: Pick<RelayLimits, 'maxSessionMs' | 'maxJoinWindowMs'>,
): SessionDeadlines {
  const { maxSessionMs, maxJoinWindowMs } = limits;
  const due = sessionDeadlines(proposal, created);
  const setBy = (field: 'deadline' | 'joinBy', fallback: string) =>
    proposal[field] === undefined ? `(the proposal sets no ${field}: ${fallback} after its created)` : `(${field})`;
  const deadlineIs = `the session deadline ${setBy('deadline', '24 h')}`;
  const joinByIs = `the join deadline ${setBy('joinBy', '1 h')}`;
  if (due.deadline <= now) throw new RelayError('PROTOCOL_VIOLATION', `${deadlineIs} has already passed`);
  if (due.deadline > now + maxSessionMs) {
    throw new RelayError(
      'PROTOCOL_VIOLATION',
      `${deadlineIs} is ${hours(due.deadline - now)} away; this relay holds a session at most ${hours(maxSessionMs)} (max_session_ms in GET /v1/relay)`,
    );
  }
  if (due.joinBy <= now) throw new RelayError('PROTOCOL_VIOLATION', `${joinByIs} has already passed`);
  if (due.joinBy > now + maxJoinWindowMs) {
    throw new RelayError(
      'PROTOCOL_VIOLATION',
      `${joinByIs} is ${hours(due.joinBy - now)} away; this relay gives labs at most ${hours(maxJoinWindowMs)} to join (max_join_window_ms in GET /v1/relay)`,
    );
  }
  return due;
}

/**
 * QUOTA_EXCEEDED when `lab` already has as many open sessions it proposed as the relay allows.
 * Counted by proposer: naming a lab in sessions cannot use up its quota.
 */
export function checkOpenSessionQuota(
  sessions: Iterable<HostedSession>,
  lab: string,
  limits: Pick<RelayLimits, 'maxOpenSessionsPerLab'>,
): void {
  const quota = limits.maxOpenSessionsPerLab;
  let open = 0;
  for (const session of sessions) if (session.open && session.proposer === lab) open++;
  if (open >= quota) {
    throw new RelayError(
      'QUOTA_EXCEEDED',
      `${lab} has ${open} open sessions it proposed, this relay's quota (max_open_sessions_per_lab in GET /v1/relay); one must end (done, aborted, or its deadline) before another`,
    );
  }
}

/**
 * QUOTA_EXCEEDED when a hop-0 chunk of `bytes` that will wait for its session's last join would
 * take what `lab` has held in all its open sessions over the relay's quota.
 */
export function checkHeldQuota(
  sessions: Iterable<HostedSession>,
  lab: string,
  bytes: number,
  limits: Pick<RelayLimits, 'maxHeldBytesPerLab'>,
): void {
  const quota = limits.maxHeldBytesPerLab;
  let held = 0;
  for (const session of sessions) held += (session.engine?.heldTags(lab) ?? 0) * TAG_LENGTH;
  if (held + bytes > quota) {
    throw new RelayError(
      'QUOTA_EXCEEDED',
      `${lab} has ${mib(held)} of chunks waiting for their sessions' last join; this one (${mib(bytes)}) would take it over this relay's quota of ${mib(quota)} (max_held_bytes_per_lab in GET /v1/relay): the other labs of its sessions must join first`,
    );
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 2 : 0)} MiB`;
}

function hours(ms: number): string {
  const h = ms / 3_600_000;
  return `${h >= 10 ? Math.round(h) : Number(h.toPrecision(2))} h`;
}
