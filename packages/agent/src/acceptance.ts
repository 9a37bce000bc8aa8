/**
 * Whether this lab's agent joins a proposed session, judged from the session's signed terms
 * (@overlap/client's `SessionTerms`, whose proposal signature the client checked) against the
 * lab's accept rules (agent-config.ts). Pure: the time and the joins of the last 24 hours are
 * given, so every rule is tested without a relay or a clock.
 *
 * The first rule whose `from` names the proposer and whose every limit the session keeps is the
 * one that accepts it. A session no rule accepts is declined with the reason of the first rule
 * that names the proposer (the one the lab meant for it), or with "proposals from X are not
 * accepted": the proposer is told why, at once, instead of waiting for the join deadline.
 *
 * Threat: a proposer (or a relay inventing terms — the client refuses terms not signed by an
 * enrolled lab of the session) asking for more than the lab agreed to share: other kinds, a
 * policy that reveals more (`labs` names who holds an item; `count`/`threshold` only how many),
 * a threshold of 1, bigger sets, other labs, a deadline too short to finish or so long that the
 * lab's session key lives for days, or more sessions than the lab budgets.
 */
import type { SessionTerms } from '@overlap/client';
import type { AcceptRule } from './agent-config.js';

export type Judgement =
  | { join: true; rule: number | 'own' }
  | { join: false; reason: string }
  /** Left alone, neither joined nor declined: the lab's own proposal (with `join_own = false`, or a kind without a source), or a session not naming the lab. */
  | { join: false; ignore: true };

export interface JudgeContext {
  /** This lab's key id and name. */
  me: { keyId: string; lab: string };
  accept: readonly AcceptRule[];
  joinOwn: boolean;
  /** The kinds with a configured source. */
  sourced: ReadonlySet<string>;
  /** When the agent learned of the proposal (ms since the epoch). */
  now: number;
  /** When each rule last joined sessions, for its quota: join times (ms) by rule index. */
  joinsOf: (rule: number) => readonly number[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function judgeProposal(terms: SessionTerms, context: JudgeContext): Judgement {
  const proposer = terms.labs.find((lab) => lab.keyId === terms.proposer);
  const proposerName = proposer?.lab ?? terms.proposer;
  const unsourced = terms.kinds.filter((kind) => !context.sourced.has(kind));
  // A session that does not name this lab is not this agent's to join or decline (a relay's listing lie).
  if (!terms.labs.some((lab) => lab.keyId === context.me.keyId)) return { join: false, ignore: true };
  // Its own lab's proposals: joined with sources for every kind; without, left to its engineers
  // (one proposed to be run by hand is not aborted for every lab).
  if (terms.proposer === context.me.keyId) {
    if (!context.joinOwn || unsourced.length > 0) return { join: false, ignore: true };
    return { join: true, rule: 'own' };
  }
  // A revoked or expired key is no lab to share with, whatever a relay's membership list says.
  const gone = terms.labs.filter((lab) => lab.revoked || lab.validUntil <= context.now);
  if (gone.length > 0) {
    return {
      join: false,
      reason: `lab${gone.length > 1 ? 's' : ''} ${gone.map((l) => l.lab).join(', ')} revoked or expired`,
    };
  }
  let first: string | undefined;
  for (const [index, rule] of context.accept.entries()) {
    if (!rule.from.includes('*') && !rule.from.includes(proposerName)) continue;
    const problem = ruleProblem(terms, rule, context, index, unsourced);
    if (problem === undefined) return { join: true, rule: index };
    first ??= `${problem} (accept rule ${index + 1})`;
  }
  return { join: false, reason: first ?? `proposals from ${proposerName} are not accepted` };
}

/** The first limit of `rule` the session breaks, or undefined. */
function ruleProblem(
  terms: SessionTerms,
  rule: AcceptRule,
  context: JudgeContext,
  index: number,
  unsourced: readonly string[],
): string | undefined {
  const kinds = terms.kinds.filter((kind) => !rule.kinds.includes(kind));
  if (kinds.length > 0) return `kind${kinds.length > 1 ? 's' : ''} ${kinds.join(', ')} not accepted`;
  if (unsourced.length > 0) return noSource(unsourced);
  const { policy } = terms;
  if (!rule.policies.includes(policy.kind)) return `reveal policy ${policy.kind} not accepted`;
  if (policy.kind === 'threshold' && policy.t < rule.minThreshold) {
    return `reveal policy threshold:${policy.t} is below the smallest accepted, threshold:${rule.minThreshold}`;
  }
  if (terms.maxItemsPerKind > rule.maxItemsPerKind) {
    return `maxItemsPerKind ${terms.maxItemsPerKind} is over the ${rule.maxItemsPerKind} accepted`;
  }
  if (rule.labs !== undefined) {
    const others = terms.labs.filter((lab) => lab.keyId !== context.me.keyId && !rule.labs?.includes(lab.lab));
    if (others.length > 0)
      return `lab${others.length > 1 ? 's' : ''} ${others.map((l) => l.lab).join(', ')} not accepted in a session`;
  }
  const left = terms.deadline - context.now;
  if (left < rule.minDeadlineMs) {
    return `the deadline leaves ${minutes(left)} to finish, under the ${minutes(rule.minDeadlineMs)} required`;
  }
  if (left > rule.maxDeadlineMs)
    return `the deadline is ${minutes(left)} away, over the ${minutes(rule.maxDeadlineMs)} accepted`;
  const recent = context.joinsOf(index).filter((at) => at > context.now - DAY_MS).length;
  if (recent >= rule.sessionsPerDay) {
    return `${recent} sessions joined in the last 24 hours, the most accepted`;
  }
  return undefined;
}

function noSource(kinds: readonly string[]): string {
  return `no source configured for kind${kinds.length > 1 ? 's' : ''} ${kinds.join(', ')}`;
}

function minutes(ms: number): string {
  const m = Math.max(0, Math.round(ms / 60_000));
  return m >= 120 ? `${Math.round(m / 60)} hours` : `${m} minute${m === 1 ? '' : 's'}`;
}
