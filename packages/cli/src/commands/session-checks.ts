/**
 * What `overlap session run` refuses once it has the session's signed terms, before it reads the
 * input or sends anything: terms other than the lab said it expects (`--expect-reveal`,
 * `--expect-kinds`), and a session the relay reports done or aborted (whose state, if any was left
 * here, is erased: it holds an unencrypted session key), unless the relay is done and this lab's
 * resumable state is here: the run then goes on from it to fetch this lab's results. Each refusal
 * is exit 1 and says what differs.
 */
import type { SessionTerms } from '@overlap/client';
import { INDICATOR_KIND_NAMES } from '@overlap/indicators';
import { formatRevealPolicy, parseRevealPolicyText } from '@overlap/protocol';
import { CliError } from '../errors.js';
import { commaList } from '../settings.js';
import { type SessionFiles, settleFinished } from './session-files.js';

/** What the lab expects of the session's terms (`--expect-reveal`, `--expect-kinds`). */
export interface Expectations {
  reveal?: string;
  kinds?: string[];
}

/** `--expect-reveal` and `--expect-kinds`, checked (64). */
export function expectations(flags: { expectReveal?: string; expectKinds?: string }): Expectations {
  const expected: Expectations = {};
  if (flags.expectReveal !== undefined) {
    try {
      expected.reveal = formatRevealPolicy(parseRevealPolicyText(flags.expectReveal));
    } catch (cause) {
      throw new CliError(
        'USAGE',
        `--expect-reveal must be labs, count or threshold:T, got ${JSON.stringify(flags.expectReveal)}`,
        {
          cause,
        },
      );
    }
  }
  if (flags.expectKinds !== undefined) {
    const kinds = [...new Set(commaList(flags.expectKinds))].sort();
    const unknown = kinds.filter((kind) => !(INDICATOR_KIND_NAMES as readonly string[]).includes(kind));
    if (kinds.length === 0 || unknown.length > 0) {
      throw new CliError(
        'USAGE',
        `--expect-kinds must list known kinds (${INDICATOR_KIND_NAMES.join(', ')})${unknown.length > 0 ? `; unknown: ${unknown.join(', ')}` : ''}`,
      );
    }
    expected.kinds = kinds;
  }
  return expected;
}

/** Refuses (1) a session whose signed terms are not the ones the lab said it expects. */
export function checkExpectations(terms: SessionTerms, expected: Expectations): void {
  const differences: string[] = [];
  const reveal = formatRevealPolicy(terms.policy);
  if (expected.reveal !== undefined && expected.reveal !== reveal) {
    differences.push(`its reveal policy is ${reveal}, not ${expected.reveal} (--expect-reveal)`);
  }
  const kinds = [...terms.kinds].sort();
  if (expected.kinds !== undefined && expected.kinds.join(',') !== kinds.join(',')) {
    differences.push(`its kinds are ${kinds.join(', ')}, not ${expected.kinds.join(', ')} (--expect-kinds)`);
  }
  if (differences.length > 0) {
    throw new CliError(
      'FAILURE',
      `session ${terms.session} is not the one this run expects: ${differences.join('; ')}; nothing was sent`,
    );
  }
}

/**
 * Refuses (1) a session the relay reports done or aborted, erasing any state left for it here;
 * answers `resume` for a session done at the relay whose resumable state is here. The relay is done
 * once every lab's proofs are in, before each lab has read its results: a run cut short in between
 * (Ctrl-C, a crash) goes on from its state and fetches them.
 */
export async function refuseFinished(terms: SessionTerms, files: SessionFiles): Promise<'resume' | undefined> {
  const { state, abort } = terms.status;
  if (state !== 'done' && state !== 'aborted') return undefined;
  const left = await settleFinished(files, state);
  if (left === 'resumable') return 'resume';
  const erased = left === 'erased' ? `; the state left for it in ${files.state} was erased` : '';
  if (state === 'aborted') {
    const culprit = abort?.culprit === undefined ? '' : ` (naming ${nameOf(terms, abort.culprit)})`;
    throw new CliError(
      'FAILURE',
      `session ${terms.session} was aborted: ${abort?.reason ?? 'no reason given'}${culprit}; there is nothing to run${erased}`,
    );
  }
  throw new CliError(
    'FAILURE',
    `session ${terms.session} is already done at the relay, and this lab's results are not in ${files.stateDir} ` +
      `(a run with another --state-dir?); it cannot be run again${erased}`,
  );
}

function nameOf(terms: SessionTerms, keyId: string): string {
  return terms.labs.find((lab) => lab.keyId === keyId)?.lab ?? keyId;
}
