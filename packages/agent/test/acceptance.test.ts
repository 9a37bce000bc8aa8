/**
 * The accept rules of a lab's agent (acceptance.ts), one limit at a time: each test breaks exactly
 * one limit of a session that the rule otherwise accepts, and checks the reason names it.
 */
import type { SessionTerms } from '@overlap/client';
import { describe, expect, it } from 'vitest';
import { type JudgeContext, judgeProposal } from '../src/acceptance.js';
import type { AcceptRule } from '../src/agent-config.js';

const NOW = Date.parse('2026-12-07T10:00:00Z');
const HOUR = 3_600_000;
const member = (lab: string) => ({
  keyId: `${lab}-key`,
  lab,
  name: lab,
  signingKey: new Uint8Array(32),
  revoked: false,
  validUntil: NOW + 1e10,
});

function terms(overrides: Partial<SessionTerms> = {}): SessionTerms {
  return {
    session: '00'.repeat(16),
    proposer: 'lab-b-key',
    labs: [member('lab-a'), member('lab-b'), member('lab-c')],
    kinds: ['email'],
    policy: { kind: 'labs' },
    maxItemsPerKind: 10_000,
    joinBy: NOW + HOUR,
    deadline: NOW + 2 * HOUR,
    proofs: 'spot',
    chunkSize: 65_536,
    status: {} as SessionTerms['status'],
    ...overrides,
  };
}

const rule: AcceptRule = {
  from: ['lab-b'],
  kinds: ['email', 'ip'],
  policies: ['labs', 'threshold'],
  minThreshold: 2,
  maxItemsPerKind: 100_000,
  minDeadlineMs: 30 * 60_000,
  maxDeadlineMs: 24 * HOUR,
  sessionsPerDay: 2,
};

function context(overrides: Partial<JudgeContext> = {}): JudgeContext {
  return {
    me: { keyId: 'lab-a-key', lab: 'lab-a' },
    accept: [rule],
    joinOwn: true,
    sourced: new Set(['email', 'ip']),
    now: NOW,
    joinsOf: () => [],
    ...overrides,
  };
}

describe('judgeProposal', () => {
  it('joins a session the rule allows, naming the rule', () => {
    expect(judgeProposal(terms(), context())).toEqual({ join: true, rule: 0 });
  });

  it.each([
    ['a proposer no rule names', terms({ proposer: 'lab-c-key' }), 'proposals from lab-c are not accepted'],
    ['a kind the rule does not list', terms({ kinds: ['email', 'phone'] }), 'kind phone not accepted'],
    ['a policy the rule does not list', terms({ policy: { kind: 'count' } }), 'reveal policy count not accepted'],
    ['a threshold below the smallest', terms({ policy: { kind: 'threshold', t: 1 } }), 'threshold:1 is below'],
    ['more items than accepted', terms({ maxItemsPerKind: 100_001 }), 'maxItemsPerKind 100001 is over the 100000'],
    [
      'a deadline too soon',
      terms({ deadline: NOW + 10 * 60_000 }),
      'leaves 10 minutes to finish, under the 30 minutes',
    ],
    ['a deadline too far', terms({ deadline: NOW + 48 * HOUR }), 'is 48 hours away, over the 24 hours'],
  ])('declines %s, saying why', (_what, proposal, reason) => {
    const judgement = judgeProposal(proposal, context());
    expect(judgement.join).toBe(false);
    expect((judgement as { reason: string }).reason).toContain(reason);
  });

  it('declines a kind it has no source for, even when a rule allows it', () => {
    const judgement = judgeProposal(terms({ kinds: ['ip'] }), context({ sourced: new Set(['email']) }));
    expect(judgement).toEqual({
      join: false,
      reason: expect.stringContaining('no source configured for kind ip (accept rule 1)'),
    });
  });

  it("declines a lab outside the rule's labs", () => {
    const judgement = judgeProposal(terms(), context({ accept: [{ ...rule, labs: ['lab-b'] }] }));
    expect((judgement as { reason: string }).reason).toContain('lab lab-c not accepted in a session');
  });

  it('counts the quota over a sliding 24 hours', () => {
    const full = context({ joinsOf: () => [NOW - HOUR, NOW - 2 * HOUR] });
    expect((judgeProposal(terms(), full) as { reason: string }).reason).toContain(
      '2 sessions joined in the last 24 hours',
    );
    const aged = context({ joinsOf: () => [NOW - 25 * HOUR, NOW - 2 * HOUR] });
    expect(judgeProposal(terms(), aged)).toEqual({ join: true, rule: 0 });
  });

  it('takes the first rule that accepts, and reports the first that named the proposer', () => {
    const strict = { ...rule, kinds: ['ip'] };
    expect(judgeProposal(terms(), context({ accept: [strict, rule] }))).toEqual({ join: true, rule: 1 });
    const judgement = judgeProposal(
      terms({ kinds: ['email'] }),
      context({ accept: [strict, { ...strict, from: ['*'] }] }),
    );
    expect((judgement as { reason: string }).reason).toBe('kind email not accepted (accept rule 1)');
  });

  it('accepts any proposer under "*"', () => {
    expect(judgeProposal(terms({ proposer: 'lab-c-key' }), context({ accept: [{ ...rule, from: ['*'] }] }))).toEqual({
      join: true,
      rule: 0,
    });
  });

  it("joins its own lab's proposals with sources, ignores them with join_own = false", () => {
    const own = terms({ proposer: 'lab-a-key', kinds: ['phone'] });
    expect(judgeProposal(terms({ proposer: 'lab-a-key' }), context({ accept: [] }))).toEqual({
      join: true,
      rule: 'own',
    });
    expect(judgeProposal(own, context())).toEqual({ join: false, ignore: true });
    expect(judgeProposal(own, context({ joinOwn: false }))).toEqual({ join: false, ignore: true });
  });

  it('declines a session with a revoked or expired lab, and leaves one not naming this lab alone', () => {
    const revoked = terms({ labs: [member('lab-a'), { ...member('lab-b'), revoked: true }] });
    expect((judgeProposal(revoked, context()) as { reason: string }).reason).toBe('lab lab-b revoked or expired');
    const expired = terms({ labs: [member('lab-a'), member('lab-b'), { ...member('lab-c'), validUntil: NOW }] });
    expect((judgeProposal(expired, context()) as { reason: string }).reason).toBe('lab lab-c revoked or expired');
    expect(judgeProposal(terms({ labs: [member('lab-b'), member('lab-c')] }), context())).toEqual({
      join: false,
      ignore: true,
    });
  });

  it('accepts nothing from others without a rule', () => {
    expect(judgeProposal(terms(), context({ accept: [] }))).toEqual({
      join: false,
      reason: 'proposals from lab-b are not accepted',
    });
  });
});
