/**
 * Reveal policies: what a lab learns about each of its own items at the end of a session
 * (spec/protocol.md §5, normative; docs/architecture.md §1).
 *
 * - `labs`: for each of my items, which other labs also hold it;
 * - `count`: for each of my items, only how many other labs hold it;
 * - `threshold` t: only my items that t or more labs (me included) hold, t >= 2.
 */
import { z } from 'zod';
import { ProtocolError } from './errors.js';
import { parseWithSchema } from './validate.js';

export const revealPolicySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('labs') }),
  z.strictObject({ kind: z.literal('count') }),
  z.strictObject({ kind: z.literal('threshold'), t: z.int().min(2).max(1024) }),
]);

export type RevealPolicy = z.infer<typeof revealPolicySchema>;

/** Validates an untrusted reveal policy, reporting every problem with its path. */
export function parseRevealPolicy(input: unknown): RevealPolicy {
  return parseWithSchema(revealPolicySchema, input, 'reveal policy');
}

/** The policy as the short text the CLI and reports use: `labs`, `count` or `threshold:t`. */
export function formatRevealPolicy(policy: RevealPolicy): string {
  return policy.kind === 'threshold' ? `threshold:${policy.t}` : policy.kind;
}

/** The inverse of `formatRevealPolicy`: `labs`, `count` or `threshold:T` (T ≥ 2, decimal). */
export function parseRevealPolicyText(text: string): RevealPolicy {
  const match = /^(labs|count|threshold:([1-9][0-9]{0,3}))$/.exec(text);
  if (!match) {
    throw new ProtocolError(
      'INVALID_MESSAGE',
      `reveal policy must be labs, count or threshold:T, got ${JSON.stringify(text)}`,
    );
  }
  if (match[2] !== undefined) return parseRevealPolicy({ kind: 'threshold', t: Number(match[2]) });
  return parseRevealPolicy({ kind: match[1] });
}
